"""The run's HTML page of a real local run (reports/runs/dt=…/run=…/index.html, written by
Summarize), opened from a downloaded file in headless chromium: no console errors, the
seeded principals and services shown, heat-map cells equal to the reports, the filter
narrowing the table, and a screenshot that is not blank.

ILA_SCREENSHOT_DIR=DIR keeps the screenshot (docs/reports.md's come from here)."""
import os
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, os.path.join(ROOT, "tests", "browser"))

from cdp import Browser, find_chromium  # noqa: E402
from test_page_sample import heatmap_origin, rows, sampled_colours, type_filter  # noqa: E402


@pytest.fixture(scope="module")
def page(stack, account, tmp_path_factory):
    if not find_chromium():
        pytest.fail("chromium is not installed: `make setup` installs Debian's `chromium`", pytrace=False)
    summary_key = account["service_run"]["summary_key"]
    summary = stack.json(summary_key)
    reports = {r["arn"]: r for r in (stack.json(k) for k in summary["report_keys"])}
    page_key = summary_key.replace("/summary.json", "/index.html")
    obj = stack.s3.get_object(Bucket=stack.bucket, Key=page_key)
    assert obj["ContentType"].startswith("text/html")
    path = tmp_path_factory.mktemp("page") / "index.html"
    path.write_bytes(obj["Body"].read())
    with Browser() as b:
        b.open(str(path))
        yield b, summary, reports


def heatmap(b):
    return b.evaluate("[...document.querySelectorAll('#heatmap [data-arn][data-ns][data-class]')]"
                      ".map(e => [e.dataset.arn, e.dataset.ns, e.dataset.class, e.dataset.days ?? null])")


def test_the_page_shows_the_run_without_errors(page, account):
    b, summary, reports = page
    assert b.evaluate("document.body.dataset.ready") == "1"
    assert summary["run_id"] in b.evaluate("document.querySelector('#totals').textContent")
    type_filter(b, "input#principal-filter", account["tag"])
    assert set(rows(b)) == set(reports), "every seeded principal is listed"
    shown = b.evaluate("[...document.querySelectorAll('table#services tbody tr[data-ns]')].map(r => r.dataset.ns)")
    assert {"s3", "sqs", "dynamodb", "kms", "sns", "iam"} <= set(shown)
    b.pump(0.2)
    assert b.errors == []


def test_heatmap_cells_match_the_reports(page, account):
    b, _, reports = page
    type_filter(b, "input#principal-filter", account["tag"])
    cells = heatmap(b)
    assert {c[0] for c in cells} == set(reports)
    checked = 0
    for arn, ns, cls, days in cells:
        service = next((s for s in reports[arn]["services"] if s["namespace"] == ns), None)
        if service is None:
            assert cls == "none", (arn, ns, cls)
            continue
        expected_days = service["days_since_last_authenticated"]
        assert (cls, days) == (service["usage"], None if expected_days is None else str(expected_days)), (arn, ns)
        checked += 1
    granted = sum(len(r["services"]) for r in reports.values())
    assert checked == granted, "one cell per granted service"
    assert {"active", "stale", "never_used", "none"} <= {c[2] for c in cells}


def test_filtering_narrows_the_table(page, account):
    b, _, reports = page
    type_filter(b, "input#principal-filter", account["tag"])
    before = rows(b)
    type_filter(b, "input#principal-filter", account["admin"])
    assert rows(b) == [account["admin"]] and len(before) == len(reports) > 1
    assert {c[0] for c in heatmap(b)} == {account["admin"]}, "the heat map follows the filter"
    type_filter(b, "input#principal-filter", "")


def test_a_screenshot_is_not_blank(page, account, tmp_path):
    b, _, _ = page
    type_filter(b, "input#principal-filter", account["tag"])
    keep = os.environ.get("ILA_SCREENSHOT_DIR")
    target = os.path.join(keep, "run-page.png") if keep else tmp_path / "run-page.png"
    png = b.screenshot(target)
    if keep:  # the heat map, for docs/reports.md
        x, y = heatmap_origin(b)
        b.screenshot(os.path.join(keep, "run-page-heatmap.png"), clip=(x, y - 40, 1100, 420))
    width, height, colours = sampled_colours(png, 11)
    assert width > 400 and height > 300
    assert colours > 20, f"{colours} colours: blank"
    b.pump(0.2)
    assert b.errors == []
