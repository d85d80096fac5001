"""Access-advisor jobs: snapshot computation, status and pagination.

The report is computed as a snapshot when the job is *generated*; the job
then stays IN_PROGRESS until ``job_seconds`` have elapsed, after which it is
COMPLETED (or FAILED if its ARN was in the ``fail`` list at generation time).
"""

from __future__ import annotations

import base64
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional, Tuple

from moto.iam.exceptions import InvalidInput, NoSuchEntity, ValidationError

from . import catalog, policies
from .credentials import belongs_to
from .state import LOCK, STATE


def _latest(records: List[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    return max(records, key=lambda r: r["at"]) if records else None


def compute_snapshot(backend: Any, principal: policies.Principal, granularity: str,
                     account: str, now: datetime) -> Dict[str, Any]:
    grants = policies.principal_grants(backend, principal)
    entities = policies.tracked_entities(backend, principal)
    by_key = {policies.entity_key(e): e for e in entities}
    # A record counts for the entity it was seeded for (same unique id): a principal
    # deleted and re-created under its name starts with no activity (README).
    # Access advisor lags: a record reaches jobs `advisor_lag_seconds` after its time.
    with LOCK:  # one number: no deep copy of the config for every job generated
        lag = STATE.config.get("advisor_lag_seconds", 0.0)
    seen_by = now - timedelta(seconds=lag)
    records = [
        r for r in STATE.activity_for(account, now)
        if r["at"] <= seen_by
        and (r["kind"], r["name"]) in by_key and r["service"] in grants
        and belongs_to(r, getattr(by_key[(r["kind"], r["name"])], "id", None))
    ]
    per_ns: Dict[str, List[Dict[str, Any]]] = {}
    for r in records:
        per_ns.setdefault(r["service"], []).append(r)

    services = []
    entity_last: Dict[str, Dict[Tuple[str, str], datetime]] = {}
    for ns in sorted(grants):
        recs = per_ns.get(ns, [])
        item: Dict[str, Any] = {"ServiceName": catalog.service_name(ns), "ServiceNamespace": ns}
        last = _latest(recs)
        if last:
            ent = by_key[(last["kind"], last["name"])]
            item["LastAuthenticated"] = last["at"]
            item["LastAuthenticatedEntity"] = ent.arn
            item["LastAuthenticatedRegion"] = last["region"]
        item["TotalAuthenticatedEntities"] = len({(r["kind"], r["name"]) for r in recs})
        if granularity == "ACTION_LEVEL" and catalog.is_tracked(ns):
            tracked = []
            for action in policies.allowed_actions(ns, grants[ns]):
                arecs = [r for r in recs if (r.get("action") or "").lower() == action.lower()]
                entry: Dict[str, Any] = {"ActionName": action}
                alast = _latest(arecs)
                if alast:
                    entry["LastAccessedEntity"] = by_key[(alast["kind"], alast["name"])].arn
                    entry["LastAccessedTime"] = alast["at"]
                    entry["LastAccessedRegion"] = alast["region"]
                tracked.append(entry)
            item["TrackedActionsLastAccessed"] = tracked
        services.append(item)
        lasts: Dict[Tuple[str, str], datetime] = {}
        for r in recs:
            key = (r["kind"], r["name"])
            if key not in lasts or r["at"] > lasts[key]:
                lasts[key] = r["at"]
        entity_last[ns] = lasts

    ents = sorted(entities, key=lambda e: (policies.entity_kind(e), e.name))
    return {
        "services": services,
        "entities": [(policies.entity_key(e), policies.entity_info(e)) for e in ents],
        "entity_last": entity_last,
    }


def create_job(backend: Any, principal: policies.Principal, granularity: str,
               account: str, identity: str, session: str) -> str:
    now = datetime.now(timezone.utc)
    cfg = STATE.get_config()
    snapshot = compute_snapshot(backend, principal, granularity, account, now)
    job_id = str(uuid.uuid4())
    job = {
        "id": job_id,
        "account": account,
        "identity": identity,
        "session": session,
        "arn": principal.arn,
        "granularity": granularity,
        "created": now.replace(microsecond=(now.microsecond // 1000) * 1000),
        "job_seconds": cfg["job_seconds"],
        "failed": principal.arn in cfg["fail"],
        **snapshot,
    }
    with LOCK:
        STATE.jobs[job_id] = job
    return job_id


def get_job(job_id: Any, account: str, identity: str, session: str) -> Dict[str, Any]:
    """The job, if this caller may read it: the same identity (role and session name,
    or user) and, with config caller_binding "session", the same access key too."""
    with LOCK:
        job = STATE.jobs.get(job_id) if isinstance(job_id, str) else None
        binding = STATE.config.get("caller_binding", "role_session_name")
    if job is None or job["account"] != account:
        raise NoSuchEntity(f"No such job with ID {job_id}.")
    if job["identity"] != identity:
        raise NoSuchEntity(
            f"Job {job_id} was created by another identity and can only be read by "
            f"the identity that generated it."
        )
    if binding == "session" and job["session"] != session:
        raise NoSuchEntity(
            f"Job {job_id} was created in another session and can only be read in "
            f"the session that generated it."
        )
    return job


def status(job: Dict[str, Any]) -> Tuple[str, Optional[datetime]]:
    done_at = job["created"] + timedelta(seconds=job["job_seconds"])
    if datetime.now(timezone.utc) < done_at:
        return "IN_PROGRESS", None
    return ("FAILED" if job["failed"] else "COMPLETED"), done_at


def header(job: Dict[str, Any]) -> Tuple[str, Dict[str, Any]]:
    st, done_at = status(job)
    out: Dict[str, Any] = {"JobStatus": st, "JobCreationDate": job["created"]}
    if done_at is not None:
        out["JobCompletionDate"] = done_at
    if st == "FAILED":
        out["Error"] = {
            "Code": "FAILED",
            "Message": f"Report generation failed for {job['arn']} (injected failure).",
        }
    return st, out


# ------------------------------------------------------------------ pagination
def check_max_items(value: Any) -> int:
    if value is None:
        return 100
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise ValidationError(f"Invalid value {value!r} for MaxItems.")
    if n < 1 or n > 1000:
        raise ValidationError(
            f"1 validation error detected: Value '{n}' at 'maxItems' failed to satisfy "
            "constraint: Member must have value "
            + ("greater than or equal to 1" if n < 1 else "less than or equal to 1000")
        )
    return n


def make_marker(context: str, offset: int) -> str:
    raw = f"{context}|{offset}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def read_marker(marker: Any, context: str) -> int:
    if marker is None:
        return 0
    try:
        padded = marker + "=" * (-len(marker) % 4)
        ctx, off = base64.urlsafe_b64decode(padded.encode()).decode().rsplit("|", 1)
        offset = int(off)
    except Exception:
        raise InvalidInput(f"Invalid Marker: {marker}")
    if ctx != context or offset < 0:
        raise InvalidInput(f"Invalid Marker: {marker}")
    return offset


def paginate(items: List[Any], max_items: int, marker: Any, context: str) -> Tuple[List[Any], Dict[str, Any]]:
    offset = read_marker(marker, context)
    if offset > len(items):
        raise InvalidInput(f"Invalid Marker: {marker}")
    page = items[offset: offset + max_items]
    end = offset + len(page)
    if end < len(items):
        return page, {"IsTruncated": True, "Marker": make_marker(context, end)}
    return page, {"IsTruncated": False}


def entity_details(job: Dict[str, Any], namespace: str) -> List[Dict[str, Any]]:
    lasts = job["entity_last"].get(namespace.lower(), {})
    out = []
    for key, info in job["entities"]:
        item: Dict[str, Any] = {"EntityInfo": dict(info)}
        if key in lasts:
            item["LastAuthenticated"] = lasts[key]
        out.append(item)
    # entities that used the service first, then the others (each by type, name)
    out.sort(key=lambda d: d.get("LastAuthenticated") is None)
    return out
