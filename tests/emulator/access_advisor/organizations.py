"""AWS Organizations in moto 5.2.5, made to behave as AWS Organizations does where a
scan of an organization depends on it (tests/emulator/README.md, "AWS Organizations").

- **Who may call what.** Each Organizations operation's documentation in botocore's model
  says who may call it: "You can only call this operation from the management account."
  / "... from the management account or a member account that is a delegated
  administrator." / "You can call this operation from any account in a organization."
  The classes below are read from those sentences.  A member account calling a
  management-only operation gets ``AccessDeniedException`` "You don't have permissions to
  access this resource."; a delegated administrator's ``Describe*`` / ``List*`` calls are
  answered from the management account's data (moto keeps it there only); an account in
  no organization gets ``AWSOrganizationsNotInUseException``.
- **CreateAccount** leaves the role ``OrganizationAccountAccessRole`` (or ``RoleName``) in
  the new account with administrator permissions, as Organizations does (Organizations
  User Guide, "Accessing a member account that has a management account access role").
- The organization of an account: ``org_of``, ``entity_path``, ``org_paths`` (for the
  condition keys of authz.py and for the access report of org_reports.py).
- ``POST /moto-api/iam-access-advisor/accounts``: a stand-alone account (in no
  organization) with an administrator key, e.g. to own a role outside the organization.
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Optional, Set, Tuple

from .state import LOCK

PREFIX = "/moto-api/iam-access-advisor"
JSON = {"Content-Type": "application/json"}
ACCESS_ROLE = "OrganizationAccountAccessRole"
ADMIN_MANAGED_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"
# CreateAccount's role keeps the inline AdministratorAccess even though the emulator loads
# AWS's managed policies (README, "AWS managed policies"); True attaches the managed one.
ATTACH_MANAGED_ADMINISTRATOR = False
ADMIN_DOCUMENT = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "*", "Resource": "*"}]})
ACCESS_DENIED = "You don't have permissions to access this resource."


# ================================================================ the organization of an account
def org_backend(account: str, partition: str = "aws") -> Any:
    """The management account's OrganizationsBackend of the organization `account` is in
    (the management account or a member), else None."""
    from moto.organizations.models import organizations_backends

    try:
        if account in organizations_backends and organizations_backends[account][partition].org:
            return organizations_backends[account][partition]
        owner = organizations_backends.master_accounts.get(account)
        if owner is None:
            return None
        backend = organizations_backends[owner[0]][owner[1]]
    except Exception:  # noqa: BLE001 - an unknown partition
        return None
    if backend.org is None or not any(a.id == account for a in backend.accounts):
        return None
    return backend


def org_of(account: str, partition: str = "aws") -> Optional[str]:
    """The organization id (o-…) of the account, None outside any organization."""
    backend = org_backend(account, partition)
    return backend.org.id if backend is not None else None


def is_management(account: str, partition: str = "aws") -> bool:
    backend = org_backend(account, partition)
    return backend is not None and backend.account_id == account


def unit(backend: Any, unit_id: str) -> Any:
    return next((u for u in backend.ou if u.id == unit_id), None)


def account_of(backend: Any, account_id: str) -> Any:
    return next((a for a in backend.accounts if a.id == account_id), None)


def units_above(backend: Any, node: Any) -> List[Any]:
    """The root and OUs from the root down to the parent of `node` (an account or OU)."""
    chain: List[Any] = []
    seen: Set[str] = set()
    parent = unit(backend, node.parent_id) if getattr(node, "parent_id", None) else None
    while parent is not None and parent.id not in seen:
        seen.add(parent.id)
        chain.append(parent)
        parent = unit(backend, parent.parent_id) if getattr(parent, "parent_id", None) else None
    return list(reversed(chain))


def entity_path(account: str, partition: str = "aws") -> Optional[str]:
    """IAM's Organizations entity path of an account: o-…/r-…/ou-…/ACCOUNT."""
    backend = org_backend(account, partition)
    acc = account_of(backend, account) if backend is not None else None
    if acc is None:
        return None
    return "/".join([backend.org.id] + [u.id for u in units_above(backend, acc)] + [account])


def org_paths(account: str, partition: str = "aws") -> List[str]:
    """aws:PrincipalOrgPaths / aws:ResourceOrgPaths of an account: ["o-…/r-…/ou-…/"]
    (IAM User Guide, "AWS global condition context keys": the path of the account's parent,
    ending with a slash)."""
    path = entity_path(account, partition)
    if path is None:
        return []
    return [path.rsplit("/", 1)[0] + "/"]


def subtree_accounts(backend: Any, unit_id: str) -> List[Any]:
    """Accounts under a root or OU (any depth)."""
    below: Set[str] = {unit_id}
    grew = True
    while grew:
        grew = False
        for u in backend.ou:
            if getattr(u, "parent_id", None) in below and u.id not in below:
                below.add(u.id)
                grew = True
    return [a for a in backend.accounts if a.parent_id in below]


# ======================================================= who may call which operation (model)
_CLASSES: Optional[Dict[str, str]] = None
# answered without an organization (or from any account of one), as their pages say
OUTSIDE_ANY_ORGANIZATION = {"CreateOrganization", "AcceptHandshake", "DeclineHandshake",
                            "DescribeHandshake", "ListHandshakesForAccount"}
MEMBER_OPERATIONS = {"LeaveOrganization", "AcceptHandshake", "DeclineHandshake",
                     "CancelHandshake"}


def operation_classes() -> Dict[str, str]:
    """operation -> "any" | "delegated" | "management", from the sentences of botocore's
    Organizations model; operations whose page says none of them count as "management"."""
    global _CLASSES
    if _CLASSES is not None:
        return _CLASSES
    import botocore.session

    loader = botocore.session.get_session().get_component("data_loader")
    model = loader.load_service_model("organizations", "service-2")
    out: Dict[str, str] = {}
    for op, spec in model["operations"].items():
        doc = " ".join(re.sub(r"<[^>]+>", " ", spec.get("documentation", "")).split())
        if "You can call this operation from any account in a organization" in doc:
            out[op] = "any"
        elif "from the management account or a member account that is a delegated administrator" in doc:
            out[op] = "delegated"
        else:
            out[op] = "management"
    for op in MEMBER_OPERATIONS:
        out[op] = "any"
    _CLASSES = out
    return out


def is_delegated_administrator(backend: Any, account: str) -> bool:
    return any(admin.account.id == account and admin.services for admin in backend.admins)


def _guard(resp: Any) -> Optional[Any]:
    """None if moto may answer with the caller's own backend, the management account's
    backend for a delegated administrator's read, or raises the refusal."""
    from moto.organizations.exceptions import (AWSOrganizationsNotInUseException,
                                               OrganizationsClientError)

    op = resp._get_action() or ""
    account = resp.current_account
    backend = org_backend(account, resp.partition)
    if backend is None:
        if op in OUTSIDE_ANY_ORGANIZATION:
            return None
        raise AWSOrganizationsNotInUseException()
    if backend.account_id == account:
        return None
    cls = operation_classes().get(op, "management")
    if cls == "any" or op == "CreateOrganization":
        return None  # moto answers these for members (or raises AlreadyInOrganization)
    if cls == "delegated" and op.startswith(("Describe", "List")) and \
            is_delegated_administrator(backend, account):
        return backend
    raise OrganizationsClientError("AccessDeniedException", ACCESS_DENIED)


def _patch_responses() -> None:
    from moto.core.exceptions import ServiceException
    from moto.core.responses import ActionResult
    from moto.organizations.models import organizations_backends
    from moto.organizations.responses import OrganizationsResponse

    if getattr(OrganizationsResponse, "_access_advisor_orgs", False):
        return
    original = OrganizationsResponse.call_action

    def call_action(self: Any) -> Any:
        self._access_advisor_backend = None
        try:
            self._access_advisor_backend = _guard(self)
        except ServiceException as exc:
            status, headers, body = self.serialized(ActionResult(exc))
            headers["status"] = str(status)
            headers, body = self._enrich_response(headers, body)
            return status, headers, body
        return original(self)

    def organizations_backend(self: Any) -> Any:
        override = getattr(self, "_access_advisor_backend", None)
        if override is not None:
            return override
        return organizations_backends[self.current_account][self.partition]

    OrganizationsResponse.call_action = call_action  # type: ignore[method-assign]
    OrganizationsResponse.organizations_backend = property(organizations_backend)  # type: ignore[assignment]
    OrganizationsResponse._access_advisor_orgs = True  # type: ignore[attr-defined]


# ====================================================================== CreateAccount's role
def grant_administrator(account: str, role_name: str, partition: str = "aws") -> str:
    """The access role's permissions: an inline policy AdministratorAccess (Allow * on *);
    with ATTACH_MANAGED_ADMINISTRATOR, AWS's managed AdministratorAccess instead when moto
    has it in that account (iam.load_aws_managed_policies). Returns "managed" or "inline"."""
    from moto.iam.models import iam_backends

    backend = iam_backends[account][partition]
    role = next((r for r in list(backend.roles.values()) if r.name == role_name), None)
    if role is None:
        return ""
    if ATTACH_MANAGED_ADMINISTRATOR and ADMIN_MANAGED_POLICY in backend.managed_policies:
        if ADMIN_MANAGED_POLICY not in role.managed_policies:
            backend.attach_role_policy(ADMIN_MANAGED_POLICY, role_name)
        return "managed"
    if "AdministratorAccess" not in role.policies:
        backend.put_role_policy(role_name, "AdministratorAccess", ADMIN_DOCUMENT)
    return "inline"


def _patch_create_account() -> None:
    from moto.organizations.models import OrganizationsBackend

    if getattr(OrganizationsBackend, "_access_advisor_orgs", False):
        return
    original = OrganizationsBackend.create_account

    def create_account(self: Any, **kwargs: Any) -> Dict[str, Any]:
        result = original(self, **kwargs)
        account = result["CreateAccountStatus"]["AccountId"]
        # moto made the role (trusting arn:aws:iam::MANAGEMENT:root) without permissions
        grant_administrator(account, kwargs.get("RoleName") or ACCESS_ROLE, self.partition)
        return result

    OrganizationsBackend.create_account = create_account  # type: ignore[method-assign]
    OrganizationsBackend._access_advisor_orgs = True  # type: ignore[attr-defined]


# ============================================================ stand-alone accounts (control)
def standalone_account(request: Any, full_url: str, headers: Any) -> Tuple[int, Dict[str, str], str]:
    """POST {"account": "210987654321"} -> the account's administrator key: IAM user
    local-admin (inline policy administrator, Allow * on *) with one access key of its own.
    Any 12-digit account; 123456789012 answers testing/testing. Creating it makes the
    account exist (in no organization): what signing up for an AWS account does."""
    from moto.iam.models import iam_backends

    from . import authz

    def err(status: int, message: str, field: str = "account") -> Tuple[int, Dict[str, str], str]:
        return status, dict(JSON), json.dumps({"error": message, "field": field})

    if request.method != "POST":
        return err(405, "use POST", "method")
    data = request.get_data() if hasattr(request, "get_data") else request.data
    try:
        body = json.loads((data.decode("utf-8") if isinstance(data, bytes) else data) or "null")
    except ValueError:
        return err(400, "body must be JSON", "body")
    account = body.get("account") if isinstance(body, dict) else None
    if not isinstance(account, str) or not re.fullmatch(r"\d{12}", account):
        return err(400, 'body must be {"account": "<12-digit account id>"}')
    with LOCK:
        if account == authz.ACCOUNT:
            authz.ensure_admin(account)
            key_id, secret = authz.ADMIN_KEY_ID, authz.ADMIN_SECRET
        else:
            backend = iam_backends[account]["aws"]
            user = backend.users.get(authz.ADMIN_USER)
            if user is None:
                user = backend.create_user(region_name="us-east-1", user_name=authz.ADMIN_USER, path="/")
            if "administrator" not in user.policies:
                backend.put_user_policy(authz.ADMIN_USER, "administrator", authz.ADMIN_POLICY)
            key = next((k for k in user.access_keys if k.status == "Active"), None)
            if key is None:
                key = backend.create_access_key(authz.ADMIN_USER)
            key_id, secret = key.access_key_id, key.secret_access_key
    return 200, dict(JSON), json.dumps({
        "Account": account, "UserArn": f"arn:aws:iam::{account}:user/{authz.ADMIN_USER}",
        "AccessKeyId": key_id, "SecretAccessKey": secret,
        "Organization": org_of(account)})


# ============================================================================== install
def _patch_reset() -> None:
    from moto.moto_api._internal.models import MotoAPIBackend

    if getattr(MotoAPIBackend, "_access_advisor_orgs_reset", False):
        return
    original_reset = MotoAPIBackend.reset

    def reset(self: Any) -> None:
        from moto.organizations.models import organizations_backends

        original_reset(self)
        # moto's BackendDict reset keeps its member -> management map
        organizations_backends.master_accounts.clear()

    MotoAPIBackend.reset = reset  # type: ignore[method-assign]
    MotoAPIBackend._access_advisor_orgs_reset = True  # type: ignore[attr-defined]


def install() -> None:
    from moto.moto_api._internal import urls

    urls.url_paths["{0}" + PREFIX + "/accounts$"] = standalone_account
    _patch_responses()
    _patch_create_account()
    _patch_reset()
    operation_classes()
