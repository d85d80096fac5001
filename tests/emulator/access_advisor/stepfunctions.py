"""Step Functions engine gaps of moto that the ASL needs (owned by the CloudFormation work)."""

from __future__ import annotations


def install() -> None:
    pass
