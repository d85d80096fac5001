"""moto extension: IAM access advisor (service last accessed) + helpers.

Call ``install()`` before moto's server creates its Flask apps.
"""

from __future__ import annotations

_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    from . import (authz, bridge, catalog, cloudformation, control, credentials,
                   managed_policies, operations, org_reports, organizations, securityhub, stepfunctions,
                   throttle)

    managed_policies.install()  # AWS managed policies, built once (managed_policies.py)
    operations.install()
    organizations.install()  # AWS Organizations: who may call, CreateAccount's role (organizations.py)
    org_reports.install()  # IAM's Organizations access report (org_reports.py)
    credentials.install()  # last-used data and the credential report (credentials.py)
    cloudformation.install()  # SAM/CloudFormation gaps of moto (cloudformation.py)
    stepfunctions.install()  # Step Functions engine gaps of moto (stepfunctions.py)
    securityhub.install()  # Security Hub's findings: limits, identity, filters (securityhub.py)
    authz.install()  # IAM enforcement: signatures and identity policies (authz.py)
    throttle.install()
    control.install()
    bridge.install()
    catalog.preload()
    managed_policies.preload()
    _installed = True


__all__ = ["install"]
