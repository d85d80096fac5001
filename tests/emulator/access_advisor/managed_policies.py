"""AWS managed policies (``arn:aws:iam::aws:policy/...``) in every account's IAM.

moto 5.2.5 ships them (``moto/iam/aws_managed_policies.py``, 1,582 policies) and puts
them in an account's IAM backend when ``iam.load_aws_managed_policies`` is set — in
server mode the environment variable ``MOTO_IAM_LOAD_MANAGED_POLICIES=true``, which
server.py sets unless it is already set (README, "AWS managed policies").

What moto does then is too slow to keep: every IAM backend it creates or resets parses
the whole 6 MB JSON text and builds 1,582 policies (~0.2 s), and it creates a backend for
every partition of every account it sees (moto's ``get_account_id_from`` looks an access
key up in all of them), so each account costs six or more such builds, plus the garbage
collection of the ~10,000 objects each leaves (measured: the emulator suite went from
75 s to 180 s).  Here, with the same switch:

- the policies are built once per partition, with moto's own ``AWSManagedPolicy.from_data``;
- a backend gets its copies only when something first reads its ``managed_policies`` or
  ``aws_managed_policies`` (any IAM call about managed policies: ListPolicies, GetPolicy,
  Attach*Policy, GetAccountAuthorizationDetails, CreatePolicy, access-advisor jobs on a
  policy ARN, ...); a backend only asked for access keys never builds them;
- each copy is shallow: what one account changes (``AttachmentCount``, versions, tags)
  stays in it; documents and dates are shared.  As in AWS, an AWS managed policy has one
  ``PolicyId`` everywhere (here: for the life of the process, across accounts and resets).

What a client sees is what moto's loading gives (the same policies, in the same order,
AWS managed ones first in ``managed_policies``), but for GetAccountAuthorizationDetails:
it lists an AWS managed policy only where the account uses it (README).
"""

from __future__ import annotations

import copy
import json
import threading
from typing import Any, Dict, List

_lock = threading.RLock()
_data: Dict[str, Any] = {}
_prototypes: Dict[str, List[Any]] = {}  # backend region name (the partition) -> policies

_MANAGED = "_access_advisor_managed_policies"      # the backend's managed_policies dict
_AWS = "_access_advisor_aws_managed_policies"      # its AWS managed policies, once built


def _prototypes_for(region_name: str) -> List[Any]:
    protos = _prototypes.get(region_name)
    if protos is not None:
        return protos
    with _lock:
        protos = _prototypes.get(region_name)
        if protos is None:
            from moto.iam.aws_managed_policies import aws_managed_policies_data
            from moto.iam.models import AWSManagedPolicy

            if not _data:
                _data.update(json.loads(aws_managed_policies_data))
            protos = [AWSManagedPolicy.from_data(name, "aws", region_name, d)
                      for name, d in _data.items()]
            _prototypes[region_name] = protos
    return protos


def _copy(proto: Any, account_id: str) -> Any:
    policy = copy.copy(proto)
    policy.account_id = account_id
    policy.attachment_count = 0
    policy.tags = {}
    policy.versions = [copy.copy(v) for v in proto.versions]
    return policy


def _materialize(backend: Any) -> None:
    """Give the backend its AWS managed policies (once), ahead of the ones it has."""
    from moto.settings import load_iam_aws_managed_policies

    state = backend.__dict__
    if _AWS in state:
        return
    with _lock:
        if _AWS in state:
            return
        aws: List[Any] = []
        if load_iam_aws_managed_policies():
            aws = [_copy(p, backend.account_id) for p in _prototypes_for(backend.region_name)]
        merged = {p.arn: p for p in aws}
        merged.update(state.get(_MANAGED) or {})
        state[_MANAGED] = merged
        state[_AWS] = aws


def _get_managed(self: Any) -> Dict[str, Any]:
    _materialize(self)
    return self.__dict__[_MANAGED]


def _set_managed(self: Any, value: Dict[str, Any]) -> None:
    self.__dict__[_MANAGED] = value


def _get_aws(self: Any) -> List[Any]:
    _materialize(self)
    return self.__dict__[_AWS]


def _set_aws(self: Any, value: List[Any]) -> None:
    # moto's __init__ assigns what _init_aws_policies returned (nothing: see install);
    # anything else replaces the AWS managed policies outright
    if value:
        with _lock:
            self.__dict__[_AWS] = list(value)
            self.__dict__[_MANAGED] = {**{p.arn: p for p in value},
                                       **(self.__dict__.get(_MANAGED) or {})}


def preload() -> None:
    """Build the ``aws`` partition's policies in the background (~0.3 s, once)."""
    from moto.settings import load_iam_aws_managed_policies

    if load_iam_aws_managed_policies():
        threading.Thread(target=_prototypes_for, args=("aws",),
                         name="access-advisor-managed-policies", daemon=True).start()


def _in_use(policy: Any) -> bool:
    return bool(getattr(policy, "attachment_count", 0)
                or getattr(policy, "permissions_boundary_usage_count", 0))


def _authorization_details(original: Any) -> Any:
    """GetAccountAuthorizationDetails lists an AWS managed policy only where the account
    uses it (attached, or a permissions boundary), with or without a Filter; customer
    managed policies as moto does."""
    def details(self: Any, policy_filter: List[str]) -> Dict[str, Any]:
        out = original(self, policy_filter)
        aws = {p.arn for p in self.aws_managed_policies}
        out["managed_policies"] = [p for p in out["managed_policies"]
                                   if p.arn not in aws or _in_use(p)]
        return out
    return details


def install() -> None:
    from moto.iam.models import IAMBackend

    if getattr(IAMBackend, "_access_advisor_managed_policies", False):
        return
    # moto's __init__: self.aws_managed_policies = self._init_aws_policies();
    # self.managed_policies = self._init_managed_policies() ({arn: p for p in the former})
    IAMBackend._init_aws_policies = lambda self: []  # type: ignore[method-assign]
    IAMBackend._init_managed_policies = lambda self: {}  # type: ignore[method-assign]
    IAMBackend.aws_managed_policies = property(_get_aws, _set_aws)  # type: ignore[assignment]
    IAMBackend.managed_policies = property(_get_managed, _set_managed)  # type: ignore[assignment]
    IAMBackend.get_account_authorization_details = _authorization_details(  # type: ignore[method-assign]
        IAMBackend.get_account_authorization_details)
    IAMBackend._access_advisor_managed_policies = True  # type: ignore[attr-defined]
