"""Process-wide state of the extension (guarded by one re-entrant lock)."""

from __future__ import annotations

import copy
import itertools
import os
import threading
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional

LOCK = threading.RLock()

TRACKING_WINDOW = timedelta(days=400)

# activity versions: a new one on every change of the records (add, age, reset), for caches
_VERSIONS = itertools.count(1)


class ConfigError(ValueError):
    pass


def _default_config() -> Dict[str, Any]:
    return {
        "job_seconds": 1.0,
        "throttle": {"rate": None, "burst": None, "fraction": 0.0},
        "fail": [],
        "lambda_bridge_url": os.environ.get("LAMBDA_BRIDGE_URL") or None,
        # deployed function name -> bridge URL of the runtime serving it (see bridge.py)
        "lambda_bridge_functions": {},
        # principal ARNs IAM answers AccessDenied for (see authz.py)
        "deny": [],
        # seconds before seeded activity reaches access-advisor jobs (RoleLastUsed and the
        # credential report see it at once): "Recent activity usually appears within four
        # hours" (GenerateServiceLastAccessedDetails, IAM API Reference)
        "advisor_lag_seconds": 0.0,
        # seconds RoleLastUsed (GetRole, GetAccountAuthorizationDetails) lags behind a
        # role's seeded activity: AWS documents no latency for it (RoleLastUsed, IAM API
        # Reference), so a test can make one and show an incremental scan's sample catch
        # a rule that does not hold
        "role_last_used_lag_seconds": 0.0,
        # what a JobId is bound to: "role_session_name" (the assumed role and its session
        # name, or the user) or "session" (the access key that generated it). IAM says
        # only that a JobId "must be used by the same role within a session"
        # (GetServiceLastAccessedDetails, IAM API Reference): either reading is possible.
        "caller_binding": "role_session_name",
        # "max_pending_org_reports" is absent until set: DEFAULT_MAX_PENDING_ORG_REPORTS
    }


# GenerateOrganizationsAccessReport: reports of one account IN_PROGRESS at once before
# ReportGenerationLimitExceeded (org_reports.py); config key max_pending_org_reports.
DEFAULT_MAX_PENDING_ORG_REPORTS = 5

# config caller_binding (jobs.get_job)
CALLER_BINDINGS = ("role_session_name", "session")


class State:
    def __init__(self) -> None:
        self.config: Dict[str, Any] = _default_config()
        # account id -> list of activity records
        self.activity: Dict[str, List[Dict[str, Any]]] = {}
        # job id -> job dict
        self.jobs: Dict[str, Dict[str, Any]] = {}
        # job id -> Organizations access report job (org_reports.py)
        self.org_jobs: Dict[str, Dict[str, Any]] = {}
        self.calls: Dict[str, int] = {}
        self.throttled: Dict[str, int] = {}
        # account id (the caller's, as for the throttle buckets) -> {"calls", "throttled"}
        self.account_calls: Dict[str, Dict[str, Dict[str, int]]] = {}
        # account id -> [tokens, last refill monotonic time]
        self.buckets: Dict[str, List[float]] = {}
        # account id -> credential report {"generated", "ready", "content"} (credentials.py)
        self.reports: Dict[str, Dict[str, Any]] = {}
        # when this state began (start or reset); moved back by age_activity like the records.
        # The root row of the credential report dates the account from it (credentials.py).
        self.epoch: datetime = datetime.now(timezone.utc)
        self.version: int = next(_VERSIONS)

    def reset(self) -> None:
        with LOCK:
            self.__init__()  # type: ignore[misc]

    # ------------------------------------------------------------------ config
    def get_config(self) -> Dict[str, Any]:
        with LOCK:
            return copy.deepcopy(self.config)

    def update_config(self, update: Any) -> Dict[str, Any]:
        if not isinstance(update, dict):
            raise ConfigError("config must be a JSON object")
        new = copy.deepcopy(self.config)
        for key, value in update.items():
            if key == "job_seconds":
                if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                    raise ConfigError("job_seconds must be a number >= 0")
                new[key] = float(value)
            elif key == "throttle":
                if not isinstance(value, dict):
                    raise ConfigError("throttle must be an object")
                for tkey, tval in value.items():
                    if tkey not in ("rate", "burst", "fraction"):
                        raise ConfigError(f"unknown key throttle.{tkey}")
                    if tval is not None and (
                        isinstance(tval, bool) or not isinstance(tval, (int, float)) or tval < 0
                    ):
                        raise ConfigError(f"throttle.{tkey} must be a number >= 0 or null")
                    if tkey == "fraction" and tval is not None and tval > 1:
                        raise ConfigError("throttle.fraction must be between 0 and 1")
                    new["throttle"][tkey] = tval
                if new["throttle"]["fraction"] is None:
                    new["throttle"]["fraction"] = 0.0
            elif key == "fail":
                if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
                    raise ConfigError("fail must be a list of ARNs")
                new[key] = list(value)
            elif key == "advisor_lag_seconds":
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 86400:
                    raise ConfigError("advisor_lag_seconds must be a number of seconds, 0 to 86400")
                new[key] = float(value)
            elif key == "role_last_used_lag_seconds":
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 864000:
                    raise ConfigError("role_last_used_lag_seconds must be a number of seconds, 0 to 864000")
                new[key] = float(value)
            elif key == "caller_binding":
                if value not in CALLER_BINDINGS:
                    raise ConfigError(
                        "caller_binding must be one of " + ", ".join(CALLER_BINDINGS)
                    )
                new[key] = value
            elif key == "max_pending_org_reports":
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    raise ConfigError("max_pending_org_reports must be an integer >= 1")
                new[key] = value
            elif key == "deny":
                if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
                    raise ConfigError("deny must be a list of ARNs")
                new[key] = list(value)
            elif key == "lambda_bridge_functions":
                if not isinstance(value, dict) or not all(
                    isinstance(k, str) and isinstance(v, str) for k, v in value.items()
                ):
                    raise ConfigError("lambda_bridge_functions must map function names to URLs")
                new[key] = {k: v.rstrip("/") for k, v in value.items()}
            elif key == "lambda_bridge_url":
                if value is not None and not isinstance(value, str):
                    raise ConfigError("lambda_bridge_url must be a string or null")
                new[key] = value.rstrip("/") if value else None
            else:
                raise ConfigError(f"unknown config key {key}")
        with LOCK:
            if new["throttle"] != self.config["throttle"]:
                self.buckets.clear()
            self.config = new
            return copy.deepcopy(new)

    # ---------------------------------------------------------------- activity
    def add_activity(self, records: List[Dict[str, Any]]) -> int:
        with LOCK:
            for rec in records:
                self.activity.setdefault(rec["account"], []).append(rec)
            self.version = next(_VERSIONS)
            return len(records)

    def age_activity(self, days: float) -> int:
        """Moves every activity record `days` earlier: as if that much time had passed.
        Credential reports (their generation time) and the epoch move with them."""
        shift = timedelta(days=days)
        with LOCK:
            n = 0
            for records in self.activity.values():
                for rec in records:
                    rec["at"] = rec["at"] - shift
                    n += 1
            for report in self.reports.values():
                report["generated"] = report["generated"] - shift
                report["ready"] = report["ready"] - shift
            self.epoch = self.epoch - shift
            self.version = next(_VERSIONS)
            return n

    def records(self, account: str) -> List[Dict[str, Any]]:
        """All of an account's activity records, whatever their age (no tracking window)."""
        with LOCK:
            return list(self.activity.get(account, []))

    def activity_for(self, account: str, now: Optional[datetime] = None) -> List[Dict[str, Any]]:
        now = now or datetime.now(timezone.utc)
        cutoff = now - TRACKING_WINDOW
        with LOCK:
            return [r for r in self.activity.get(account, []) if r["at"] >= cutoff]

    # ------------------------------------------------------------------- stats
    def count_call(self, action: str, throttled: bool, account: str = "") -> None:
        """One IAM call received (throttled or not), by action, also under the caller's
        account (the account whose throttle bucket it was charged to)."""
        with LOCK:
            per = self.account_calls.setdefault(account, {"calls": {}, "throttled": {}})
            for counts in (self.calls, per["calls"]):
                counts[action] = counts.get(action, 0) + 1
            if throttled:
                for counts in (self.throttled, per["throttled"]):
                    counts[action] = counts.get(action, 0) + 1

    def stats(self) -> Dict[str, Any]:
        def totals(calls: Dict[str, int], throttled: Dict[str, int]) -> Dict[str, Any]:
            return {
                "calls": dict(calls),
                "throttled": dict(throttled),
                "total_calls": sum(calls.values()),
                "total_throttled": sum(throttled.values()),
            }

        with LOCK:
            out = totals(self.calls, self.throttled)
            out["by_account"] = {
                account: totals(per["calls"], per["throttled"])
                for account, per in sorted(self.account_calls.items())
            }
            return out


STATE = State()
