"""IAM's access report for AWS Organizations: GenerateOrganizationsAccessReport and
GetOrganizationsAccessReport (botocore's IAM model; IAM User Guide, "View last accessed
information for Organizations" and "Refine permissions using last accessed information").

The report is a snapshot computed when it is generated, from the seeded activity of the
accounts under the entity path (400-day window) and the service control policies of
moto's Organizations backend.  Documented in tests/emulator/README.md, "IAM access report
for Organizations".
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, Iterable, List, Optional, Set, Tuple

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.iam.exceptions import InvalidInput, NoSuchEntity, ValidationError

from . import catalog, jobs, organizations
from .state import DEFAULT_MAX_PENDING_ORG_REPORTS, LOCK, STATE

# botocore IAM model: organizationsEntityPathType, organizationsPolicyIdType, sortKeyType
ENTITY_PATH_RE = re.compile(r"^o-[0-9a-z]{10,32}\/r-[0-9a-z]{4,32}[0-9a-z-\/]*")
POLICY_ID_RE = re.compile(r"^p-[0-9a-zA-Z_]{8,128}$")
SORT_KEYS = ("SERVICE_NAMESPACE_ASCENDING", "SERVICE_NAMESPACE_DESCENDING",
             "LAST_AUTHENTICATED_TIME_ASCENDING", "LAST_AUTHENTICATED_TIME_DESCENDING")
# IAM User Guide, "Refine permissions using last accessed information": the Organizations
# actions the caller needs besides iam:GenerateOrganizationsAccessReport (AWS API / CLI).
DEPENDENT_ACTIONS = ("organizations:DescribePolicy", "organizations:ListChildren",
                     "organizations:ListParents", "organizations:ListPoliciesForTarget",
                     "organizations:ListRoots", "organizations:ListTargetsForPolicy")


class ReportGenerationLimitExceeded(ServiceException):
    """Model shape ReportGenerationLimitExceededException (HTTP 409)."""
    code = "ReportGenerationLimitExceeded"
    message = ("The request failed because the maximum number of concurrent requests for "
               "this account are already running.")


# ======================================================================== SCP evaluation
def _statements(content: Any) -> List[Dict[str, Any]]:
    from .policies import load_document

    doc = load_document(content)
    sts = doc.get("Statement", [])
    return [s for s in (sts if isinstance(sts, list) else [sts]) if isinstance(s, dict)]


def _patterns(value: Any) -> List[str]:
    values = value if isinstance(value, list) else [value]
    return [v.strip() for v in values if isinstance(v, str)]


def _split(pattern: str) -> Tuple[str, str]:
    if pattern == "*":
        return "*", "*"
    svc, _, act = pattern.partition(":")
    return svc.lower(), (act or "*")


def _services_of(pattern: str, universe: Iterable[str]) -> Set[str]:
    from .authz import _glob

    svc, _ = _split(pattern)
    return {ns for ns in universe if _glob(svc, ns)}


def _whole_service(pattern: str) -> bool:
    """The pattern names every action of the services it matches (`*`, `s3:*`)."""
    _, act = _split(pattern)
    return act.strip("*") == "" and "*" in act


def scp_services(content: Any, universe: Set[str]) -> Tuple[Set[str], Set[str]]:
    """(services some Allow statement of the SCP allows at least one action of, services a
    Deny statement without Condition denies entirely).  Resources are not looked at."""
    allowed: Set[str] = set()
    denied: Set[str] = set()
    for st in _statements(content):
        effect = st.get("Effect")
        if "Action" in st:
            pats = _patterns(st["Action"])
            matched = set().union(*(_services_of(p, universe) for p in pats)) if pats else set()
            whole = set().union(*(_services_of(p, universe) for p in pats if _whole_service(p))) \
                if pats else set()
        elif "NotAction" in st:
            pats = _patterns(st["NotAction"])
            named = set().union(*(_services_of(p, universe) for p in pats)) if pats else set()
            fully_excluded = set().union(*(_services_of(p, universe) for p in pats
                                          if _whole_service(p))) if pats else set()
            matched = universe - fully_excluded   # some action of these is not excluded
            whole = universe - named              # none of their actions is excluded
        else:
            continue
        if effect == "Allow":
            allowed |= matched
        elif effect == "Deny" and not st.get("Condition"):
            resource = st.get("Resource", "*")
            if resource == "*" or resource == ["*"]:
                denied |= whole
    return allowed, denied


def allowed_by(levels: List[List[Any]], universe: Set[str]) -> Set[str]:
    """Services allowed by SCPs attached level by level (root, OUs, account): at every
    level some attached SCP allows the service, and no SCP denies it entirely (IAM User
    Guide, "Policy evaluation logic": SCPs at each level of the hierarchy)."""
    result = set(universe)
    denied: Set[str] = set()
    for policies in levels:
        level_allowed: Set[str] = set()
        for content in policies:
            allows, denies = scp_services(content, universe)
            level_allowed |= allows
            denied |= denies
        result &= level_allowed
    return result - denied


def _scps(node: Any) -> List[Any]:
    return [p.content for p in getattr(node, "attached_policies", [])
            if p.type == "SERVICE_CONTROL_POLICY"]


def _applies(policy: Any, backend: Any, account: Any) -> bool:
    """The SCP is attached to the account or to one of the units above it."""
    nodes = organizations.units_above(backend, account) + [account]
    return any(policy in getattr(n, "attached_policies", []) for n in nodes)


# ============================================================================ the report
def resolve(backend: Any, path: str) -> Tuple[str, Any, List[Any]]:
    """(kind "root" | "ou" | "account", the node, the units from the root down to it)."""
    bad = InvalidInput(f"Entity path {path} does not name the root, an organizational unit "
                       f"or an account of organization {backend.org.id}.")
    parts = path.rstrip("/").split("/")
    if len(parts) < 2 or parts[0] != backend.org.id:
        raise bad
    root = organizations.unit(backend, parts[1])
    if root is None or getattr(root, "type", "") != "ROOT":
        raise bad
    chain = [root]
    for i, part in enumerate(parts[2:], start=2):
        last = i == len(parts) - 1
        if re.fullmatch(r"\d{12}", part) and last:
            account = organizations.account_of(backend, part)
            if account is None or account.parent_id != chain[-1].id:
                raise bad
            return "account", account, chain
        ou = organizations.unit(backend, part)
        if ou is None or getattr(ou, "type", "") == "ROOT" or ou.parent_id != chain[-1].id:
            raise bad
        chain.append(ou)
    return ("root" if len(chain) == 1 else "ou"), chain[-1], chain


def compute(backend: Any, path: str, policy_id: Optional[str], now: datetime) -> Dict[str, Any]:
    kind, node, chain = resolve(backend, path)
    universe = set(catalog.namespaces())
    management = backend.account_id
    policy = None
    if policy_id is not None:
        policy = next((p for p in backend.policies if p.id == policy_id), None)
        if policy is None or policy.type != "SERVICE_CONTROL_POLICY":
            raise InvalidInput(f"The service control policy {policy_id} does not exist in "
                               f"organization {backend.org.id}.")
    if kind == "account" and node.id == management:
        # the management account is not limited by SCPs: every service, its own data;
        # a policy ID is ignored
        accounts, allowed = [node], universe
    else:
        if kind == "account":
            accounts = [node]
        else:
            accounts = [a for a in organizations.subtree_accounts(backend, node.id)
                        if a.id != management]
        if policy is not None:
            allowed = allowed_by([[policy.content]], universe)
            accounts = [a for a in accounts if _applies(policy, backend, a)]
        else:
            levels = [_scps(u) for u in chain] + ([_scps(node)] if kind == "account" else [])
            allowed = allowed_by(levels, universe)
    latest: Dict[str, Tuple[datetime, str, str]] = {}  # ns -> (at, region, account)
    users: Dict[str, Set[str]] = {}                   # ns -> accounts that used it
    for account in accounts:
        for rec in STATE.activity_for(account.id, now):
            ns = rec["service"]
            if ns not in allowed:
                continue
            users.setdefault(ns, set()).add(account.id)
            if ns not in latest or rec["at"] > latest[ns][0]:
                latest[ns] = (rec["at"], rec["region"], account.id)
    details = []
    for ns in sorted(allowed):
        item: Dict[str, Any] = {"ServiceName": catalog.service_name(ns), "ServiceNamespace": ns}
        if ns in latest:
            at, region, account_id = latest[ns]
            item["Region"] = region
            item["EntityPath"] = organizations.entity_path(account_id) or account_id
            item["LastAuthenticatedTime"] = at
        item["TotalAuthenticatedEntities"] = len(users.get(ns, ()))
        details.append(item)
    return {"details": details, "accessible": len(allowed),
            "not_accessed": sum(1 for d in details if "LastAuthenticatedTime" not in d)}


def _status(job: Dict[str, Any], now: Optional[datetime] = None) -> Tuple[str, Optional[datetime]]:
    done_at = job["created"] + timedelta(seconds=job["job_seconds"])
    if (now or datetime.now(timezone.utc)) < done_at:
        return "IN_PROGRESS", None
    return ("FAILED" if job["failed"] else "COMPLETED"), done_at


def _sorted(details: List[Dict[str, Any]], key: str) -> List[Dict[str, Any]]:
    by_ns = sorted(details, key=lambda d: d["ServiceNamespace"])
    if key == "SERVICE_NAMESPACE_DESCENDING":
        return list(reversed(by_ns))
    if key.startswith("LAST_AUTHENTICATED_TIME"):
        used = [d for d in by_ns if "LastAuthenticatedTime" in d]
        unused = [d for d in by_ns if "LastAuthenticatedTime" not in d]
        used.sort(key=lambda d: d["LastAuthenticatedTime"],
                  reverse=key.endswith("DESCENDING"))
        return used + unused  # never accessed last, by namespace
    return by_ns


# ===================================================================== the IAM operations
def report_arn(partition: str, account: str, path: str) -> str:
    """Service Authorization Reference, IAM resource type access-report."""
    return f"arn:{partition}:iam::{account}:access-report/{path}"


def _identity(resp: Any) -> str:
    from .operations import caller_identity

    return caller_identity(resp.access_key, resp.current_account)


def generate_organizations_access_report(self: Any) -> ActionResult:
    from . import authz

    path = self._get_param("EntityPath")
    policy_id = self._get_param("OrganizationsPolicyId")
    if not isinstance(path, str) or not 19 <= len(path) <= 427 or not ENTITY_PATH_RE.match(path):
        raise ValidationError(
            f"1 validation error detected: Value '{path}' at 'entityPath' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: "
            r"^o-[0-9a-z]{10,32}\/r-[0-9a-z]{4,32}[0-9a-z-\/]*")
    if policy_id is not None and (not isinstance(policy_id, str) or not POLICY_ID_RE.match(policy_id)):
        raise ValidationError(
            f"1 validation error detected: Value '{policy_id}' at 'organizationsPolicyId' "
            "failed to satisfy constraint: Member must satisfy regular expression pattern: "
            r"^p-[0-9a-zA-Z_]{8,128}$")
    account = self.current_account
    backend = organizations.org_backend(account, self.partition)
    if backend is None or backend.account_id != account:
        caller = authz.current_caller()
        raise authz.iam_access_denied(authz.deny_message(
            caller.arn if caller else _identity(self), "iam:GenerateOrganizationsAccessReport",
            report_arn(self.partition, account, path),
            "because the account is not the management account of an organization"))
    now = datetime.now(timezone.utc)
    cfg = STATE.get_config()
    limit = cfg.get("max_pending_org_reports", DEFAULT_MAX_PENDING_ORG_REPORTS)
    with LOCK:
        pending = sum(1 for j in STATE.org_jobs.values()
                      if j["account"] == account and _status(j, now)[0] == "IN_PROGRESS")
        if pending >= limit:
            raise ReportGenerationLimitExceeded()
        snapshot = compute(backend, path, policy_id, now)
        job_id = str(uuid.uuid4())
        STATE.org_jobs[job_id] = {
            "id": job_id, "account": account, "identity": _identity(self),
            "path": path, "policy_id": policy_id,
            "created": now.replace(microsecond=(now.microsecond // 1000) * 1000),
            "job_seconds": cfg["job_seconds"],
            "failed": path in cfg["fail"] or path.rstrip("/") in cfg["fail"],
            **snapshot,
        }
    return ActionResult({"JobId": job_id})


def get_organizations_access_report(self: Any) -> ActionResult:
    job_id = self._get_param("JobId")
    max_items = jobs.check_max_items(self._get_param("MaxItems"))
    marker = self._get_param("Marker")
    sort_key = self._get_param("SortKey") or "SERVICE_NAMESPACE_ASCENDING"
    if sort_key not in SORT_KEYS:
        raise ValidationError(
            f"1 validation error detected: Value '{sort_key}' at 'sortKey' failed to satisfy "
            "constraint: Member must satisfy enum value set: [" + ", ".join(SORT_KEYS) + "]")
    with LOCK:
        job = STATE.org_jobs.get(job_id) if isinstance(job_id, str) else None
    if job is None or job["account"] != self.current_account:
        raise NoSuchEntity(f"No such job with ID {job_id}.")
    if job["identity"] != _identity(self):
        raise NoSuchEntity(f"Job {job_id} was created by another identity and can only be "
                           "read by the identity that generated it.")
    status, done_at = _status(job)
    result: Dict[str, Any] = {"JobStatus": status, "JobCreationDate": job["created"]}
    if done_at is not None:
        result["JobCompletionDate"] = done_at
    if status == "FAILED":
        result["ErrorDetails"] = {"Code": "FAILED", "Message":
                                  f"Report generation failed for {job['path']} (injected failure)."}
    if status != "COMPLETED":
        result["IsTruncated"] = False
        return ActionResult(result)
    result["NumberOfServicesAccessible"] = job["accessible"]
    result["NumberOfServicesNotAccessed"] = job["not_accessed"]
    page, pag = jobs.paginate(_sorted(job["details"], sort_key), max_items, marker,
                              f"O:{job['id']}:{sort_key}")
    result["AccessDetails"] = page
    result.update(pag)
    return ActionResult(result)


OPERATIONS = {
    "generate_organizations_access_report": generate_organizations_access_report,
    "get_organizations_access_report": get_organizations_access_report,
}


def install() -> None:
    from moto.iam.responses import IamResponse

    for name, func in OPERATIONS.items():
        setattr(IamResponse, name, func)
