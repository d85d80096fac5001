"""IAM enforcement: every request signed and authorized against the caller's policies.

Off unless ``enable()`` is called (server.py ``--enforce-iam`` or env
``EMULATOR_ENFORCE_IAM=1``).  With enforcement on, every request to moto (not the
``/moto-api/`` control endpoints) goes through ``check_request`` before moto sees it:

1. **SigV4** (AWS General Reference, "Signature Version 4 signing process"): the
   Authorization header (or presigned query) is recomputed from the raw request with
   the secret of the access key it names.  Keys are IAM user keys of moto's IAM backend
   (``local-admin``'s ``testing``/``testing`` among them) or sessions of moto's STS
   backend (with their ``X-Amz-Security-Token``).
2. **Authorization** (IAM User Guide, "Policy evaluation logic", identity-based
   policies only): the action (``service:Action``, case-insensitive, wildcards) and the
   resource ARN(s) are derived per request (``resources_for``), then the caller's
   inline and attached managed policies (a user's groups' too; a session's role's) are
   evaluated: an explicit Deny wins, else an Allow is needed.  ``sts:AssumeRole`` also
   needs the role's trust policy ("AWS" principals).
3. A refusal is answered in the service's own error shape with AWS's message
   ("Access denied error messages" in the IAM User Guide).

moto's own ``INITIAL_NO_AUTH_ACTION_COUNT`` mechanism is left off: it authorizes
against resource ``*`` only.  Everything is documented in tests/emulator/README.md,
section "IAM enforcement".
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import io
import ipaddress
import json
import logging
import os
import re
import sys
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, Iterable, List, Optional, Tuple
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from .state import LOCK

log = logging.getLogger("access_advisor.authz")

ACCOUNT = "123456789012"
ADMIN_USER = "local-admin"
ADMIN_KEY_ID = "testing"
ADMIN_SECRET = "testing"
ADMIN_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Sid": "Administrator", "Effect": "Allow", "Action": "*", "Resource": "*"}]})
PREFIX = "/moto-api/iam-access-advisor"
JSON_HEADERS = {"Content-Type": "application/json"}

MAX_SKEW = timedelta(minutes=15)
SESSION_SECONDS = 3600
# a cached service session is handed out again while it has this much life left
SESSION_REUSE_MARGIN = timedelta(minutes=15)
MAX_DENIED_RECORDS = 1000
MAX_RESOURCES_PER_ACTION = 100

ENFORCED = False
_local = threading.local()


def enable() -> None:
    """Switch enforcement on (before the server serves its first request)."""
    global ENFORCED
    ENFORCED = True
    ensure_admin()


def env_enabled() -> bool:
    return os.environ.get("EMULATOR_ENFORCE_IAM", "").strip().lower() in ("1", "true", "yes", "on")


# =============================================================================== state
class _Usage:
    def __init__(self) -> None:
        self.allowed: Dict[str, Dict[str, int]] = {}
        self.resources: Dict[str, Dict[str, List[str]]] = {}
        self.denied: List[Dict[str, str]] = []
        # access key id -> Caller of an STS session (moto finds sessions by a linear scan)
        self.callers: Dict[str, "Caller"] = {}
        # (service principal, role arn, session name) -> moto AssumedRole
        self.service_sessions: Dict[Tuple[str, str, str], Any] = {}

    def record_allowed(self, principal: str, action: str, resource: str) -> None:
        with LOCK:
            per = self.allowed.setdefault(principal, {})
            per[action] = per.get(action, 0) + 1
            res = self.resources.setdefault(principal, {}).setdefault(action, [])
            if resource not in res and len(res) < MAX_RESOURCES_PER_ACTION:
                res.append(resource)

    def record_denied(self, principal: str, action: str, resource: str, message: str) -> None:
        with LOCK:
            if len(self.denied) < MAX_DENIED_RECORDS:
                self.denied.append({"principal": principal, "action": action,
                                    "resource": resource, "message": message})

    def snapshot(self) -> Dict[str, Any]:
        with LOCK:
            return {
                "enforced": ENFORCED,
                "allowed": {p: dict(a) for p, a in self.allowed.items()},
                "resources": {p: {a: list(r) for a, r in per.items()}
                              for p, per in self.resources.items()},
                "denied": [dict(d) for d in self.denied],
            }


USAGE = _Usage()


def reset_usage() -> None:
    global USAGE
    with LOCK:
        USAGE = _Usage()


# ======================================================================= administrator
def ensure_admin(account_id: str = ACCOUNT) -> None:
    """IAM user local-admin (Allow * on *) whose access key is testing/testing."""
    from moto.iam.models import iam_backends

    backend = iam_backends[account_id]["aws"]
    with LOCK:
        user = backend.users.get(ADMIN_USER)
        if user is None:
            user = backend.create_user(region_name="us-east-1", user_name=ADMIN_USER, path="/")
        if "administrator" not in user.policies:
            backend.put_user_policy(ADMIN_USER, "administrator", ADMIN_POLICY)
        key = backend.access_keys.get(ADMIN_KEY_ID)
        if key is None:
            key = backend.create_access_key(ADMIN_USER)
            backend.access_keys.pop(key.access_key_id, None)
            key.access_key_id = ADMIN_KEY_ID
            key.secret_access_key = ADMIN_SECRET
            backend.access_keys[ADMIN_KEY_ID] = key


# ============================================================================= callers
@dataclass
class Caller:
    arn: str            # as AWS names it in messages: user ARN or assumed-role session ARN
    principal_arn: str  # user ARN, or the role ARN (with path) of a session
    kind: str           # "user" | "role" | "service"
    name: str           # user name, role name, or service principal
    account: str
    partition: str
    secret: str = ""
    token: Optional[str] = None
    expiration: Optional[datetime] = None
    user_id: str = ""


class AuthError(Exception):
    """A request refused before authorization: bad or unknown credentials."""

    def __init__(self, kind: str, message: str = "") -> None:
        super().__init__(message or kind)
        self.kind = kind  # MissingAuthenticationToken | InvalidClientTokenId | InvalidToken |
        #                   ExpiredToken | SignatureDoesNotMatch | RequestTimeTooSkewed
        self.message = message


def _naive_utc(dt: datetime) -> datetime:
    return dt.astimezone(timezone.utc).replace(tzinfo=None) if dt.tzinfo else dt


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _role_arn_of_session(assumed: Any) -> str:
    """The role's real ARN (with its path) if the role exists, else the ARN assumed."""
    from moto.iam.models import iam_backends

    try:
        return iam_backends[assumed.account_id][assumed.partition].get_role_by_arn(assumed.role_arn).arn
    except Exception:  # noqa: BLE001 - the role may be gone
        return assumed.role_arn


def _caller_from_session(assumed: Any) -> Caller:
    role_arn = _role_arn_of_session(assumed)
    return Caller(
        arn=assumed.arn, principal_arn=role_arn, kind="role",
        name=assumed.role_arn.split("/")[-1], account=assumed.account_id,
        partition=assumed.partition, secret=assumed.secret_access_key,
        token=assumed.session_token, expiration=_naive_utc(assumed.expiration),
        user_id=f"{_safe_user_id(assumed)}",
    )


def _safe_user_id(assumed: Any) -> str:
    try:
        return assumed.user_id
    except Exception:  # noqa: BLE001
        return ""


def find_caller(access_key_id: str) -> Optional[Caller]:
    """The identity an access key belongs to: an IAM user key or an STS session."""
    with LOCK:
        cached = USAGE.callers.get(access_key_id)
    if cached is not None:
        return cached
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    found: Optional[Caller] = None
    for account_id, by_partition in list(iam_backends.items()):
        for partition, backend in list(by_partition.items()):
            key = backend.access_keys.get(access_key_id)
            if key is None or not key.user_name:
                continue
            user = backend.users.get(key.user_name)
            if user is None or key.status != "Active":
                continue
            found = Caller(arn=user.arn, principal_arn=user.arn, kind="user", name=user.name,
                           account=account_id, partition=partition,
                           secret=key.secret_access_key, user_id=getattr(user, "id", ""))
            break
        if found:
            break
    if found is None:
        for _, by_partition in list(sts_backends.items()):
            for _, backend in list(by_partition.items()):
                assumed = backend.get_assumed_role_from_access_key(access_key_id)
                if assumed is not None:
                    found = _caller_from_session(assumed)
                    break
            if found:
                break
    if found is not None and found.kind == "role":  # user keys are a dict lookup anyway
        with LOCK:
            USAGE.callers[access_key_id] = found
    return found


# ============================================================================== SigV4
def _header(environ: Dict[str, Any], name: str) -> Optional[str]:
    key = name.upper().replace("-", "_")
    if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        key = "HTTP_" + key
    return environ.get(key)


def _raw_path_and_query(environ: Dict[str, Any]) -> Tuple[str, str]:
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        if "://" in raw.split("?", 1)[0]:
            parts = urlsplit(raw)
            return parts.path or "/", parts.query
        path, _, query = raw.partition("?")
        return path or "/", query
    return quote(environ.get("PATH_INFO", "/") or "/", safe="/~!$&'()*+,;=:@%"), environ.get("QUERY_STRING", "")


def _canonical_query(query: str, drop: Iterable[str] = ()) -> str:
    pairs = []
    for part in query.split("&") if query else []:
        if not part:
            continue
        key, _, value = part.partition("=")
        key = quote(unquote(key), safe="-_.~")
        if key in drop:
            continue
        pairs.append((key, quote(unquote(value), safe="-_.~")))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _canonical_uri(path: str, service: str) -> str:
    if service == "s3":
        return path or "/"  # S3: neither normalised nor encoded twice
    from botocore.utils import normalize_url_path

    return quote(normalize_url_path(path), safe="/~")


def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    k = hmac.new(("AWS4" + secret).encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


@dataclass
class Signed:
    access_key_id: str
    date: str
    region: str
    service: str
    signed_headers: List[str]
    signature: str
    amz_date: str
    presigned: bool
    token: Optional[str]


def parse_signature(environ: Dict[str, Any]) -> Signed:
    auth = _header(environ, "Authorization") or ""
    _, query = _raw_path_and_query(environ)
    qs = dict(parse_qsl(query, keep_blank_values=True))
    if auth.startswith("AWS4-HMAC-SHA256 "):
        fields = {}
        for item in auth[len("AWS4-HMAC-SHA256 "):].split(","):
            k, _, v = item.strip().partition("=")
            fields[k] = v
        try:
            akid, date, region, service, terminator = fields["Credential"].split("/")
            signed_headers = fields["SignedHeaders"].split(";")
            signature = fields["Signature"]
        except (KeyError, ValueError):
            raise AuthError("IncompleteSignature", "Authorization header requires 'Credential', "
                            "'Signature' and 'SignedHeaders' parameters.")
        amz_date = _header(environ, "X-Amz-Date") or ""
        return Signed(akid, date, region, service, signed_headers, signature, amz_date, False,
                      _header(environ, "X-Amz-Security-Token"))
    if qs.get("X-Amz-Algorithm") == "AWS4-HMAC-SHA256":
        try:
            akid, date, region, service, terminator = qs["X-Amz-Credential"].split("/")
            return Signed(akid, date, region, service, qs["X-Amz-SignedHeaders"].split(";"),
                          qs["X-Amz-Signature"], qs.get("X-Amz-Date", ""), True,
                          qs.get("X-Amz-Security-Token"))
        except (KeyError, ValueError):
            raise AuthError("IncompleteSignature", "Presigned URL is missing parameters.")
    if auth or ("AWSAccessKeyId" in qs and "Signature" in qs):
        raise AuthError("UnsupportedSignature")
    raise AuthError("MissingAuthenticationToken", "Request is missing Authentication Token")


def verify_signature(environ: Dict[str, Any], body: bytes, signed: Signed, secret: str) -> None:
    method = environ.get("REQUEST_METHOD", "GET").upper()
    path, query = _raw_path_and_query(environ)
    headers = []
    for name in sorted(h.strip().lower() for h in signed.signed_headers):
        value = _header(environ, name)
        if value is None:
            value = ""
        headers.append(f"{name}:{' '.join(value.split())}")
    if signed.presigned:
        payload = "UNSIGNED-PAYLOAD"
        cquery = _canonical_query(query, drop=("X-Amz-Signature",))
    else:
        payload = _header(environ, "X-Amz-Content-SHA256") or hashlib.sha256(body).hexdigest()
        cquery = _canonical_query(query)
    canonical = "\n".join([
        method, _canonical_uri(path, signed.service), cquery,
        "\n".join(headers) + "\n", ";".join(sorted(h.strip().lower() for h in signed.signed_headers)),
        payload,
    ])
    scope = f"{signed.date}/{signed.region}/{signed.service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", signed.amz_date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = _signing_key(secret, signed.date, signed.region, signed.service)
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signed.signature):
        raise AuthError("SignatureDoesNotMatch")
    try:
        when = datetime.strptime(signed.amz_date, "%Y%m%dT%H%M%SZ")
    except ValueError:
        raise AuthError("SignatureDoesNotMatch", "X-Amz-Date is missing or malformed.")
    now = _utcnow()
    if abs(now - when) > MAX_SKEW and not signed.presigned:
        raise AuthError("RequestTimeTooSkewed",
                        f"Signature expired: {signed.amz_date} is now earlier than "
                        f"{(now - MAX_SKEW).strftime('%Y%m%dT%H%M%SZ')} "
                        f"({now.strftime('%Y%m%dT%H%M%SZ')} - 15 min.)")


def authenticate(environ: Dict[str, Any], body: bytes) -> Tuple[Caller, Signed]:
    signed = parse_signature(environ)
    caller = find_caller(signed.access_key_id)
    if caller is None:
        raise AuthError("InvalidClientTokenId")
    if caller.kind == "user" and signed.token:
        raise AuthError("InvalidToken")
    if caller.kind == "role":
        if signed.token != caller.token:
            raise AuthError("InvalidToken")
        if caller.expiration is not None and caller.expiration <= _utcnow():
            raise AuthError("ExpiredToken")
    verify_signature(environ, body, signed, caller.secret)
    return caller, signed


# ================================================================= policy evaluation
def _as_list(value: Any) -> List[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _glob(pattern: str, value: str, ignore_case: bool = False) -> bool:
    if ignore_case:
        pattern, value = pattern.lower(), value.lower()
    if pattern == "*":
        return True
    # fnmatch would also read [...] as a character class: IAM knows only * and ?
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.DOTALL) is not None


def action_matches(pattern: Any, action: str) -> bool:
    return isinstance(pattern, str) and _glob(pattern.strip(), action, ignore_case=True)


def _substitute_variables(pattern: str, ctx: Dict[str, List[str]]) -> str:
    def repl(m: "re.Match[str]") -> str:
        key, _, default = m.group(1).partition(",")
        values = ctx.get(key.strip().lower())
        if values:
            return values[0]
        default = default.strip()
        return default.strip("'") if default else m.group(0)

    return re.sub(r"\$\{([^}]+)\}", repl, pattern) if "${" in pattern else pattern


def resource_matches(pattern: Any, resource: str, ctx: Dict[str, List[str]]) -> bool:
    return isinstance(pattern, str) and _glob(_substitute_variables(pattern, ctx), resource)


NEGATED = {"stringnotequals", "stringnotequalsignorecase", "stringnotlike", "arnnotequals",
           "arnnotlike", "numericnotequals", "datenotequals", "notipaddress"}


def _compare(base: str, actual: str, expected: str) -> bool:
    if base in ("stringequals", "stringnotequals"):
        return actual == expected
    if base in ("stringequalsignorecase", "stringnotequalsignorecase"):
        return actual.lower() == expected.lower()
    if base in ("stringlike", "stringnotlike"):
        return _glob(expected, actual)
    if base in ("arnequals", "arnlike", "arnnotequals", "arnnotlike"):
        # ARN operators compare the six colon-separated parts one by one
        a, e = actual.split(":", 5), expected.split(":", 5)
        return len(a) == len(e) == 6 and all(_glob(ep, ap) for ep, ap in zip(e, a))
    if base == "bool":
        return actual.lower() == expected.lower()
    if base.startswith("numeric"):
        try:
            x, y = float(actual), float(expected)
        except ValueError:
            return False
        return {"numericequals": x == y, "numericnotequals": x == y, "numericlessthan": x < y,
                "numericlessthanequals": x <= y, "numericgreaterthan": x > y,
                "numericgreaterthanequals": x >= y}.get(base, False)
    if base.startswith("date"):
        try:
            x = _parse_date(actual)
            y = _parse_date(expected)
        except ValueError:
            return False
        return {"dateequals": x == y, "datenotequals": x == y, "datelessthan": x < y,
                "datelessthanequals": x <= y, "dategreaterthan": x > y,
                "dategreaterthanequals": x >= y}.get(base, False)
    if base in ("ipaddress", "notipaddress"):
        try:
            return ipaddress.ip_address(actual) in ipaddress.ip_network(expected, strict=False)
        except ValueError:
            return False
    raise KeyError(base)


def _parse_date(text: str) -> datetime:
    if re.fullmatch(r"\d+", text):
        return datetime.fromtimestamp(int(text), timezone.utc)
    t = text.strip().replace("z", "Z")
    if t.endswith("Z"):
        t = t[:-1] + "+00:00"
    d = datetime.fromisoformat(t)
    return d if d.tzinfo else d.replace(tzinfo=timezone.utc)


def condition_operator_ok(operator: str, key: str, expected: Any, ctx: Dict[str, List[str]]) -> bool:
    op = operator
    qualifier = ""
    if ":" in op:
        qualifier, op = op.split(":", 1)
        qualifier = qualifier.lower()
    base = op.lower()
    if_exists = base.endswith("ifexists")
    if if_exists:
        base = base[: -len("ifexists")]
    wanted = [("true" if v else "false") if isinstance(v, bool) else str(v) for v in _as_list(expected)]
    # policy variables in condition values (IAM User Guide, "IAM policy elements: Variables
    # and tags": "in the Condition element, ... string operators and ARN operators")
    wanted = [_substitute_variables(w, ctx) for w in wanted]
    values = ctx.get(key.lower())
    if base == "null":
        absent = not values
        return any(absent == (w.lower() == "true") for w in wanted)
    if not values:
        if if_exists or qualifier == "forallvalues":
            return True
        return base in NEGATED
    try:
        if base in NEGATED:
            def one(v: str) -> bool:
                return not any(_compare(base, v, w) for w in wanted)
        else:
            def one(v: str) -> bool:
                return any(_compare(base, v, w) for w in wanted)
        if qualifier == "forallvalues":
            return all(one(v) for v in values)
        return any(one(v) for v in values)
    except KeyError:
        log.warning("condition operator %s is not emulated: treated as not matching", operator)
        return False


def conditions_ok(condition: Any, ctx: Dict[str, List[str]]) -> bool:
    if not condition:
        return True
    if not isinstance(condition, dict):
        return False
    for operator, block in condition.items():
        if not isinstance(block, dict):
            return False
        for key, expected in block.items():
            if not condition_operator_ok(operator, key, expected, ctx):
                return False
    return True


def _statements(doc: Any) -> List[Dict[str, Any]]:
    from .policies import load_document

    parsed = load_document(doc)
    statements = parsed.get("Statement", [])
    return [s for s in _as_list(statements) if isinstance(s, dict)]


def statement_matches(st: Dict[str, Any], action: str, resource: Optional[str],
                      ctx: Dict[str, List[str]]) -> bool:
    if "Action" in st:
        if not any(action_matches(p, action) for p in _as_list(st["Action"])):
            return False
    elif "NotAction" in st:
        if any(action_matches(p, action) for p in _as_list(st["NotAction"])):
            return False
    else:
        return False
    if resource is not None:
        if "Resource" in st:
            if not any(resource_matches(p, resource, ctx) for p in _as_list(st["Resource"])):
                return False
        elif "NotResource" in st:
            if any(resource_matches(p, resource, ctx) for p in _as_list(st["NotResource"])):
                return False
        else:
            return False
    return conditions_ok(st.get("Condition"), ctx)


def identity_documents(caller: Caller) -> List[Any]:
    """Inline + attached managed policies of the user (and its groups) or the session's role."""
    from moto.iam.models import iam_backends

    from . import policies

    if caller.kind == "service":
        return []
    backend = iam_backends[caller.account][caller.partition]
    if caller.kind == "user":
        obj = backend.users.get(caller.name)
        kind = "user"
    else:
        obj = _role_lookup(backend, caller.principal_arn.split("/")[-1], arn=caller.principal_arn)
        kind = "role"
    if obj is None:
        return []
    principal = policies.Principal(kind, obj, obj.arn)
    return [doc for _, doc in policies.policies_of(backend, principal)]


def evaluate(documents: Iterable[Any], action: str, resource: str,
             ctx: Dict[str, List[str]]) -> str:
    """'deny' (explicit), 'allow', or 'implicit' (no statement allows)."""
    allowed = False
    for doc in documents:
        for st in _statements(doc):
            if not statement_matches(st, action, resource, ctx):
                continue
            effect = st.get("Effect")
            if effect == "Deny":
                return "deny"
            if effect == "Allow":
                allowed = True
    return "allow" if allowed else "implicit"


# ---------------------------------------------------------------------- role trust
def _principal_match(principal: Any, caller: Caller) -> Optional[str]:
    """'specific', 'account' or None: how a Principal element names the caller."""
    if principal == "*":
        return "specific"
    if not isinstance(principal, dict):
        return None
    best: Optional[str] = None
    for value in _as_list(principal.get("AWS")):
        if not isinstance(value, str):
            continue
        if value == "*":
            return "specific"
        if caller.kind == "service":
            continue
        if re.fullmatch(r"\d{12}", value) or re.fullmatch(r"arn:[\w-]+:iam::\d{12}:root", value):
            account = value if value.isdigit() else value.split(":")[4]
            if account == caller.account:
                best = best or "account"
            continue
        if value in (caller.arn, caller.principal_arn):
            return "specific"
    if caller.kind == "service":
        for value in _as_list(principal.get("Service")):
            if isinstance(value, str) and value.lower() == caller.name.lower():
                return "specific"
    return best


def resource_policy_decision(doc: Any, caller: Caller, action: str, resource: Optional[str],
                             ctx: Dict[str, List[str]]) -> Optional[str]:
    """What a resource-based policy (a role's trust, a bucket policy) says of a request:
    'deny', 'specific' (an Allow names the caller), 'account' (an Allow names the
    caller's account), or None (no statement allows)."""
    result: Optional[str] = None
    for st in _statements(doc):
        if not statement_matches(st, action, resource, ctx):
            continue
        if "Principal" in st:
            match = _principal_match(st["Principal"], caller)
        elif "NotPrincipal" in st:
            match = None if _principal_match(st["NotPrincipal"], caller) else "specific"
        else:
            match = None
        if match is None:
            continue
        if st.get("Effect") == "Deny":
            return "deny"
        if st.get("Effect") == "Allow":
            if result != "specific":
                result = match
    return result


def trust_decision(role: Any, caller: Caller, action: str, ctx: Dict[str, List[str]]) -> Optional[str]:
    """'deny', 'specific', 'account', or None (no statement of the trust policy allows)."""
    return resource_policy_decision(role.assume_role_policy_document, caller, action, None, ctx)


def _find_role(arn: str, account: str, partition: str = "aws") -> Any:
    from moto.iam.models import iam_backends

    parts = arn.split(":")
    if len(parts) < 6 or parts[2] != "iam" or not parts[5].startswith("role/"):
        return None
    acct = parts[4] or account
    try:
        backend = iam_backends[acct][parts[1] or partition]
    except Exception:  # noqa: BLE001
        return None
    return _role_lookup(backend, parts[5].split("/")[-1], arn=arn)


_ROLE_IDS: Dict[Tuple[int, str], str] = {}


def _role_lookup(backend: Any, name: str, arn: Optional[str] = None) -> Any:
    """A role by name (and ARN), remembering its id: moto keys roles by id, and a scan
    per request is slow in accounts of thousands of roles."""
    key = (id(backend), name)
    role_id = _ROLE_IDS.get(key)
    role = backend.roles.get(role_id) if role_id else None
    if role is None or role.name != name:
        role = next((r for r in list(backend.roles.values()) if r.name == name), None)
        if role is None:
            return None
        _ROLE_IDS[key] = role.id
    if arn is not None and role.arn != arn:
        return None
    return role


# ====================================================================== request analysis
# signing name -> IAM service prefix where they differ
IAM_PREFIX = {"monitoring": "cloudwatch", "email": "ses"}
# signing name -> botocore service name where they differ
BOTOCORE_NAME = {"states": "stepfunctions", "monitoring": "cloudwatch", "email": "ses",
                 "execute-api": "apigateway"}

# botocore operation -> IAM action where they differ
S3_ACTIONS = {
    "ListObjects": "ListBucket", "ListObjectsV2": "ListBucket", "HeadBucket": "ListBucket",
    "ListObjectVersions": "ListBucketVersions", "ListBuckets": "ListAllMyBuckets",
    "HeadObject": "GetObject", "CopyObject": "PutObject", "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject", "UploadPartCopy": "PutObject", "CompleteMultipartUpload": "PutObject",
    "ListMultipartUploads": "ListBucketMultipartUploads", "ListParts": "ListMultipartUploadParts",
    "DeleteObjects": "DeleteObject", "SelectObjectContent": "GetObject",
    "GetBucketEncryption": "GetEncryptionConfiguration",
    "PutBucketEncryption": "PutEncryptionConfiguration",
    "DeleteBucketEncryption": "PutEncryptionConfiguration",
    "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
    "GetBucketLifecycle": "GetLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "PutLifecycleConfiguration",
    "PutBucketLifecycle": "PutLifecycleConfiguration",
    "DeleteBucketLifecycle": "PutLifecycleConfiguration",
    "GetBucketCors": "GetBucketCORS", "PutBucketCors": "PutBucketCORS",
    "DeleteBucketCors": "PutBucketCORS",
    "GetBucketReplication": "GetReplicationConfiguration",
    "PutBucketReplication": "PutReplicationConfiguration",
    "DeleteBucketReplication": "PutReplicationConfiguration",
    "DeleteBucketTagging": "PutBucketTagging",
    "GetBucketNotificationConfiguration": "GetBucketNotification",
    "PutBucketNotificationConfiguration": "PutBucketNotification",
    "GetObjectLockConfiguration": "GetBucketObjectLockConfiguration",
    "PutObjectLockConfiguration": "PutBucketObjectLockConfiguration",
    "DeleteBucketOwnershipControls": "PutBucketOwnershipControls",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
    "DeletePublicAccessBlock": "PutBucketPublicAccessBlock",
    "GetBucketAccelerateConfiguration": "GetAccelerateConfiguration",
    "PutBucketAccelerateConfiguration": "PutAccelerateConfiguration",
    "GetBucketAnalyticsConfiguration": "GetAnalyticsConfiguration",
    "GetBucketMetricsConfiguration": "GetMetricsConfiguration",
    "GetBucketInventoryConfiguration": "GetInventoryConfiguration",
}
OTHER_ACTIONS = {
    ("lambda", "Invoke"): "InvokeFunction",
    ("lambda", "InvokeWithResponseStream"): "InvokeFunction",
    ("lambda", "ListFunctions20150331"): "ListFunctions",
}


@dataclass
class Request:
    service: str            # signing name, e.g. states
    prefix: str             # IAM prefix, e.g. states
    operation: str          # API operation, e.g. StartExecution
    protocol: str           # query | ec2 | json | rest-json | rest-xml
    params: Dict[str, Any]
    region: str
    account: str
    partition: str
    checks: List[Tuple[str, str]] = field(default_factory=list)  # (iam action, resource)
    ctx: Dict[str, List[str]] = field(default_factory=dict)


def _botocore_name(signing: str) -> str:
    return BOTOCORE_NAME.get(signing, signing)


def _service_model(name: str) -> Any:
    from moto.core.utils import get_service_model

    try:
        return get_service_model(name)
    except Exception:  # noqa: BLE001 - unknown to botocore
        return None


def _protocol(model: Any) -> str:
    return str(model.protocol) if model is not None else "query"


def _flat(pairs: Iterable[Tuple[str, str]]) -> Dict[str, str]:
    out: Dict[str, str] = {}
    for k, v in pairs:
        out.setdefault(k, v)
    return out


def analyse(environ: Dict[str, Any], body: bytes, signed: Signed, caller: Caller) -> Request:
    service = signed.service
    model = _service_model(_botocore_name(service))
    protocol = _protocol(model)
    _, query = _raw_path_and_query(environ)
    params: Dict[str, Any] = _flat(parse_qsl(query, keep_blank_values=True))
    content_type = (_header(environ, "Content-Type") or "").lower()
    target = _header(environ, "X-Amz-Target")
    operation = ""
    if target:
        operation = target.split(".")[-1]
        protocol = "json"
        try:
            parsed = json.loads(body.decode("utf-8") or "{}")
            if isinstance(parsed, dict):
                params.update(parsed)
        except (UnicodeDecodeError, ValueError):
            pass
    elif "Action" in params or content_type.startswith("application/x-www-form-urlencoded"):
        if content_type.startswith("application/x-www-form-urlencoded"):
            try:
                params.update(_flat(parse_qsl(body.decode("utf-8"), keep_blank_values=True)))
            except UnicodeDecodeError:
                pass
        operation = str(params.get("Action") or "")
        if protocol not in ("query", "ec2"):
            protocol = "query"
    elif model is not None:
        from moto.core.request import Request as MotoRequest
        from moto.core.routing import get_service_router

        env = dict(environ)
        env["wsgi.input"] = io.BytesIO(body)
        try:
            op, uri_params = get_service_router(_botocore_name(service)).match(MotoRequest(env))
            operation = op.name
            if protocol == "rest-json" and body:
                try:
                    parsed = json.loads(body.decode("utf-8"))
                    if isinstance(parsed, dict):
                        params.update(parsed)
                except (UnicodeDecodeError, ValueError):
                    pass
            params.update({k: unquote(v) if isinstance(v, str) else v for k, v in uri_params.items()})
        except Exception:  # noqa: BLE001 - not a modelled operation
            operation = ""
    prefix = IAM_PREFIX.get(service, service)
    account = caller.account
    req = Request(service=service, prefix=prefix, operation=operation or "Unknown",
                  protocol=protocol, params=params, region=signed.region, account=account,
                  partition=caller.partition)
    req.ctx = base_context(environ, caller, signed)
    resources_for(req)
    return req


def base_context(environ: Dict[str, Any], caller: Caller, signed: Signed) -> Dict[str, List[str]]:
    now = datetime.now(timezone.utc)
    # The emulator's plain-HTTP endpoint stands for AWS's HTTPS ones: a request counts as
    # TLS unless it says otherwise (header X-Emulator-Insecure-Transport: true), so a
    # policy's TLS-only statement keeps its meaning and can be shown to work.
    insecure = str(_header(environ, "X-Emulator-Insecure-Transport") or "").lower() == "true"
    secure = "false" if insecure else "true"
    ctx = {
        "aws:securetransport": [secure],
        "aws:principalarn": [caller.principal_arn],
        "aws:principalaccount": [caller.account],
        "aws:principaltype": ["User" if caller.kind == "user" else "AssumedRole"],
        "aws:requestedregion": [signed.region],
        "aws:currenttime": [now.strftime("%Y-%m-%dT%H:%M:%SZ")],
        "aws:epochtime": [str(int(now.timestamp()))],
        "aws:viaawsservice": ["false"],
    }
    if caller.user_id:
        ctx["aws:userid"] = [caller.user_id]
    ctx.update(org_context("principal", caller.account, caller.partition))
    if caller.kind == "user":
        ctx["aws:username"] = [caller.name]
    if environ.get("REMOTE_ADDR"):
        ctx["aws:sourceip"] = [environ["REMOTE_ADDR"]]
    return ctx


def org_context(kind: str, account: str, partition: str) -> Dict[str, List[str]]:
    """aws:{Principal,Resource}OrgID and …OrgPaths of an account in an organization (IAM
    User Guide, "AWS global condition context keys"); nothing outside one."""
    from . import organizations

    org = organizations.org_of(account, partition)
    if org is None:
        return {}
    return {f"aws:{kind}orgid": [org], f"aws:{kind}orgpaths": organizations.org_paths(account, partition)}


def resource_account(req: Request, resource: str) -> str:
    """The account owning the resource: the ARN's account, an S3 bucket's owner, else
    (`*`, ARNs without an account) the account the request is made in."""
    parts = resource.split(":", 5)
    if len(parts) == 6:
        if parts[2] == "s3" and parts[5]:
            try:
                from moto.s3.models import s3_backends

                owner = s3_backends.bucket_accounts.get(parts[5].split("/")[0])
                if owner:
                    return owner[1]
            except Exception:  # noqa: BLE001
                pass
        if re.fullmatch(r"\d{12}", parts[4]):
            return parts[4]
    return req.account


def resource_context(req: Request, resource: str) -> Dict[str, List[str]]:
    """The request's context plus aws:ResourceAccount, aws:ResourceOrgID and
    aws:ResourceOrgPaths of the resource checked."""
    account = resource_account(req, resource)
    ctx = dict(req.ctx)
    ctx["aws:resourceaccount"] = [account]
    ctx.update(org_context("resource", account, req.partition))
    return ctx


def _iam_entity_arn(req: Request, kind: str, name: str, path: Optional[str] = None) -> str:
    from moto.iam.models import iam_backends

    try:
        backend = iam_backends[req.account][req.partition]
        if kind == "user":
            obj = backend.users.get(name)
        elif kind == "group":
            obj = backend.groups.get(name)
        elif kind == "role":
            obj = _role_lookup(backend, name)
        else:
            obj = None
        if obj is not None:
            return obj.arn
    except Exception:  # noqa: BLE001
        pass
    p = path or "/"
    return f"arn:{req.partition}:iam::{req.account}:{kind}{p}{name}"


# IAM operations whose optional UserName defaults to the calling user
SELF_USER_OPERATIONS = ("GetUser", "ListAccessKeys", "CreateAccessKey", "UpdateAccessKey",
                        "DeleteAccessKey", "ListSigningCertificates", "ListSSHPublicKeys",
                        "ListMFADevices")


def _access_key_owner_arn(req: Request, access_key_id: str) -> str:
    """The ARN of the user owning an access key of the caller's account; `*` when unknown."""
    from moto.iam.models import iam_backends

    try:
        backend = iam_backends[req.account][req.partition]
        key = backend.access_keys.get(access_key_id)
        if key is None:
            key = next((k for u in list(backend.users.values()) for k in u.access_keys
                        if k.access_key_id == access_key_id), None)
        user = backend.users.get(key.user_name) if key is not None and key.user_name else None
        if user is not None:
            return user.arn
    except Exception:  # noqa: BLE001
        pass
    return "*"


def _lambda_arn(req: Request, name: str, qualifier: Optional[str]) -> str:
    if name.startswith("arn:"):
        parts = name.split(":")
        base = ":".join(parts[:7])
        qual = parts[7] if len(parts) > 7 else qualifier
    else:
        parts = name.split(":")
        if len(parts) >= 3 and parts[1] == "function":  # ACCOUNT:function:NAME[:QUALIFIER]
            acct, fn = parts[0], parts[2]
            qual = parts[3] if len(parts) > 3 else qualifier
        else:
            acct, fn = req.account, parts[0]
            qual = parts[1] if len(parts) > 1 else qualifier
        base = f"arn:{req.partition}:lambda:{req.region}:{acct}:function:{fn}"
    return f"{base}:{qual}" if qual else base


def resources_for(req: Request) -> None:
    """The (IAM action, resource ARN) pairs a request is authorized against, plus the
    action-specific condition keys."""
    p, op = req.params, req.operation
    pa, region, acct = req.partition, req.region, req.account
    prefix = req.prefix
    action = op
    resources: List[str] = ["*"]
    if prefix == "s3":
        action = S3_ACTIONS.get(op, op)
        if op == "GetObject" and p.get("versionId"):
            action = "GetObjectVersion"
        if op == "DeleteObject" and p.get("versionId"):
            action = "DeleteObjectVersion"
        bucket, key = p.get("Bucket"), p.get("Key")
        if bucket and key:
            resources = [f"arn:{pa}:s3:::{bucket}/{key}"]
        elif bucket:
            resources = [f"arn:{pa}:s3:::{bucket}"]
        if action in ("ListBucket", "ListBucketVersions") and op != "HeadBucket":
            for name, ctx_key in (("prefix", "s3:prefix"), ("delimiter", "s3:delimiter"),
                                  ("max-keys", "s3:max-keys")):
                if p.get(name) is not None:
                    req.ctx[ctx_key] = [str(p[name])]
        if op == "CopyObject":
            source = unquote(str(p.get("x-amz-copy-source") or "")).lstrip("/").split("?")[0]
            req.checks.append((f"s3:{action}", resources[0]))
            if source:
                req.checks.append(("s3:GetObject", f"arn:{pa}:s3:::{source}"))
            return
    elif prefix == "iam":
        if op.startswith("List") and op in ("ListUsers", "ListRoles", "ListGroups", "ListPolicies",
                                            "ListInstanceProfiles", "ListAccountAliases",
                                            "ListOpenIDConnectProviders", "ListSAMLProviders",
                                            "ListServerCertificates", "ListVirtualMFADevices"):
            resources = ["*"]
        elif "ServiceLastAccessed" in op and op.startswith("Get"):
            resources = ["*"]
        elif op == "GenerateOrganizationsAccessReport":
            # Service Authorization Reference: resource type access-report, condition key
            # iam:OrganizationsPolicyId, and the Organizations actions IAM's user guide
            # requires besides ("Permissions required": DescribePolicy, ListChildren, …)
            from .org_reports import DEPENDENT_ACTIONS, report_arn

            resources = [report_arn(pa, acct, str(p.get("EntityPath") or ""))]
            if p.get("OrganizationsPolicyId"):
                req.ctx["iam:organizationspolicyid"] = [str(p["OrganizationsPolicyId"])]
            req.checks.append((f"iam:{action}", resources[0]))
            req.checks.extend((dependent, "*") for dependent in DEPENDENT_ACTIONS)
            return
        elif op in ("GenerateServiceLastAccessedDetails", "ListPoliciesGrantingServiceAccess") and p.get("Arn"):
            resources = [p["Arn"]]
        elif op == "GetAccessKeyLastUsed" and p.get("AccessKeyId"):
            # Service Authorization Reference: resource type user (the key's owner)
            resources = [_access_key_owner_arn(req, str(p["AccessKeyId"]))]
        elif op in SELF_USER_OPERATIONS and not p.get("UserName") and req.ctx.get("aws:username"):
            # no UserName: IAM acts on the calling user (GetUser: "determines the user name
            # implicitly based on the access key ID used to sign the request")
            resources = [req.ctx["aws:principalarn"][0]]
        elif p.get("PolicyArn"):
            resources = [p["PolicyArn"]]
        elif p.get("RoleName"):
            resources = [_iam_entity_arn(req, "role", p["RoleName"], p.get("Path"))]
        elif p.get("UserName"):
            resources = [_iam_entity_arn(req, "user", p["UserName"], p.get("Path"))]
        elif p.get("GroupName"):
            resources = [_iam_entity_arn(req, "group", p["GroupName"], p.get("Path"))]
        elif op == "CreatePolicy" and p.get("PolicyName"):
            resources = [f"arn:{pa}:iam::{acct}:policy{p.get('Path') or '/'}{p['PolicyName']}"]
    elif prefix == "sts":
        if op in ("AssumeRole",) and p.get("RoleArn"):
            resources = [p["RoleArn"]]
            if p.get("RoleSessionName"):
                req.ctx["sts:rolesessionname"] = [p["RoleSessionName"]]
            if p.get("ExternalId"):
                req.ctx["sts:externalid"] = [p["ExternalId"]]
    elif prefix == "lambda":
        action = OTHER_ACTIONS.get(("lambda", op), op)
        if p.get("FunctionName"):
            resources = [_lambda_arn(req, str(p["FunctionName"]), p.get("Qualifier"))]
    elif prefix == "states":
        if p.get("executionArn"):
            resources = [p["executionArn"]]
        elif p.get("stateMachineArn"):
            resources = [p["stateMachineArn"]]
        elif p.get("mapRunArn"):
            resources = [p["mapRunArn"]]
        elif op == "CreateStateMachine" and p.get("name"):
            resources = [f"arn:{pa}:states:{region}:{acct}:stateMachine:{p['name']}"]
        elif p.get("activityArn"):
            resources = [p["activityArn"]]
    elif prefix == "sns":
        arn = p.get("TopicArn") or p.get("TargetArn") or p.get("ResourceArn")
        if arn:
            resources = [arn]
        elif op == "CreateTopic" and p.get("Name"):
            resources = [f"arn:{pa}:sns:{region}:{acct}:{p['Name']}"]
    elif prefix == "sqs":
        url = p.get("QueueUrl")
        if url:
            resources = [f"arn:{pa}:sqs:{region}:{acct}:{str(url).rstrip('/').split('/')[-1]}"]
        elif op == "CreateQueue" and p.get("QueueName"):
            resources = [f"arn:{pa}:sqs:{region}:{acct}:{p['QueueName']}"]
    elif prefix == "logs":
        group = p.get("logGroupName")
        if group:
            base = f"arn:{pa}:logs:{region}:{acct}:log-group:{group}"
            stream = p.get("logStreamName")
            resources = [f"{base}:log-stream:{stream}" if stream else base]
    elif prefix == "events" and op == "PutEvents":
        # Service Authorization Reference: resource type event-bus (each entry's bus, the
        # default one when unnamed), condition keys events:source and events:detail-type
        entries = [e for e in p.get("Entries") or [] if isinstance(e, dict)]
        buses = []
        for entry in entries:
            bus = str(entry.get("EventBusName") or "default")
            buses.append(bus if bus.startswith("arn:") else f"arn:{pa}:events:{region}:{acct}:event-bus/{bus}")
        resources = sorted(set(buses)) or [f"arn:{pa}:events:{region}:{acct}:event-bus/default"]
        req.ctx["events:source"] = sorted({str(e.get("Source")) for e in entries if e.get("Source")})
        req.ctx["events:detail-type"] = sorted({str(e.get("DetailType")) for e in entries if e.get("DetailType")})
    elif prefix == "securityhub" and op == "BatchImportFindings":
        # Service Authorization Reference: resource type product, the findings' ProductArn
        products = {str(f.get("ProductArn")) for f in p.get("Findings") or []
                    if isinstance(f, dict) and f.get("ProductArn")}
        resources = sorted(products) or ["*"]
    elif prefix == "kms":
        key = p.get("KeyId")
        if isinstance(key, str) and key:
            if key.startswith("arn:"):
                resources = [key]
            elif key.startswith("alias/"):
                resources = [f"arn:{pa}:kms:{region}:{acct}:{key}"]
            else:
                resources = [f"arn:{pa}:kms:{region}:{acct}:key/{key}"]
    for resource in resources:
        req.checks.append((f"{prefix}:{action}", resource))


# ========================================================================= decisions
def deny_message(caller_arn: str, action: str, resource: str, reason: str, quote_resource: bool = False) -> str:
    shown = f'"{resource}"' if quote_resource else resource
    return f"User: {caller_arn} is not authorized to perform: {action} on resource: {shown} {reason}"


# ------------------------------------------------------------------ bucket policies
# Bucket policies the emulator's CloudFormation created (cloudformation.py), by bucket name,
# evaluated here with the request's context (moto's own S3 would evaluate one without it).
BUCKET_POLICIES: Dict[str, Any] = {}


def record_bucket_policy(bucket: str, document: Any) -> None:
    with LOCK:
        BUCKET_POLICIES[bucket] = document


def bucket_decision(caller: Caller, action: str, resource: str,
                    ctx: Dict[str, List[str]]) -> Optional[str]:
    """'deny', 'allow' (a statement names the caller), or None: what the bucket policy of
    an S3 resource says of this request (IAM User Guide, Policy evaluation logic: an
    explicit deny in any policy wins; in one account an identity-based or a resource-based
    allow suffices)."""
    if ":s3:::" not in resource:
        return None
    bucket = resource.split(":s3:::", 1)[1].split("/", 1)[0]
    with LOCK:
        doc = BUCKET_POLICIES.get(bucket)
    if doc is None:
        return None
    # An Allow naming the caller's account only delegates to its identity policies.
    decision = resource_policy_decision(doc, caller, action, resource, ctx)
    return {"deny": "deny", "specific": "allow"}.get(decision or "")


def authorize(caller: Caller, req: Request) -> Optional[Tuple[str, str, str]]:
    """None if every check passes, else (action, resource, message) of the first refusal."""
    docs = identity_documents(caller)
    quote_resource = req.prefix == "s3"
    for action, resource in req.checks:
        if action.lower() == "sts:getcalleridentity":
            continue  # needs no permission (STS API reference)
        ctx = resource_context(req, resource)
        decision = evaluate(docs, action, resource, ctx)
        if decision == "deny":
            return action, resource, deny_message(
                caller.arn, action, resource, "with an explicit deny in an identity-based policy",
                quote_resource)
        bucket = bucket_decision(caller, action, resource, ctx) if req.prefix == "s3" else None
        if bucket == "deny":
            return action, resource, deny_message(
                caller.arn, action, resource, "with an explicit deny in a resource-based policy",
                quote_resource)
        if bucket == "allow" and decision != "allow":
            continue  # the bucket policy names the caller: it grants (same account)
        if action.lower() == "sts:assumerole":
            role = _find_role(resource, req.account, req.partition)
            trust = trust_decision(role, caller, action, ctx) if role is not None else None
            if trust == "deny":
                return action, resource, deny_message(
                    caller.arn, action, resource, "with an explicit deny in a resource-based policy")
            if trust is None:
                return action, resource, deny_message(
                    caller.arn, action, resource,
                    "because no resource-based policy allows the sts:AssumeRole action")
            same_account = resource.split(":")[4] == caller.account
            if trust == "specific" and same_account:
                continue  # the trust policy names the caller: it alone grants (same account)
        if decision != "allow":
            return action, resource, deny_message(
                caller.arn, action, resource,
                f"because no identity-based policy allows the {action} action", quote_resource)
    return None


# ====================================================================== error shapes
AUTH_MESSAGES = {
    "MissingAuthenticationToken": "Request is missing Authentication Token",
    "InvalidClientTokenId": "The security token included in the request is invalid.",
    "InvalidToken": "The security token included in the request is invalid.",
    "ExpiredToken": "The security token included in the request is expired",
    "SignatureDoesNotMatch": (
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method. Consult the service "
        "documentation for details."),
    "IncompleteSignature": "The request signature does not conform to AWS standards.",
    "RequestTimeTooSkewed": "Signature expired",
    "UnsupportedSignature": "The request signature does not conform to AWS standards: only "
                            "Signature Version 4 (AWS4-HMAC-SHA256) is accepted.",
}
JSON_CODES = {
    "AccessDenied": "AccessDeniedException",
    "MissingAuthenticationToken": "MissingAuthenticationTokenException",
    "InvalidClientTokenId": "UnrecognizedClientException",
    "InvalidToken": "UnrecognizedClientException",
    "ExpiredToken": "ExpiredTokenException",
    "SignatureDoesNotMatch": "InvalidSignatureException",
    "IncompleteSignature": "IncompleteSignatureException",
    "UnsupportedSignature": "IncompleteSignatureException",
    "RequestTimeTooSkewed": "InvalidSignatureException",
}
S3_ERRORS = {
    "MissingAuthenticationToken": ("AccessDenied", "Access Denied", 403),
    "InvalidClientTokenId": ("InvalidAccessKeyId",
                             "The AWS Access Key Id you provided does not exist in our records.", 403),
    "InvalidToken": ("InvalidToken", "The provided token is malformed or otherwise invalid.", 400),
    "ExpiredToken": ("ExpiredToken", "The provided token has expired.", 400),
    "SignatureDoesNotMatch": ("SignatureDoesNotMatch",
                              "The request signature we calculated does not match the signature "
                              "you provided. Check your key and signing method.", 403),
    "UnsupportedSignature": ("InvalidRequest", "The authorization mechanism you have provided is "
                             "not supported. Please use AWS4-HMAC-SHA256.", 400),
    "IncompleteSignature": ("AuthorizationHeaderMalformed",
                            "The authorization header is malformed.", 400),
    "RequestTimeTooSkewed": ("RequestTimeTooSkewed",
                             "The difference between the request time and the current time is too large.",
                             403),
}


def _xml_escape(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def error_response(service: str, protocol: str, code: str, message: str) -> Tuple[int, List[Tuple[str, str]], bytes]:
    """(status, headers, body) of an authentication/authorization error in the
    service's own shape."""
    rid = str(uuid.uuid4())
    if service == "s3":
        s3_rid = rid.replace("-", "")[:16].upper()
        if code == "AccessDenied":
            s3_code, status = "AccessDenied", 403
        else:
            s3_code, message, status = S3_ERRORS.get(code, (code, message, 403))
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{s3_code}</Code>'
                f"<Message>{_xml_escape(message)}</Message><RequestId>{s3_rid}</RequestId>"
                f"<HostId>{rid}</HostId></Error>")
        return status, [("Content-Type", "application/xml"), ("x-amz-request-id", s3_rid)], body.encode()
    if protocol in ("json", "rest-json"):
        jcode = JSON_CODES.get(code, code)
        status = 400 if protocol == "json" else 403
        payload = {"__type": jcode, "message": message}
        if protocol == "rest-json":
            payload = {"Type": "User", "message": message, "Message": message}
        ctype = "application/x-amz-json-1.0" if protocol == "json" else "application/json"
        return status, [("Content-Type", ctype), ("x-amzn-ErrorType", jcode),
                        ("x-amzn-RequestId", rid)], json.dumps(payload).encode()
    if protocol == "ec2":
        ec2_code = "AuthFailure" if code in ("InvalidClientTokenId", "SignatureDoesNotMatch") else (
            "UnauthorizedOperation" if code == "AccessDenied" else code)
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{ec2_code}</Code>'
                f"<Message>{_xml_escape(message)}</Message></Error></Errors><RequestID>{rid}</RequestID></Response>")
        return (401 if ec2_code == "AuthFailure" else 403), [("Content-Type", "text/xml")], body.encode()
    xml_code = {"RequestTimeTooSkewed": "SignatureDoesNotMatch",
                "UnsupportedSignature": "IncompleteSignature",
                "InvalidToken": "InvalidClientTokenId"}.get(code, code)
    body = (f'<ErrorResponse xmlns="https://{service}.amazonaws.com/doc/">\n  <Error>\n'
            f"    <Type>Sender</Type>\n    <Code>{xml_code}</Code>\n"
            f"    <Message>{_xml_escape(message)}</Message>\n  </Error>\n"
            f"  <RequestId>{rid}</RequestId>\n</ErrorResponse>\n")
    status = 400 if xml_code == "IncompleteSignature" else 403
    return status, [("Content-Type", "text/xml"), ("x-amzn-RequestId", rid)], body.encode()


def iam_access_denied(message: str) -> Any:
    """An exception moto's IAM call_action turns into IAM's AccessDenied (HTTP 403)."""
    from werkzeug.exceptions import HTTPException

    status, headers, body = error_response("iam", "query", "AccessDenied", message)

    class IamAccessDenied(HTTPException):
        code = 403
        description = body.decode()

        def get_headers(self, *args: Any, **kwargs: Any) -> List[Tuple[str, str]]:
            return [("Content-Type", "text/xml")]

    return IamAccessDenied()


# ============================================================================ WSGI hook
def current_caller() -> Optional[Caller]:
    """The authenticated caller of the request being served (enforcement on), else None."""
    return getattr(_local, "caller", None)


def _read_body(environ: Dict[str, Any]) -> bytes:
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    length = environ.get("CONTENT_LENGTH")
    try:
        n = int(length) if length not in (None, "") else None
    except ValueError:
        n = None
    if n is not None:
        return stream.read(n) if n > 0 else b""
    if environ.get("wsgi.input_terminated") or (_header(environ, "Transfer-Encoding") or "").lower() == "chunked":
        return stream.read()
    return b""


def _respond(start_response: Any, status: int, headers: List[Tuple[str, str]], body: bytes) -> List[bytes]:
    from http import HTTPStatus

    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Error"
    start_response(f"{status} {reason}", headers + [("Content-Length", str(len(body)))])
    return [body]


def _unsigned_service(environ: Dict[str, Any]) -> str:
    """Best guess of the service of a request without a signature (for the error shape)."""
    if _header(environ, "X-Amz-Target"):
        return "sts"  # rendered as JSON anyway
    query = environ.get("QUERY_STRING") or ""
    if "Action=" in query or (_header(environ, "Content-Type") or "").startswith(
            "application/x-www-form-urlencoded"):
        return "sts"
    if (environ.get("PATH_INFO") or "").startswith("/2015-03-31/"):
        return "lambda"
    return "s3"


def check_request(environ: Dict[str, Any], body: bytes) -> Tuple[Optional[Caller], Optional[Tuple[int, List[Tuple[str, str]], bytes]]]:
    """(caller, None) if the request may go on, else (caller or None, error response)."""
    try:
        signed = parse_signature(environ)
        service = signed.service
    except AuthError as exc:
        service = _unsigned_service(environ)
        proto = "json" if _header(environ, "X-Amz-Target") else _protocol(_service_model(service))
        return None, error_response(service, proto, exc.kind, exc.message or AUTH_MESSAGES.get(exc.kind, exc.kind))
    proto = _protocol(_service_model(_botocore_name(service)))
    if _header(environ, "X-Amz-Target"):
        proto = "json"
    try:
        caller, signed = authenticate(environ, body)
    except AuthError as exc:
        return None, error_response(service, proto, exc.kind, exc.message or AUTH_MESSAGES.get(exc.kind, exc.kind))
    req = analyse(environ, body, signed, caller)
    refusal = authorize(caller, req)
    if refusal is not None:
        action, resource, message = refusal
        USAGE.record_denied(caller.principal_arn, action, resource, message)
        return caller, error_response(service, req.protocol, "AccessDenied", message)
    for action, resource in req.checks:
        USAGE.record_allowed(caller.principal_arn, action, resource)
    return caller, None


def _patch_dispatcher() -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    if getattr(DomainDispatcherApplication, "_access_advisor_authz", False):
        return
    original = DomainDispatcherApplication.__call__

    def __call__(self: Any, environ: Dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "") or ""
        if isinstance(path, bytes):
            path = path.decode("utf-8", "replace")
        if not ENFORCED or path.startswith("/moto-api") or path == "/favicon.ico":
            return original(self, environ, start_response)
        body = _read_body(environ)
        environ["wsgi.input"] = io.BytesIO(body)
        try:
            caller, error = check_request(environ, body)
        except Exception as exc:  # noqa: BLE001 - a bug here must not look like an allow
            log.exception("authorization failed")
            return _respond(start_response, 500, [("Content-Type", "application/json")],
                            json.dumps({"__type": "InternalFailure",
                                        "message": f"emulator authorization error: {exc}"}).encode())
        if error is not None:
            return _respond(start_response, *error)
        environ["wsgi.input"] = io.BytesIO(body)
        # the account is the credentials' (moto would let this header pick any account)
        environ.pop("HTTP_X_MOTO_ACCOUNT_ID", None)
        _local.caller = caller
        _local.access_key_id = parse_signature(environ).access_key_id
        try:
            return original(self, environ, start_response)
        finally:
            _local.caller = None
            _local.access_key_id = None

    DomainDispatcherApplication.__call__ = __call__  # type: ignore[method-assign]
    DomainDispatcherApplication._access_advisor_authz = True  # type: ignore[attr-defined]


# ================================================================ service role sessions
class NotTrusted(Exception):
    pass


def service_session(service_principal: str, role_arn: str, session_name: str,
                    source_arn: Optional[str] = None) -> Any:
    """A real moto STS session of ``role_arn`` assumed by an AWS service principal
    (e.g. lambda.amazonaws.com), after checking the role's trust policy.  Cached and
    handed out again while it has SESSION_REUSE_MARGIN of life left."""
    from moto.sts.models import sts_backends

    parts = role_arn.split(":")
    account = parts[4] if len(parts) > 5 else ACCOUNT
    partition = parts[1] if len(parts) > 5 else "aws"
    role = _find_role(role_arn, account, partition)
    if role is None:
        raise NotTrusted(f"role {role_arn} does not exist")
    service = Caller(arn=service_principal, principal_arn=service_principal, kind="service",
                     name=service_principal, account=account, partition=partition)
    ctx: Dict[str, List[str]] = {"aws:sourceaccount": [account]}
    if source_arn:
        ctx["aws:sourcearn"] = [source_arn]
        if service_principal == "lambda.amazonaws.com":
            ctx["lambda:sourcefunctionarn"] = [source_arn]
    trust = trust_decision(role, service, "sts:AssumeRole", ctx)
    if trust in (None, "deny"):
        raise NotTrusted(f"the trust policy of {role.arn} does not let {service_principal} "
                         "assume it (sts:AssumeRole)")
    key = (service_principal, role.arn, session_name)
    now = _utcnow()
    with LOCK:
        cached = USAGE.service_sessions.get(key)
        if cached is not None and _naive_utc(cached.expiration) - now > SESSION_REUSE_MARGIN:
            return cached
        region = "us-east-1"
        session = sts_backends[account][partition].assume_role(
            region_name=region, role_session_name=session_name, role_arn=role.arn,
            policy=None, duration=SESSION_SECONDS, external_id=None)
        USAGE.service_sessions[key] = session
        return session


def _iso(dt: datetime) -> str:
    return _naive_utc(dt).strftime("%Y-%m-%dT%H:%M:%SZ")


def lambda_credentials(request: Any, full_url: str, headers: Any) -> Tuple[int, Dict[str, str], str]:
    """POST {"function": name or ARN} -> credential_process JSON of a session of the
    function's execution role (session name = function name, as Lambda does)."""
    def err(status: int, message: str) -> Tuple[int, Dict[str, str], str]:
        return status, dict(JSON_HEADERS), json.dumps({"error": message})

    if request.method != "POST":
        return err(405, "use POST")
    data = request.get_data() if hasattr(request, "get_data") else request.data
    try:
        body = json.loads((data.decode("utf-8") if isinstance(data, bytes) else data) or "null")
    except ValueError:
        return err(400, "body must be JSON")
    if not isinstance(body, dict) or not isinstance(body.get("function"), str) or not body["function"]:
        return err(400, 'body must be {"function": "<function name or ARN>"}')
    name = body["function"]
    region = body.get("region") or os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or "us-east-1"
    account = ACCOUNT
    if name.startswith("arn:"):
        parts = name.split(":")
        if len(parts) < 7:
            return err(400, f"not a function ARN: {name}")
        region, account, name = parts[3], parts[4], parts[6]
    from moto.awslambda.utils import get_backend

    try:
        fn = get_backend(account, region).get_function(name, None)
    except Exception:  # noqa: BLE001
        return err(404, f"Function not found: {name} (account {account}, region {region})")
    try:
        session = service_session("lambda.amazonaws.com", fn.role, fn.function_name,
                                  source_arn=fn.function_arn)
    except NotTrusted as exc:
        return err(403, f"The role defined for the function cannot be assumed by Lambda: {exc}")
    return 200, dict(JSON_HEADERS), json.dumps({
        "Version": 1,
        "AccessKeyId": session.access_key_id,
        "SecretAccessKey": session.secret_access_key,
        "SessionToken": session.session_token,
        "Expiration": _iso(session.expiration),
    })


def authz_stats(request: Any, full_url: str, headers: Any) -> Tuple[int, Dict[str, str], str]:
    return 200, dict(JSON_HEADERS), json.dumps(USAGE.snapshot())


# ===================================================== Step Functions engine credentials
STATES_SESSION_NAME = "aws-stepfunctions"


def _patch_stepfunctions_engine() -> None:
    """moto's ASL engine calls Lambda/S3/SFN over HTTP with fixed keys; with enforcement
    those calls carry a session of the state machine's role (which must trust
    states.amazonaws.com), so the role's policy is what is enforced."""
    try:
        from moto.stepfunctions.parser.asl.utils import boto_client as bc
    except Exception:  # noqa: BLE001 - engine not available
        return
    if getattr(bc, "_access_advisor_authz", False):
        return
    original = bc.boto_client_for

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        if not ENFORCED:
            return original(region=region, service=service, state_credentials=state_credentials)
        import boto3
        from botocore.config import Config

        from moto.settings import moto_server_port
        from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSeconds

        role_arn = getattr(state_credentials, "role_arn", None) or ""
        try:
            session = service_session("states.amazonaws.com", role_arn, STATES_SESSION_NAME)
            creds = dict(aws_access_key_id=session.access_key_id,
                         aws_secret_access_key=session.secret_access_key,
                         aws_session_token=session.session_token)
        except NotTrusted as exc:
            USAGE.record_denied("states.amazonaws.com", "sts:AssumeRole", role_arn, str(exc))
            # credentials no one knows: the call fails like one with an unusable role
            creds = dict(aws_access_key_id="ASIANOTTRUSTEDROLE00", aws_secret_access_key="x",
                         aws_session_token="not-trusted")
        return boto3.client(
            region_name=region, service_name=service,
            endpoint_url=f"http://localhost:{moto_server_port()}",
            config=Config(parameter_validation=False,
                          retries={"max_attempts": 0, "total_max_attempts": 1},
                          connect_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
                          read_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS),
            **creds,
        )

    bc.boto_client_for = boto_client_for
    bc._access_advisor_authz = True  # type: ignore[attr-defined]
    # modules that imported the name before this patch keep their own reference
    for name, module in list(sys.modules.items()):
        if name.startswith("moto.stepfunctions.parser") and getattr(module, "boto_client_for", None) is original:
            setattr(module, "boto_client_for", boto_client_for)


# ============================================================================== install
def _patch_reset() -> None:
    from moto.moto_api._internal.models import MotoAPIBackend

    if getattr(MotoAPIBackend, "_access_advisor_authz_reset", False):
        return
    original_reset = MotoAPIBackend.reset

    def reset(self: Any) -> None:
        original_reset(self)
        reset_usage()
        with LOCK:
            BUCKET_POLICIES.clear()
        if ENFORCED:
            ensure_admin()

    MotoAPIBackend.reset = reset  # type: ignore[method-assign]
    MotoAPIBackend._access_advisor_authz_reset = True  # type: ignore[attr-defined]


def _patch_access_key() -> None:
    """moto reads the access key with a regex of 20 upper-case characters, so it misses
    ``testing``: with enforcement on it gets the key the signature was checked with (so
    GetCallerIdentity names local-admin, and the request's account is the key's)."""
    from moto.core.responses import BaseResponse

    if getattr(BaseResponse, "_access_advisor_authz", False):
        return
    original = BaseResponse.get_access_key

    def get_access_key(self: Any) -> str:
        akid = getattr(_local, "access_key_id", None)
        if ENFORCED and akid:
            return akid
        return original(self)

    BaseResponse.get_access_key = get_access_key  # type: ignore[method-assign]
    BaseResponse._access_advisor_authz = True  # type: ignore[attr-defined]


def install() -> None:
    from moto.moto_api._internal import urls

    urls.url_paths["{0}" + PREFIX + "/lambda-credentials$"] = lambda_credentials
    urls.url_paths["{0}" + PREFIX + "/authz$"] = authz_stats
    _patch_reset()
    _patch_dispatcher()
    _patch_access_key()
    _patch_stepfunctions_engine()
