"""An Organization run's pages in a real browser: a synthetic run of 1,000 accounts (the
page_bench example with `--accounts`: the second account INCOMPLETE, the last
UNREACHABLE, its member role refused), its overview and an account's page opened in
headless chromium and checked against what the run says of each account.

Needs `chromium` on PATH (skipped, saying so, without it) and the page_bench example
(built here when missing).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cdp import Browser, find_chromium  # noqa: E402
from test_page_sample import bench_binary, embedded, type_filter  # noqa: E402

ACCOUNTS = 1000
PRINCIPALS = 3000


def account_id(k: int) -> str:
    return f"{210_000_000_000 + k:012d}"


UNREACHABLE = account_id(ACCOUNTS - 1)
INCOMPLETE = account_id(1)


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    if not find_chromium():
        pytest.skip("chromium is not installed (Debian package `chromium`)")
    out = tmp_path_factory.mktemp("org") / "index.html"
    r = subprocess.run([str(bench_binary()), "--principals", str(PRINCIPALS), "--accounts", str(ACCOUNTS),
                        "--recommendations", "--out", str(out)], capture_output=True, text=True, check=True)
    assert f"account_pages {ACCOUNTS - 1}" in r.stdout, r.stdout
    with Browser() as b:
        b.open(str(out))
        yield b, out


def account_rows(b) -> list[dict]:
    return b.evaluate("""[...document.querySelectorAll('table#accounts tbody tr[data-account]')].map(r => ({
        id: r.dataset.account, status: r.dataset.status,
        cells: [...r.querySelectorAll('td')].map(td => td.textContent),
        link: r.querySelector('a')?.getAttribute('href') ?? null}))""")


def choose_status(b, status: str) -> None:
    b.evaluate(f"(() => {{ const s = document.querySelector('select#account-status'); s.value = {json.dumps(status)};"
               " s.dispatchEvent(new Event('change', {bubbles: true})); })()")


def reset(b) -> None:
    type_filter(b, "input#account-filter", "")
    choose_status(b, "")


def test_the_overview_names_every_account_and_the_unreachable_one_with_its_reason(pages):
    b, out = pages
    assert b.evaluate("document.body.dataset.ready") == "1"
    reset(b)
    rows = account_rows(b)
    assert len(rows) == ACCOUNTS
    assert {r["id"] for r in rows} == {account_id(k) for k in range(ACCOUNTS)}
    by_id = {r["id"]: r for r in rows}
    # Those not fully read first.
    assert [r["id"] for r in rows[:2]] == [UNREACHABLE, INCOMPLETE]
    # id, name, OU path, status, principals, reports, granted, unused, error
    gone = by_id[UNREACHABLE]
    assert gone["status"] == "UNREACHABLE" and gone["link"] is None
    assert gone["cells"][:5] == [UNREACHABLE, f"workload-{ACCOUNTS - 1:04d}", f"r-ab12/ou-ab12-{(ACCOUNTS - 1) % 7:08d}",
                                 "UNREACHABLE", "0"]
    reason = gone["cells"][8]
    assert reason.startswith("AccessDenied") and "sts:AssumeRole" in reason, reason
    assert f"arn:aws:iam::{UNREACHABLE}:role/iam-last-accessed-member" in reason, reason
    half = by_id[INCOMPLETE]
    assert half["status"] == "INCOMPLETE" and half["link"] == f"accounts/{INCOMPLETE}.html"
    assert "failed" in half["cells"][8], half
    fine = by_id[account_id(5)]
    assert (fine["status"], fine["cells"][1], fine["cells"][8]) == ("SUCCEEDED", "workload-0005", "")
    assert fine["link"] == f"accounts/{account_id(5)}.html" and (out.parent / fine["link"]).exists()
    assert "1,000 of 1,000 accounts" in b.evaluate("document.getElementById('account-count').textContent")
    # Beside the run's status: which accounts were not fully read, and why.
    why = b.evaluate("document.getElementById('run-why').textContent")
    assert "2 of 1,000 accounts not fully read" in why, why
    assert UNREACHABLE in why and "UNREACHABLE" in why and reason in why, why
    assert INCOMPLETE in why and "INCOMPLETE" in why, why
    b.pump(0.2)
    assert b.errors == []


def test_the_accounts_filter_by_id_name_and_status(pages):
    b, _ = pages
    reset(b)
    type_filter(b, "input#account-filter", account_id(42))
    assert [r["id"] for r in account_rows(b)] == [account_id(42)]
    type_filter(b, "input#account-filter", "WORKLOAD-009")
    assert sorted(r["id"] for r in account_rows(b)) == [account_id(k) for k in range(90, 100)]
    type_filter(b, "input#account-filter", "no such account")
    assert account_rows(b) == []
    assert "No account matches" in b.evaluate("document.querySelector('table#accounts tbody').textContent")
    type_filter(b, "input#account-filter", "")
    choose_status(b, "UNREACHABLE")
    assert [r["id"] for r in account_rows(b)] == [UNREACHABLE]
    choose_status(b, "INCOMPLETE")
    assert [r["id"] for r in account_rows(b)] == [INCOMPLETE]
    choose_status(b, "SUCCEEDED")
    assert len(account_rows(b)) == ACCOUNTS - 2
    options = b.evaluate("[...document.querySelectorAll('select#account-status option')].map(o => o.textContent)")
    assert options == ["Every status", "SUCCEEDED (998)", "INCOMPLETE (1)", "UNREACHABLE (1)"]
    reset(b)


def test_the_accounts_sort_by_a_column(pages):
    b, _ = pages
    reset(b)
    b.evaluate("document.querySelector('table#accounts th[data-sort=\"services_unused\"]').click()")
    unused = [int(r["cells"][7].replace(",", "")) for r in account_rows(b)]
    assert unused == sorted(unused, reverse=True) and unused[0] > unused[-1] == 0
    b.evaluate("document.querySelector('table#accounts th[data-sort=\"id\"]').click()")
    assert [r["id"] for r in account_rows(b)] == [account_id(k) for k in range(ACCOUNTS)]


def test_the_top_unused_name_and_link_their_accounts(pages):
    b, _ = pages
    top = b.evaluate("[...document.querySelectorAll('#totals li')].filter(li => li.querySelector('a.acct'))"
                     ".map(li => [li.querySelector('a.acct').getAttribute('href'), li.textContent])")
    assert top, "the top unused principals"
    for href, text in top:
        account = href.removeprefix("accounts/").removesuffix(".html")
        assert text.startswith(f"[{account} (workload-"), text
        arn_account = text.split("arn:aws:iam::")[1].split(":")[0]
        assert arn_account in (account, "aws"), text


def test_an_account_page_shows_its_account_in_every_row_and_label(pages):
    b, out = pages
    account = account_id(3)  # it holds an AWS-managed policy (its ARN names `aws`)
    path = out.parent / "accounts" / f"{account}.html"
    data = embedded(path.read_text())
    b.open(str(path))
    assert account in b.evaluate("document.getElementById('account').textContent")
    assert "Batches1 of 1 reported" in b.evaluate("document.getElementById('totals').textContent")
    rows = b.evaluate("""[...document.querySelectorAll('table#principals tbody tr[data-arn]')].map(r => [
        r.dataset.arn, r.dataset.account, r.querySelector('td.account').textContent,
        r.querySelector('td.recommendations').textContent])""")
    assert sorted(r[0] for r in rows) == sorted(p[0] for p in data["principals"]) and len(rows) >= 3
    assert {r[1] for r in rows} == {account}
    assert {r[2] for r in rows} == {f"{account} (workload-0003)"}
    assert any(r[0].startswith("arn:aws:iam::aws:policy/") for r in rows), "an AWS-managed policy, in its account"
    # Each principal's recommendations count, as its outcome counted them.
    by_arn = {p[0]: p for p in data["principals"]}
    for arn, _, _, recs in rows:
        extra = by_arn[arn][9] if len(by_arn[arn]) > 9 else {}
        expected = "withheld" if extra.get("w") and not extra.get("n") else f"{extra.get('n', 0):,}"
        assert recs == expected, (arn, recs, extra)
    labels = b.evaluate("[...document.querySelectorAll('#heatmap tr[data-arn]')].map(r => [r.dataset.account,"
                        " r.querySelector('th.row').textContent])")
    assert labels and all(a == account and text.startswith(account + " ") for a, text in labels), labels
    # The filter finds principals by their account's name too.
    type_filter(b, "input#principal-filter", "workload-0003")
    assert len(b.evaluate("[...document.querySelectorAll('table#principals tbody tr[data-arn]')]")) == len(rows)
    b.evaluate("document.querySelector('table#principals tbody tr[data-arn] td').click()")
    assert f"{account} (workload-0003)" in b.evaluate("document.querySelector('#detail .cards').textContent")
    b.pump(0.2)
    assert b.errors == []
