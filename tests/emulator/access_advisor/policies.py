"""Resolve IAM principals in moto's backend and evaluate their identity policies.

What access advisor lists for a principal (README, "Granted services"): every service of
which its identity policies allow at least one action, and at ACTION_LEVEL the tracked
actions they allow.  A policy's grants are the union of its Allow statements':

- ``Action``: each pattern grants the namespaces it names (a wildcard namespace is
  matched against the catalog, a literal one is taken as it is, even outside the
  catalog) with the action part as the pattern of the allowed actions.
- ``NotAction``: every action of every catalog service except the actions the
  NotAction patterns match.  A service is granted unless the patterns match all of
  its catalog actions (``iam:*``; ``s3:Get*`` leaves s3 granted with its other
  actions); the allowed actions are the catalog actions not matched.

Deny statements are ignored (they are not subtracted), and so are ``Resource`` /
``NotResource``, ``Condition`` and ``Principal``; permissions boundaries, session
policies, SCPs and resource-based policies are not looked at.  A managed policy counts
with its default version (customer managed or AWS managed, ``arn:aws:iam::aws:policy/``).
"""

from __future__ import annotations

import fnmatch
import json
import re
from typing import Any, Dict, Iterable, List, Optional, Tuple
from urllib.parse import unquote

from moto.iam.exceptions import InvalidInput, NoSuchEntity

from . import catalog

ARN_RE = re.compile(
    r"^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b):iam::(\d{12}|aws):"
    r"(user|role|group|policy)/(\S+)$"
)


class Principal:
    """A resolved user, role, group or managed policy."""

    def __init__(self, kind: str, obj: Any, arn: str) -> None:
        self.kind = kind  # user | role | group | policy
        self.obj = obj
        self.arn = arn


def parse_arn(arn: Any) -> Tuple[str, str, str, str]:
    if not isinstance(arn, str):
        raise InvalidInput("ARN is required.")
    m = ARN_RE.match(arn)
    if not m or m.group(4).endswith("/"):
        raise InvalidInput(f"ARN {arn} is not valid.")
    partition, account, kind, rest = m.groups()
    if account == "aws" and kind != "policy":
        raise InvalidInput(f"ARN {arn} is not valid.")
    return partition, account, kind, rest


def resolve(backend: Any, arn: str, account_id: str, kinds: Iterable[str]) -> Principal:
    _, account, kind, rest = parse_arn(arn)
    if kind not in kinds:
        raise InvalidInput(f"ARN {arn} is not valid for this operation.")
    not_found = NoSuchEntity(f"The entity with ARN {arn} cannot be found.")
    if account != "aws" and account != account_id:
        raise not_found
    name = rest.split("/")[-1]
    if kind == "user":
        obj = backend.users.get(name)
    elif kind == "role":
        obj = next((r for r in backend.roles.values() if r.name == name), None)
    elif kind == "group":
        obj = backend.groups.get(name)
    else:
        obj = backend.managed_policies.get(arn)
    if obj is None or getattr(obj, "arn", arn) != arn:
        raise not_found
    return Principal(kind, obj, arn)


# --------------------------------------------------------------------- documents
def load_document(doc: Any) -> Dict[str, Any]:
    if isinstance(doc, dict):
        return doc
    if isinstance(doc, bytes):
        doc = doc.decode("utf-8")
    if not isinstance(doc, str):
        return {}
    for candidate in (doc, unquote(doc)):
        try:
            parsed = json.loads(candidate)
            return parsed if isinstance(parsed, dict) else {}
        except ValueError:
            continue
    return {}


def _statements(doc: Any) -> List[Dict[str, Any]]:
    statements = load_document(doc).get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list):
        return []
    return [st for st in statements if isinstance(st, dict)]


def _strings(value: Any) -> List[str]:
    values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    return [v.strip() for v in values if isinstance(v, str)]


def allow_patterns(doc: Any) -> List[str]:
    """Action patterns of the Allow statements with an ``Action`` (original spelling)."""
    out: List[str] = []
    for st in _statements(doc):
        if st.get("Effect") == "Allow" and "Action" in st:
            out.extend(_strings(st["Action"]))
    return out


def not_action_patterns(doc: Any) -> List[List[str]]:
    """The ``NotAction`` patterns of each Allow statement that has one (and no Action)."""
    return [
        _strings(st["NotAction"])
        for st in _statements(doc)
        if st.get("Effect") == "Allow" and "Action" not in st and "NotAction" in st
    ]


def _split(pattern: str) -> Tuple[str, str]:
    if pattern == "*":
        return "*", "*"
    if ":" in pattern:
        svc, act = pattern.split(":", 1)
        return svc.lower(), act or "*"
    return pattern.lower(), "*"


def _has_wildcard(s: str) -> bool:
    return any(c in s for c in "*?[")


def granted_services(patterns: Iterable[str]) -> Dict[str, List[str]]:
    """namespace -> action patterns that apply to it (patterns of Allow ``Action``s)."""
    all_ns = catalog.namespaces()
    out: Dict[str, List[str]] = {}
    for pattern in patterns:
        svc, act = _split(pattern)
        if _has_wildcard(svc):
            matched = fnmatch.filter(all_ns, svc)
        else:
            matched = [svc]  # literal namespace, even if absent from the catalog
        for ns in matched:
            out.setdefault(ns, []).append(act)
    return out


def not_action_grants(not_actions: Iterable[str]) -> Dict[str, List[str]]:
    """What one Allow statement with these ``NotAction`` patterns allows: namespace ->
    patterns of its allowed actions, for every catalog service of which some action is
    not excluded.  A service no pattern names gets ``*``; one some pattern names gets
    the catalog actions no pattern matches (literal names), and is left out when none
    remains.  A service without catalog actions is left out only by a pattern naming
    all of its actions (``svc:*``)."""
    excluded: List[Tuple[str, str]] = [_split(p) for p in not_actions if p]
    out: Dict[str, List[str]] = {}
    for ns in catalog.namespaces():
        acts = [act.lower() for svc, act in excluded if fnmatch.fnmatchcase(ns, svc)]
        if not acts:
            out[ns] = ["*"]
            continue
        actions = catalog.service_actions(ns)
        if not actions:
            if not any(a.strip("*") == "" for a in acts):
                out[ns] = ["*"]
            continue
        left = [a for a in actions if not any(fnmatch.fnmatchcase(a.lower(), p) for p in acts)]
        if left:
            out[ns] = left
    return out


def document_grants(doc: Any) -> Dict[str, List[str]]:
    """namespace -> patterns of the actions one policy document allows (Action and
    NotAction Allow statements; Deny ignored)."""
    out = granted_services(allow_patterns(doc))
    for not_actions in not_action_patterns(doc):
        for ns, acts in not_action_grants(not_actions).items():
            out.setdefault(ns, []).extend(acts)
    return out


def pattern_matches_namespace(pattern: str, namespace: str) -> bool:
    svc, _ = _split(pattern)
    return fnmatch.fnmatchcase(namespace.lower(), svc)


def allowed_actions(namespace: str, action_patterns: Iterable[str]) -> List[str]:
    """Catalog actions of a service allowed by the action patterns.

    Literal (wildcard-free) actions that are not API operations, e.g.
    iam:PassRole, are included under the spelling used in the policy.
    """
    actions = catalog.service_actions(namespace)
    by_lower = {a.lower(): a for a in actions}
    result: Dict[str, str] = {}
    for spelled in action_patterns:
        pat = spelled.lower()
        if _has_wildcard(pat):
            for low, real in by_lower.items():
                if fnmatch.fnmatchcase(low, pat):
                    result[low] = real
        elif pat in by_lower:
            result[pat] = by_lower[pat]
        else:
            result.setdefault(pat, spelled)
    return sorted(result.values())


# ---------------------------------------------------------------------- structure
def groups_of_user(backend: Any, user: Any) -> List[Any]:
    return [g for g in backend.groups.values() if any(u.name == user.name for u in g.users)]


def default_version_document(policy: Any) -> Any:
    for version in getattr(policy, "versions", []):
        if getattr(version, "is_default", False):
            return version.document
    return getattr(policy, "document", None)


def _inline(owner: Any, entity_type: str) -> List[Tuple[Dict[str, str], Any]]:
    return [
        (
            {
                "PolicyName": name,
                "PolicyType": "INLINE",
                "EntityType": entity_type,
                "EntityName": owner.name,
            },
            doc,
        )
        for name, doc in sorted(owner.policies.items())
    ]


def _managed(owner: Any) -> List[Tuple[Dict[str, str], Any]]:
    return [
        (
            {"PolicyName": p.name, "PolicyType": "MANAGED", "PolicyArn": p.arn},
            default_version_document(p),
        )
        for _, p in sorted(owner.managed_policies.items())
    ]


def policies_of(backend: Any, principal: Principal) -> List[Tuple[Dict[str, str], Any]]:
    """(descriptor, document) for every identity policy that applies."""
    obj = principal.obj
    if principal.kind == "policy":
        return [
            (
                {"PolicyName": obj.name, "PolicyType": "MANAGED", "PolicyArn": obj.arn},
                default_version_document(obj),
            )
        ]
    kind_upper = principal.kind.upper()
    result = _inline(obj, kind_upper) + _managed(obj)
    if principal.kind == "user":
        for group in groups_of_user(backend, obj):
            result += _inline(group, "GROUP") + _managed(group)
    # the same managed policy may be attached to the user and one of its groups
    seen = set()
    unique = []
    for desc, doc in result:
        key = tuple(sorted(desc.items()))
        if key not in seen:
            seen.add(key)
            unique.append((desc, doc))
    return unique


def principal_grants(backend: Any, principal: Principal) -> Dict[str, List[str]]:
    """namespace -> action patterns, over every identity policy of the principal."""
    out: Dict[str, List[str]] = {}
    for _, doc in policies_of(backend, principal):
        for ns, acts in document_grants(doc).items():
            out.setdefault(ns, []).extend(acts)
    return out


def tracked_entities(backend: Any, principal: Principal) -> List[Any]:
    """Users/roles whose activity counts for this principal's report."""
    obj = principal.obj
    if principal.kind in ("user", "role"):
        return [obj]
    if principal.kind == "group":
        return list(obj.users)
    arn = obj.arn
    found: Dict[str, Any] = {}
    for user in backend.users.values():
        if arn in user.managed_policies:
            found[user.arn] = user
    for role in backend.roles.values():
        if arn in role.managed_policies:
            found[role.arn] = role
    for group in backend.groups.values():
        if arn in group.managed_policies:
            for user in group.users:
                found[user.arn] = user
    return list(found.values())


def entity_kind(entity: Any) -> str:
    return "ROLE" if ":role/" in entity.arn else "USER"


def entity_key(entity: Any) -> Tuple[str, str]:
    return (entity_kind(entity).lower(), entity.name)


def entity_info(entity: Any) -> Dict[str, Any]:
    return {
        "Arn": entity.arn,
        "Name": entity.name,
        "Type": entity_kind(entity),
        "Id": entity.id,
        "Path": entity.path,
    }


def match_namespaces(
    backend: Any, principal: Principal, namespaces: List[str]
) -> List[Dict[str, Any]]:
    """ListPoliciesGrantingServiceAccess entries: for each namespace, the policies that
    allow some action of it, by the same rules as the jobs (an Action pattern naming it,
    or a NotAction statement not excluding all of its actions)."""
    pols = []
    for desc, doc in policies_of(backend, principal):
        not_actions = set()
        for patterns in not_action_patterns(doc):
            not_actions |= set(not_action_grants(patterns))
        pols.append((desc, allow_patterns(doc), not_actions))
    out = []
    for ns in namespaces:
        low = ns.lower()
        granting = [
            dict(desc) for desc, pats, not_actions in pols
            if low in not_actions or any(pattern_matches_namespace(p, low) for p in pats)
        ]
        out.append({"ServiceNamespace": ns, "Policies": granting})
    return out
