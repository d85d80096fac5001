"""Control endpoints under /moto-api/iam-access-advisor/ and the reset hook."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any, Dict, List, Tuple

from .state import STATE, ConfigError

PREFIX = "/moto-api/iam-access-advisor"
JSON = {"Content-Type": "application/json"}

ENTITY_RE = re.compile(
    r"^arn:[\w-]+:(?:iam|sts)::(\d{12}):(user|role|assumed-role)/(\S+)$"
)
ROOT_RE = re.compile(r"^arn:([\w-]+):iam::(\d{12}):root$")
ACCESS_KEY_ID_RE = re.compile(r"^[\w]{16,128}$")  # accessKeyIdType in botocore's IAM model
VIA = ("console", "access_key")


class BadRecord(ValueError):
    def __init__(self, index: int, field: str, message: str) -> None:
        super().__init__(message)
        self.index = index
        self.field = field


def _error(status: int, message: str, **extra: Any) -> Tuple[int, Dict[str, str], str]:
    return status, dict(JSON), json.dumps({"error": message, **extra})


def _body(request: Any) -> Any:
    data = request.get_data() if hasattr(request, "get_data") else request.data
    if isinstance(data, bytes):
        data = data.decode("utf-8")
    return json.loads(data or "null")


def parse_time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("not a string")
    text = value.strip()
    if text.endswith("Z") or text.endswith("z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def parse_record(index: int, rec: Any) -> Dict[str, Any]:
    if not isinstance(rec, dict):
        raise BadRecord(index, "record", "each activity record must be a JSON object")
    unknown = set(rec) - {"entity", "service", "action", "region", "at", "via", "access_key_id"}
    if unknown:
        raise BadRecord(index, sorted(unknown)[0], f"unknown field {sorted(unknown)[0]}")
    entity = rec.get("entity")
    m = ENTITY_RE.match(entity) if isinstance(entity, str) else None
    root = ROOT_RE.match(entity) if isinstance(entity, str) and not m else None
    if not m and not root:
        raise BadRecord(
            index, "entity",
            "entity must be an IAM user/role ARN, an STS assumed-role ARN or the account's "
            "root ARN arn:aws:iam::ACCOUNT:root",
        )
    if root:
        account, kind, name = root.group(2), "root", "<root_account>"
    else:
        account, kind, rest = m.groups()
        if kind == "assumed-role":
            name = rest.split("/")[0]
            kind = "role"
        else:
            name = rest.split("/")[-1]
    via = rec.get("via")
    if via is not None and via not in VIA:
        raise BadRecord(index, "via", 'via must be "console" or "access_key" when given')
    key_id = rec.get("access_key_id")
    if key_id is not None and (not isinstance(key_id, str) or not ACCESS_KEY_ID_RE.match(key_id)):
        raise BadRecord(index, "access_key_id", "access_key_id must be an access key ID, e.g. AKIA...")
    if kind == "role" and (via is not None or key_id is not None):
        field = "via" if via is not None else "access_key_id"
        raise BadRecord(index, field, "via and access_key_id apply to IAM user (and root) "
                                      "entities only; a role's activity counts for RoleLastUsed")
    if key_id is not None and via == "console":
        raise BadRecord(index, "access_key_id", 'access_key_id goes with via "access_key", not "console"')
    if kind == "root" and (via == "access_key" or key_id is not None):
        field = "via" if via is not None else "access_key_id"
        raise BadRecord(index, field, "the emulator has no root access keys: root activity is "
                                      "console sign-in")
    service = rec.get("service")
    if not isinstance(service, str) or not re.match(r"^[\w-]{1,64}$", service):
        raise BadRecord(index, "service", "service must be a service namespace, e.g. s3")
    action = rec.get("action")
    if action is not None and (not isinstance(action, str) or not action):
        raise BadRecord(index, "action", "action must be a non-empty string when given")
    if action and ":" in action:
        action = action.split(":", 1)[1]
    region = rec.get("region", "us-east-1")
    if not isinstance(region, str) or not region:
        raise BadRecord(index, "region", "region must be a non-empty string")
    if "at" not in rec:
        raise BadRecord(index, "at", "at (ISO-8601 timestamp) is required")
    try:
        at = parse_time(rec["at"])
    except (ValueError, TypeError):
        raise BadRecord(index, "at", "at must be an ISO-8601 timestamp, e.g. 2026-01-01T00:00:00Z")
    return {
        "account": account,
        "kind": kind,
        "name": name,
        "entity": entity,
        "service": service.lower(),
        "action": action,
        "region": region,
        "at": at.replace(microsecond=(at.microsecond // 1000) * 1000),
        "partition": entity.split(":")[1],
        # credential of a user's (root's) record: settled by credentials.attribute() when seeded
        "via": via,
        "access_key_id": key_id,
    }


def _posted_json(request: Any) -> Tuple[Any, Any]:
    """`(body, None)` for a POST with a JSON body; else `(None, the 405 or 400 answer)`."""
    if request.method != "POST":
        return None, _error(405, "use POST")
    try:
        return _body(request), None
    except ValueError:
        return None, _error(400, "body must be JSON", field="body")


def activity(request: Any, full_url: str, headers: Any) -> Tuple[int, Dict[str, str], str]:
    body, refused = _posted_json(request)
    if refused:
        return refused
    if isinstance(body, dict):
        body = [body]
    if not isinstance(body, list):
        return _error(400, "body must be a JSON list of activity records", field="body")
    from .credentials import attribute, stamp_unique_ids

    try:
        records: List[Dict[str, Any]] = [parse_record(i, r) for i, r in enumerate(body)]
        for i, rec in enumerate(records):
            attribute(rec, lambda field, message, i=i: BadRecord(i, field, message))
    except BadRecord as exc:
        return _error(400, f"record {exc.index}: {exc}", field=exc.field, index=exc.index)
    # The activity belongs to the principal as it is now (its unique id): one deleted
    # and re-created under the name starts with none (README).
    stamp_unique_ids(records)
    return 200, dict(JSON), json.dumps({"added": STATE.add_activity(records)})


def age(request: Any, full_url: str, headers: Any) -> Tuple[int, Dict[str, str], str]:
    """`{"days": N}`: every activity record moves N days into the past, so a test can
    watch a last use age (stale) and leave IAM's 400-day window without waiting."""
    body, refused = _posted_json(request)
    if refused:
        return refused
    days = body.get("days") if isinstance(body, dict) else None
    if isinstance(days, bool) or not isinstance(days, (int, float)) or not 0 < days <= 3650:
        return _error(400, "days must be a number of days, 0 < days <= 3650", field="days")
    return 200, dict(JSON), json.dumps({"aged": STATE.age_activity(float(days)), "days": days})


def config(request: Any, full_url: str, headers: Any) -> Tuple[int, Dict[str, str], str]:
    if request.method == "POST":
        try:
            body = _body(request)
        except ValueError:
            return _error(400, "body must be JSON")
        try:
            return 200, dict(JSON), json.dumps(STATE.update_config(body))
        except ConfigError as exc:
            return _error(400, str(exc))
    if request.method == "GET":
        return 200, dict(JSON), json.dumps(STATE.get_config())
    return _error(405, "use GET or POST")


def stats(request: Any, full_url: str, headers: Any) -> Tuple[int, Dict[str, str], str]:
    return 200, dict(JSON), json.dumps(STATE.stats())


def install() -> None:
    from moto.moto_api._internal import urls
    from moto.moto_api._internal.models import MotoAPIBackend

    urls.url_paths["{0}" + PREFIX + "/activity$"] = activity
    urls.url_paths["{0}" + PREFIX + "/config$"] = config
    urls.url_paths["{0}" + PREFIX + "/age$"] = age
    urls.url_paths["{0}" + PREFIX + "/stats$"] = stats

    if not getattr(MotoAPIBackend, "_access_advisor_reset", False):
        original_reset = MotoAPIBackend.reset

        def reset(self: Any) -> None:
            original_reset(self)
            STATE.reset()

        MotoAPIBackend.reset = reset  # type: ignore[method-assign]
        MotoAPIBackend._access_advisor_reset = True  # type: ignore[attr-defined]
