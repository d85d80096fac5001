"""CloudFormation gaps of moto that infra/template.yaml needs (owned by the CloudFormation work)."""

from __future__ import annotations


def install() -> None:
    pass
