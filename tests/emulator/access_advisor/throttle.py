"""IAM-wide throttling (token bucket and/or random fraction) plus call stats (in all and
per account).

Installed by wrapping ``IamResponse.call_action``: it runs after moto parsed
the request but before authorisation and before the backend is touched, so a
throttled call has no side effect.  The error is serialised by moto's Query
serializer exactly like IAM does it: HTTP 400, <Code>Throttling</Code>,
<Message>Rate exceeded</Message>.
"""

from __future__ import annotations

import random
import time
import warnings
from typing import Any

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult

from .state import LOCK, STATE


# "Throttling" is not a modelled IAM error shape; moto warns about that but
# serialises it generically (HTTP 400, Type Sender), which is what IAM sends.
warnings.filterwarnings("ignore", message=r"Exception\(ThrottlingException\)")


class ThrottlingException(ServiceException):
    code = "Throttling"
    message = "Rate exceeded"


def should_throttle(account: str) -> bool:
    with LOCK:
        cfg = STATE.config["throttle"]
        fraction = cfg.get("fraction") or 0.0
        if fraction > 0 and random.random() < fraction:
            return True
        rate = cfg.get("rate")
        if rate is None:
            return False
        burst = cfg.get("burst")
        if burst is None:
            burst = max(1.0, float(rate))
        now = time.monotonic()
        bucket = STATE.buckets.get(account)
        if bucket is None:
            bucket = STATE.buckets[account] = [float(burst), now]
        tokens = min(float(burst), bucket[0] + (now - bucket[1]) * float(rate))
        bucket[1] = now
        if tokens >= 1.0:
            bucket[0] = tokens - 1.0
            return False
        bucket[0] = tokens
        return True


def install() -> None:
    from moto.iam.responses import IamResponse

    if getattr(IamResponse, "_access_advisor_throttle", False):
        return
    original = IamResponse.call_action

    def call_action(self: Any) -> Any:
        action = self._get_action() or "Unknown"
        account = getattr(self, "current_account", "") or ""
        throttled = should_throttle(account)
        STATE.count_call(action, throttled, account)
        if throttled:
            status, headers, body = self.serialized(ActionResult(ThrottlingException()))
            headers["status"] = str(status)
            headers, body = self._enrich_response(headers, body)
            return status, headers, body
        return original(self)

    IamResponse.call_action = call_action  # type: ignore[method-assign]
    IamResponse._access_advisor_throttle = True  # type: ignore[attr-defined]
