"""moto extension: IAM access advisor (service last accessed) + helpers.

Call ``install()`` before moto's server creates its Flask apps.
"""

from __future__ import annotations

_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    from . import bridge, catalog, control, operations, throttle

    operations.install()
    throttle.install()
    control.install()
    bridge.install()
    catalog.preload()
    _installed = True


__all__ = ["install"]
