"""The four access-advisor operations, attached to moto's IamResponse."""

from __future__ import annotations

from typing import Any, List

from moto.core.responses import ActionResult
from moto.iam.exceptions import InvalidInput, ValidationError

from . import jobs, policies

GRANULARITIES = ("SERVICE_LEVEL", "ACTION_LEVEL")


def caller_identity(access_key: str, account_id: str) -> str:
    """The identity a JobId is bound to, derived from the request's access key."""
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    if access_key and access_key.startswith("ASIA"):
        for _, by_partition in list(sts_backends.items()):
            for _, backend in list(by_partition.items()):
                role = backend.get_assumed_role_from_access_key(access_key)
                if role is not None:
                    return role.arn
    for _, by_partition in list(iam_backends.items()):
        for _, backend in list(by_partition.items()):
            key = backend.access_keys.get(access_key)
            if key is not None and key.user_name:
                user = backend.users.get(key.user_name)
                if user is not None:
                    return user.arn
    return f"arn:aws:iam::{account_id}:root"


def _identity(resp: Any) -> str:
    return caller_identity(resp.access_key, resp.current_account)


def generate_service_last_accessed_details(self: Any) -> ActionResult:
    arn = self._get_param("Arn")
    # --- config "deny" (authz.py): IAM's answer when an SCP denies the call for this ARN
    from . import authz
    from .state import STATE

    if isinstance(arn, str) and arn in STATE.get_config().get("deny", []):
        caller = authz.current_caller()
        raise authz.iam_access_denied(authz.deny_message(
            caller.arn if caller else _identity(self),
            "iam:GenerateServiceLastAccessedDetails", arn,
            "with an explicit deny in a service control policy"))
    # --- end of the deny check
    granularity = self._get_param("Granularity") or "SERVICE_LEVEL"
    if granularity not in GRANULARITIES:
        raise ValidationError(
            f"1 validation error detected: Value '{granularity}' at 'granularity' failed to "
            "satisfy constraint: Member must satisfy enum value set: [SERVICE_LEVEL, ACTION_LEVEL]"
        )
    principal = policies.resolve(
        self.backend, arn, self.current_account, ("user", "role", "group", "policy")
    )
    job_id = jobs.create_job(
        self.backend, principal, granularity, self.current_account, _identity(self),
        self.access_key,
    )
    return ActionResult({"JobId": job_id})


def get_service_last_accessed_details(self: Any) -> ActionResult:
    job_id = self._get_param("JobId")
    max_items = jobs.check_max_items(self._get_param("MaxItems"))
    marker = self._get_param("Marker")
    job = jobs.get_job(job_id, self.current_account, _identity(self), self.access_key)
    status, result = jobs.header(job)
    result["JobType"] = job["granularity"]
    items = job["services"] if status == "COMPLETED" else []
    page, pag = jobs.paginate(items, max_items, marker, f"S:{job['id']}")
    result["ServicesLastAccessed"] = page
    result.update(pag)
    return ActionResult(result)


def get_service_last_accessed_details_with_entities(self: Any) -> ActionResult:
    job_id = self._get_param("JobId")
    namespace = self._get_param("ServiceNamespace")
    max_items = jobs.check_max_items(self._get_param("MaxItems"))
    marker = self._get_param("Marker")
    if not namespace:
        raise InvalidInput("ServiceNamespace is required.")
    job = jobs.get_job(job_id, self.current_account, _identity(self), self.access_key)
    status, result = jobs.header(job)
    items = jobs.entity_details(job, namespace) if status == "COMPLETED" else []
    page, pag = jobs.paginate(items, max_items, marker, f"E:{job['id']}:{namespace.lower()}")
    result["EntityDetailsList"] = page
    result.update(pag)
    return ActionResult(result)


def list_policies_granting_service_access(self: Any) -> ActionResult:
    arn = self._get_param("Arn")
    namespaces: List[str] = self._get_param("ServiceNamespaces") or []
    marker = self._get_param("Marker")
    if not isinstance(namespaces, list) or len(namespaces) < 1 or len(namespaces) > 200:
        count = len(namespaces) if isinstance(namespaces, list) else 0
        raise ValidationError(
            f"1 validation error detected: Value with {count} elements at 'serviceNamespaces' "
            "failed to satisfy constraint: Member must have length "
            + ("greater than or equal to 1" if count < 1 else "less than or equal to 200")
        )
    for ns in namespaces:
        if not isinstance(ns, str) or not ns or len(ns) > 64:
            raise InvalidInput(f"Service namespace {ns!r} is not valid.")
    principal = policies.resolve(
        self.backend, arn, self.current_account, ("user", "role", "group")
    )
    entries = policies.match_namespaces(self.backend, principal, namespaces)
    # No MaxItems for this operation: everything fits in one page; a marker is
    # only accepted if it is one this emulator could have produced.
    page, pag = jobs.paginate(entries, max(1, len(entries)), marker, f"P:{arn}")
    return ActionResult({"PoliciesGrantingServiceAccess": page, **pag})


OPERATIONS = {
    "generate_service_last_accessed_details": generate_service_last_accessed_details,
    "get_service_last_accessed_details": get_service_last_accessed_details,
    "get_service_last_accessed_details_with_entities": get_service_last_accessed_details_with_entities,
    "list_policies_granting_service_access": list_policies_granting_service_access,
}


def install() -> None:
    from moto.iam import models
    from moto.iam.responses import IamResponse

    for name, func in OPERATIONS.items():
        setattr(IamResponse, name, func)
    # GetAccountAuthorizationDetails' ManagedPolicyDetail has PolicyName and PolicyId
    # (botocore's IAM model); moto's serializer looks them up by these attribute names.
    if not hasattr(models.Policy, "policy_name"):
        models.Policy.policy_name = property(lambda self: self.name)  # type: ignore[attr-defined]
        models.Policy.policy_id = property(lambda self: self.id)  # type: ignore[attr-defined]
