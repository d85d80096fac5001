"""Security Hub's findings in moto 5.2.5, made to behave as Security Hub's API reference says
where a scan's findings depend on it (tests/emulator/README.md, "Security Hub").

moto's BatchImportFindings stored any JSON under its ``Id`` (one finding per ``Id`` across
products), took any number of findings, and its GetFindings ignored ``Filters``. Now:

- **BatchImportFindings** (API reference, BatchImportFindings; partner guide, "Guidelines
  for using the BatchImportFindings API"): at most 100 findings a request
  (``InvalidInputException``); an account whose Security Hub is not enabled is refused
  (``InvalidAccessException``, "Account … is not subscribed to AWS Security Hub"); each
  finding needs ASFF's required attributes ("Required top-level attributes in ASFF":
  AwsAccountId, CreatedAt, Description, GeneratorId, Id, ProductArn, Resources,
  SchemaVersion, Title, UpdatedAt, and Severity and Types, here or in
  FindingProviderFields) and at most 240 KB, else it is a ``FailedFindings`` entry; with
  the account's default product ARN (``product/ACCOUNT/default``) the caller must be the
  account the finding names (``AwsAccountId``), else ``AccessDeniedException`` for that
  finding. A finding is identified by ``ProductArn`` and ``Id``: the same pair updates it.
- **FindingProviderFields** ("Using FindingProviderFields"): a new finding's top-level
  ``Severity`` and ``Types`` are taken from ``FindingProviderFields`` when not given; an
  update takes ``FindingProviderFields``' values (this emulator has no BatchUpdateFindings,
  so no customer's change is ever kept over them). ``RecordState`` defaults to ``ACTIVE``
  and ``Workflow.Status`` to ``NEW``; Security Hub adds ``ProductName``, ``CompanyName``,
  ``Region`` and ``ProcessedAt``.
- **GetFindings Filters** (API reference, AwsSecurityFindingFilters; StringFilter): the
  string filters below with ``EQUALS``, ``PREFIX``, ``NOT_EQUALS`` and
  ``PREFIX_NOT_EQUALS`` (values of one key ORed, keys ANDed; negated comparisons ANDed); an
  unsupported key is ``InvalidInputException`` rather than ignored.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Callable, Dict, List

MAX_FINDINGS = 100
MAX_FINDING_BYTES = 240 * 1024
REQUIRED = ("AwsAccountId", "CreatedAt", "Description", "GeneratorId", "Id", "ProductArn",
            "Resources", "SchemaVersion", "Title", "UpdatedAt")


def _resource_values(key: str) -> Callable[[Dict[str, Any]], List[str]]:
    return lambda f: [str(r.get(key)) for r in f.get("Resources") or [] if r.get(key) is not None]


FILTERS: Dict[str, Callable[[Dict[str, Any]], List[str]]] = {
    "Id": lambda f: [f.get("Id", "")],
    "ProductArn": lambda f: [f.get("ProductArn", "")],
    "GeneratorId": lambda f: [f.get("GeneratorId", "")],
    "AwsAccountId": lambda f: [f.get("AwsAccountId", "")],
    "RecordState": lambda f: [f.get("RecordState", "")],
    "Title": lambda f: [f.get("Title", "")],
    "SeverityLabel": lambda f: [(f.get("Severity") or {}).get("Label", "")],
    "WorkflowStatus": lambda f: [(f.get("Workflow") or {}).get("Status", "")],
    "Type": lambda f: list(f.get("Types") or []),
    "ResourceId": _resource_values("Id"),
    "ResourceType": _resource_values("Type"),
}


def _matches(finding: Dict[str, Any], filters: Dict[str, Any]) -> bool:
    for key, conditions in (filters or {}).items():
        values = FILTERS[key](finding)
        positive = [c for c in conditions if c.get("Comparison") in ("EQUALS", "PREFIX")]
        negative = [c for c in conditions if c.get("Comparison") in ("NOT_EQUALS", "PREFIX_NOT_EQUALS")]

        def hit(c: Dict[str, Any], v: str) -> bool:
            want = str(c.get("Value", ""))
            return v.startswith(want) if c["Comparison"].startswith("PREFIX") else v == want

        if positive and not any(hit(c, v) for c in positive for v in values):
            return False
        if any(hit(c, v) for c in negative for v in values):
            return False
    return True


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _problem(data: Dict[str, Any], account: str) -> tuple[str, str] | None:
    missing = [k for k in REQUIRED if data.get(k) in (None, "", [])]
    provider = data.get("FindingProviderFields") or {}
    if not data.get("Severity") and not provider.get("Severity"):
        missing.append("Severity")
    if not data.get("Types") and not provider.get("Types"):
        missing.append("Types")
    if missing:
        return "InvalidInput", f"Finding does not adhere to Amazon Security Finding Format. Missing: {', '.join(missing)}"
    if len(json.dumps(data).encode()) > MAX_FINDING_BYTES:
        return "InvalidInput", "Finding is larger than the maximum allowed size of 240 KB"
    product = str(data["ProductArn"])
    if product.endswith("/default") and data["AwsAccountId"] != account:
        return ("AccessDeniedException",
                f"Account {account} is not allowed to import findings for account {data['AwsAccountId']} "
                "with the default product: BatchImportFindings must be called by the account the finding names")
    if product.endswith("/default") and f":product/{account}/default" not in product:
        return "InvalidInput", f"Product {product} is not this account's default product"
    return None


def _stored(new: Dict[str, Any], old: Dict[str, Any] | None, region: str) -> Dict[str, Any]:
    data = dict(new)
    provider = data.get("FindingProviderFields") or {}
    if provider.get("Severity"):
        severity = dict(provider["Severity"])
        data["Severity"] = {k: v for k, v in severity.items() if k in ("Label", "Original")}
    if provider.get("Types"):
        data["Types"] = list(provider["Types"])
    data.setdefault("RecordState", "ACTIVE")
    keep = ("Workflow", "WorkflowState", "Note", "UserDefinedFields", "VerificationState")
    for key in keep:
        if old and key in old:
            data[key] = old[key]
    data.setdefault("Workflow", {"Status": "NEW"})
    data.setdefault("WorkflowState", "NEW")
    data.setdefault("ProductName", "Default")
    data.setdefault("CompanyName", "Personal")
    data["Region"] = region
    data["ProcessedAt"] = _now()
    return data


def install() -> None:
    from moto.securityhub import models
    from moto.securityhub.exceptions import InvalidInputException, SecurityHubClientError

    backend_cls = models.SecurityHubBackend
    if getattr(backend_cls, "_access_advisor_patched", False):
        return

    class InvalidAccessException(SecurityHubClientError):
        def __init__(self, account: str) -> None:
            super().__init__("InvalidAccessException", f"Account {account} is not subscribed to AWS Security Hub")

    def batch_import_findings(self: Any, findings: List[Dict[str, Any]]) -> tuple:
        if len(findings) > MAX_FINDINGS:
            raise InvalidInputException(op="BatchImportFindings",
                                        msg=f"Findings: at most {MAX_FINDINGS} findings a request, got {len(findings)}")
        if not self.enabled:
            raise InvalidAccessException(self.account_id)
        failed: List[Dict[str, Any]] = []
        success = 0
        for data in findings:
            problem = _problem(data, self.account_id)
            if problem:
                failed.append({"Id": data.get("Id", ""), "ErrorCode": problem[0], "ErrorMessage": problem[1]})
                continue
            key = (data["ProductArn"], data["Id"])
            existing = next((f for f in self.findings
                             if (f.data.get("ProductArn"), f.id) == key), None)
            stored = _stored(data, existing.data if existing else None, self.region_name)
            if existing:
                existing.data = stored
            else:
                self.findings.append(models.Finding(data["Id"], stored))
            success += 1
        return len(failed), success, failed

    from moto.utilities.paginator import paginate

    @paginate(pagination_model=backend_cls.PAGINATION_MODEL)
    def get_findings(self: Any, filters: Dict[str, Any] | None = None, sort_criteria: Any = None,
                     max_results: Any = None) -> List[Dict[str, Any]]:
        unknown = sorted(set(filters or {}) - set(FILTERS))
        if unknown:
            raise InvalidInputException(op="GetFindings",
                                        msg=f"Filters: this emulator supports {sorted(FILTERS)}, not {unknown}")
        if max_results is not None and not 1 <= int(max_results) <= 100:
            raise InvalidInputException(op="GetFindings", msg="MaxResults must be a number between 1 and 100")
        return [f.as_dict() for f in self.findings if _matches(f.data, filters or {})]

    backend_cls.batch_import_findings = batch_import_findings
    backend_cls.get_findings = get_findings
    backend_cls._access_advisor_patched = True
