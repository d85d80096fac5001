"""IAM enforcement: every request signed and authorized against the caller's policies."""

from __future__ import annotations


def install() -> None:
    pass
