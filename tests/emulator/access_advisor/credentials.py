"""IAM's last-used data about principals and credentials, derived from the seeded activity.

- ``RoleLastUsed`` (GetRole, GetAccountAuthorizationDetails): a role's latest activity
  in the 400-day tracking window (botocore IAM model, shape ``RoleLastUsed``).
- ``PasswordLastUsed`` (GetUser, ListUsers): a user's latest console activity.
- ``GetAccessKeyLastUsed``: a key's latest activity.
- ``GenerateCredentialReport`` / ``GetCredentialReport``: IAM User Guide, "Getting
  credential reports for your AWS account".

Only seeded activity counts (control.py), never the requests made to the emulator, like
the access-advisor data. Which credential a user's record used is settled when it is
seeded (``attribute``). See tests/emulator/README.md, "Last used data and credential report".
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Dict, List, Optional, Tuple

from moto.core.responses import ActionResult
from moto.iam.exceptions import IAMException, ReportNotPresentException

from .state import LOCK, STATE, TRACKING_WINDOW

UTC = timezone.utc
# IAM User Guide, credential reports: password use is tracked since October 20, 2014, access
# key use since April 22, 2015; a password used again within 5 minutes, a key within 15
# minutes, only the first use is recorded.
PASSWORD_TRACKING_START = datetime(2014, 10, 20, tzinfo=UTC)
KEY_TRACKING_START = datetime(2015, 4, 22, tzinfo=UTC)
PASSWORD_SPAN = timedelta(minutes=5)
KEY_SPAN = timedelta(minutes=15)
# IAM User Guide, credential reports: a report is reused for four hours, then regenerated.
REPORT_TTL = timedelta(hours=4)
ROOT_NAME = "<root_account>"
NA = "N/A"

COLUMNS = [
    "user", "arn", "user_creation_time", "password_enabled", "password_last_used",
    "password_last_changed", "password_next_rotation", "mfa_active",
    "access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date",
    "access_key_1_last_used_region", "access_key_1_last_used_service",
    "access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
    "access_key_2_last_used_region", "access_key_2_last_used_service",
    "cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated",
]


class ReportInProgress(IAMException):
    code = "ReportInProgress"  # CredentialReportNotReadyException, HTTP 404


class ReportExpired(IAMException):
    code = "ReportExpired"  # CredentialReportExpiredException, HTTP 410


# ------------------------------------------------------------------ attribution
def _iam_user(rec: Dict[str, Any]) -> Any:
    from moto.iam.models import iam_backends

    try:
        return iam_backends[rec["account"]][rec["partition"]].users.get(rec["name"])
    except Exception:  # noqa: BLE001 - unknown partition
        return None


def stamp_unique_ids(records: List[Dict[str, Any]]) -> None:
    """Sets each record's "principal_id": the unique id (UserId, RoleId) of its user or
    role as it is now; None for root, or an entity that does not exist (its records then
    match any entity of its name)."""
    from moto.iam.models import iam_backends

    ids: Dict[Tuple[str, str], Dict[Tuple[str, str], str]] = {}
    for rec in records:
        where = (rec["account"], rec["partition"])
        if where not in ids:
            try:
                backend = iam_backends[where[0]][where[1]]
            except Exception:  # noqa: BLE001 - unknown partition
                ids[where] = {}
            else:
                # moto keys users by name and roles by RoleId
                ids[where] = {("user", u.name): u.id for u in backend.users.values()}
                ids[where].update({("role", r.name): r.id for r in backend.roles.values()})
        rec["principal_id"] = ids[where].get((rec["kind"], rec["name"]))


def belongs_to(rec: Dict[str, Any], entity_id: Optional[str]) -> bool:
    """Whether a record of the entity's kind and name is the entity's own: seeded for
    it (same unique id), or seeded before any entity had the name."""
    seeded_for = rec.get("principal_id")
    return seeded_for is None or entity_id is None or seeded_for == entity_id


def _first_active_key(user: Any) -> Any:
    for key in getattr(user, "access_keys", None) or []:
        if key.status == "Active":
            return key
    return None


def attribute(rec: Dict[str, Any], bad: Callable[[str, str], Exception]) -> None:
    """Settles which credential a seeded record of a user (or root) used, from the user as it
    is now: sets rec["via"] ("console" | "access_key" | None) and rec["access_key_id"].
    Raises bad(field, message) for a credential the user does not have."""
    kind = rec["kind"]
    if kind == "role":
        return
    if kind == "root":
        rec["via"] = "console"
        return
    via, key_id, name = rec["via"], rec["access_key_id"], rec["name"]
    user = _iam_user(rec)
    if key_id is not None:
        if user is None or not any(k.access_key_id == key_id for k in user.access_keys):
            raise bad("access_key_id", f"access key {key_id} is not an access key of user {name}")
        rec["via"] = "access_key"
        return
    if via == "access_key":
        key = _first_active_key(user)
        if key is None:
            raise bad("via", f"user {name} has no active access key; name one with access_key_id")
        rec["access_key_id"] = key.access_key_id
        return
    if via == "console":
        if user is None or not user.password:
            raise bad("via", f"user {name} has no console password (CreateLoginProfile)")
        return
    if user is None:
        return  # unattributed: counts for access advisor only
    key = _first_active_key(user)
    if key is not None:
        rec["via"], rec["access_key_id"] = "access_key", key.access_key_id
    elif user.password:
        rec["via"] = "console"


# ------------------------------------------------------------------------ index
_CACHE: Dict[str, Any] = {}


def _index(account: str) -> Dict[str, Dict[Any, Dict[str, Any]]]:
    """Per account: latest record per role; recorded last use per password and per key."""
    with LOCK:
        version = STATE.version
        cached = _CACHE.get(account)
        if cached is not None and cached[0] == version:
            return cached[1]
        records = STATE.records(account)
    idx: Dict[str, Dict[Any, Dict[str, Any]]] = {"roles": {}, "passwords": {}, "keys": {}}
    for rec in sorted(records, key=lambda r: r["at"]):
        # roles and passwords: per name, then per the unique id the record was seeded for
        if rec["kind"] == "role":
            idx["roles"].setdefault(rec["name"], {})[rec.get("principal_id")] = rec
            continue
        if rec.get("via") == "console" and rec["at"] >= PASSWORD_TRACKING_START:
            table = idx["passwords"].setdefault((rec["kind"], rec["name"]), {})
            key, span = rec.get("principal_id"), PASSWORD_SPAN
        elif rec.get("via") == "access_key" and rec["at"] >= KEY_TRACKING_START:
            table, key, span = idx["keys"], rec["access_key_id"], KEY_SPAN
        else:
            continue
        prev = table.get(key)
        if prev is None or rec["at"] - prev["at"] >= span:
            table[key] = rec
    with LOCK:
        _CACHE[account] = (version, idx)
    return idx


def _own_latest(by_id: Dict[Optional[str], Dict[str, Any]],
                entity_id: Optional[str]) -> Optional[Dict[str, Any]]:
    """Of a name's latest records (one per unique id seeded for), the latest that is the
    entity's own."""
    mine = [rec for rec in by_id.values() if belongs_to(rec, entity_id)]
    return max(mine, key=lambda r: r["at"]) if mine else None


def _lagging(account: str, role_name: str, until: datetime) -> Dict[Optional[str], Dict[str, Any]]:
    """A role's latest record per unique id among those at or before ``until``."""
    with LOCK:
        records = [r for r in STATE.records(account)
                   if r["kind"] == "role" and r["name"] == role_name and r["at"] <= until]
    by_id: Dict[Optional[str], Dict[str, Any]] = {}
    for rec in sorted(records, key=lambda r: r["at"]):
        by_id[rec.get("principal_id")] = rec
    return by_id


def role_last_used(account: str, role_name: str, now: Optional[datetime] = None,
                   role_id: Optional[str] = None) -> Dict[str, Any]:
    now = now or datetime.now(UTC)
    lag = STATE.config.get("role_last_used_lag_seconds") or 0.0
    if lag:
        rec = _own_latest(_lagging(account, role_name, now - timedelta(seconds=lag)), role_id)
    else:
        rec = _own_latest(_index(account)["roles"].get(role_name, {}), role_id)
    if rec is None or rec["at"] < now - TRACKING_WINDOW:
        return {}
    return {"LastUsedDate": rec["at"], "Region": rec["region"]}


def password_last_used(account: str, user_name: str, kind: str = "user",
                       user_id: Optional[str] = None) -> Optional[datetime]:
    rec = _own_latest(_index(account)["passwords"].get((kind, user_name), {}), user_id)
    return rec["at"] if rec else None


def key_last_used(account: str, access_key_id: str) -> Optional[Dict[str, Any]]:
    return _index(account)["keys"].get(access_key_id)


# ------------------------------------------------------------ credential report
def _fmt(dt: datetime) -> str:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _bool(value: Any) -> str:
    return "true" if value else "false"


def _password_changed(user: Any) -> datetime:
    return getattr(user, "_aa_password_changed", None) or user.create_date


def _user_row(backend: Any, account: str, user: Any) -> List[str]:
    if user.password:
        used = password_last_used(account, user.name, user_id=user.id)
        changed = _password_changed(user)
        policy = getattr(backend, "account_password_policy", None)
        max_age = getattr(policy, "max_password_age", None) if policy else None
        row = ["true", _fmt(used) if used else "no_information", _fmt(changed),
               _fmt(changed + timedelta(days=max_age)) if max_age else NA]
    else:
        row = ["false", NA, NA, NA]
    row.append(_bool(len(user.mfa_devices)))
    keys = list(user.access_keys)
    for i in range(2):
        if i < len(keys):
            key = keys[i]
            last = key_last_used(account, key.access_key_id)
            row += [_bool(key.status == "Active"), _fmt(key.create_date)]
            row += [_fmt(last["at"]), last["region"], last["service"]] if last else [NA, NA, NA]
        else:
            row += ["false", NA, NA, NA, NA]
    certs = list(user.signing_certificates.values())
    for i in range(2):
        if i < len(certs):
            row += [_bool(certs[i].status == "Active"), _fmt(certs[i].upload_date)]
        else:
            row += ["false", NA]
    return [user.name, user.arn, _fmt(user.create_date)] + row


def build_report(backend: Any, account: str, partition: str) -> str:
    records = STATE.records(account)
    with LOCK:
        created = min([STATE.epoch] + [r["at"] for r in records])
    root_used = password_last_used(account, ROOT_NAME, "root")
    root = [ROOT_NAME, f"arn:{partition}:iam::{account}:root", _fmt(created), "not_supported",
            _fmt(root_used) if root_used else "no_information", "not_supported", "not_supported",
            "false"] + ["false", NA, NA, NA, NA] * 2 + ["false", NA] * 2
    lines = [",".join(COLUMNS), ",".join(root)]
    lines += [",".join(_user_row(backend, account, u)) for u in list(backend.users.values())]
    return "\n".join(lines)


# ------------------------------------------------------------------- operations
def generate_credential_report(self: Any) -> ActionResult:
    account = self.current_account
    now = datetime.now(UTC).replace(microsecond=0)
    with LOCK:
        report = STATE.reports.get(account)
        if report is not None and now < report["ready"]:
            return ActionResult({"State": "INPROGRESS"})
        if report is not None and now - report["generated"] < REPORT_TTL:
            return ActionResult({"State": "COMPLETE"})
    content = build_report(self.backend, account, self.partition)
    seconds = float(STATE.get_config().get("job_seconds") or 0.0)
    with LOCK:
        STATE.reports[account] = {"generated": now, "ready": now + timedelta(seconds=seconds),
                                  "content": content}
    return ActionResult({"State": "STARTED",
                         "Description": "No report exists. Starting a new report generation task"})


def get_credential_report(self: Any) -> ActionResult:
    now = datetime.now(UTC)
    with LOCK:
        report = STATE.reports.get(self.current_account)
        report = dict(report) if report else None
    if report is None:
        raise ReportNotPresentException("Credential report not present")
    if now < report["ready"]:
        raise ReportInProgress("The credential report is still being generated.")
    if now - report["generated"] >= REPORT_TTL:
        raise ReportExpired("The most recent credential report has expired. To generate a "
                            "new credential report, use GenerateCredentialReport.")
    return ActionResult({"Content": report["content"], "ReportFormat": "text/csv",
                         "GeneratedTime": report["generated"]})


def get_access_key_last_used(self: Any) -> ActionResult:
    key_id = self._get_param("AccessKeyId")
    owner = self.backend.get_access_key_last_used(key_id)  # NoSuchEntity for an unknown key
    rec = key_last_used(self.current_account, key_id)
    if rec is None:
        last: Dict[str, Any] = {"ServiceName": NA, "Region": NA}
    else:
        last = {"LastUsedDate": rec["at"], "ServiceName": rec["service"], "Region": rec["region"]}
    return ActionResult({"UserName": owner["user_name"], "AccessKeyLastUsed": last})


OPERATIONS = {
    "generate_credential_report": generate_credential_report,
    "get_credential_report": get_credential_report,
    "get_access_key_last_used": get_access_key_last_used,
}


def install() -> None:
    from moto.iam.models import IAMBackend, Role, User
    from moto.iam.responses import IamResponse

    for name, func in OPERATIONS.items():
        setattr(IamResponse, name, func)

    # Read by moto's serializer for GetRole / GetAccountAuthorizationDetails (RoleLastUsed)
    # and GetUser / ListUsers (PasswordLastUsed); moto's own tracking of requests (it sets
    # these on every call) is ignored.
    Role.role_last_used = property(  # type: ignore[assignment,method-assign]
        lambda self: role_last_used(self.account_id, self.name, role_id=self.id))
    User.password_last_used = property(  # type: ignore[assignment,method-assign]
        lambda self: password_last_used(self.account_id, self.name, user_id=self.id),
        lambda self, value: None)

    if not getattr(IAMBackend, "_aa_password_changed", False):
        create, update = IAMBackend.create_login_profile, IAMBackend.update_login_profile

        def create_login_profile(self: Any, user_name: str, password: str) -> Any:
            user = create(self, user_name, password)
            user._aa_password_changed = datetime.now(UTC)
            return user

        def update_login_profile(self: Any, user_name: str, password: str,
                                 password_reset_required: bool) -> Any:
            user = update(self, user_name, password, password_reset_required)
            if password:
                user._aa_password_changed = datetime.now(UTC)
            return user

        IAMBackend.create_login_profile = create_login_profile  # type: ignore[method-assign]
        IAMBackend.update_login_profile = update_login_profile  # type: ignore[method-assign]
        IAMBackend._aa_password_changed = True  # type: ignore[attr-defined]
