"""Service catalog built from botocore's bundled service models.

namespace = metadata.signingName (fallback endpointPrefix)
name      = metadata.serviceFullName
actions   = the union of the operation names of every botocore service that
            shares that namespace (used for ACTION_LEVEL reports).
"""

from __future__ import annotations

import threading
from typing import Dict, List, Optional

# Services for which IAM "tracks" action-level last-accessed information.
# Every other service has no TrackedActionsLastAccessed key at all.
TRACKED_SERVICES = frozenset(
    {
        "cloudformation",
        "dynamodb",
        "ec2",
        "iam",
        "kms",
        "lambda",
        "logs",
        "s3",
        "secretsmanager",
        "sns",
        "sqs",
        "sts",
    }
)


class ServiceInfo:
    __slots__ = ("namespace", "name", "actions", "_preferred")

    def __init__(self, namespace: str, name: str, preferred: bool) -> None:
        self.namespace = namespace
        self.name = name
        self.actions: set = set()
        self._preferred = preferred


_lock = threading.Lock()
_ready = threading.Event()
_catalog: Optional[Dict[str, ServiceInfo]] = None


def _build() -> Dict[str, ServiceInfo]:
    import botocore.session

    session = botocore.session.get_session()
    loader = session.get_component("data_loader")
    catalog: Dict[str, ServiceInfo] = {}
    for svc in session.get_available_services():
        try:
            model = loader.load_service_model(svc, "service-2")
        except Exception:  # pragma: no cover - broken data file
            continue
        meta = model.get("metadata", {})
        namespace = (meta.get("signingName") or meta.get("endpointPrefix") or svc).lower()
        name = meta.get("serviceFullName") or meta.get("serviceId") or namespace
        preferred = svc == namespace
        info = catalog.get(namespace)
        if info is None:
            info = catalog[namespace] = ServiceInfo(namespace, name, preferred)
        elif preferred and not info._preferred:
            # e.g. "rds" is shared by docdb/neptune/rds: keep RDS's own name
            info.name = name
            info._preferred = True
        info.actions.update(model.get("operations", {}).keys())
    return catalog


def _load() -> None:
    global _catalog
    with _lock:
        if _catalog is None:
            _catalog = _build()
            _ready.set()


def preload() -> None:
    """Start building the catalog in the background (takes a few seconds)."""
    threading.Thread(target=_load, name="access-advisor-catalog", daemon=True).start()


def get_catalog() -> Dict[str, ServiceInfo]:
    if _catalog is None:
        _load()
    assert _catalog is not None
    return _catalog


def namespaces() -> List[str]:
    return sorted(get_catalog())


def service_name(namespace: str) -> str:
    info = get_catalog().get(namespace)
    return info.name if info else namespace


def service_actions(namespace: str) -> List[str]:
    info = get_catalog().get(namespace)
    return sorted(info.actions) if info else []


def is_tracked(namespace: str) -> bool:
    return namespace in TRACKED_SERVICES
