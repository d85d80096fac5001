"""The run's page in a real browser: a synthetic run of 300 principals (the page_bench
example) opened in headless chromium, checked against its own embedded data.

Needs `chromium` on PATH (skipped, saying so, without it) and the page_bench example
(`cargo build -p last-accessed --example page_bench`; built here when missing).
"""

from __future__ import annotations

import json
import math
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cdp import Browser, find_chromium  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PRINCIPALS = 300
PAGE_SIZE = 50
MAX_COLUMNS = 400
CLASSES = ["active", "stale", "never_used"]
HOSTILE = "</script><script>alert(1)</script>"
DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def bench_binary() -> Path:
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    if not target.is_absolute():
        target = ROOT / target
    binary = target / "debug" / "examples" / "page_bench"
    if not binary.exists():
        subprocess.run(["cargo", "build", "-p", "last-accessed", "--example", "page_bench"],
                       cwd=ROOT, check=True)
    return binary


# ---- the embedded data, decoded here (not by the page's script) -----------------------

def embedded(html: str) -> dict:
    start_tag = '<script type="application/json" id="ila-data">'
    assert html.count(start_tag) == 1
    start = html.index(start_tag) + len(start_tag)
    return json.loads(html[start:html.index("</script>", start)])


def number(text: str, at: int, width: int) -> int:
    n = 0
    for ch in text[at:at + width]:
        n = n * 64 + DIGITS.index(ch)
    return n


def cells(data: dict, p: list) -> list[dict]:
    """A principal's services: ns, class, days."""
    text, width = p[8], data["enc"]["k"]
    irregular = (p[9] if len(p) > 9 else {}).get("i", {})
    out, at, n = [], 0, 0
    while at < len(text):
        k = number(text, at, width)
        at += width
        days = None
        if text[at] == ".":
            at += 1
        elif text[at] == "~":
            at += 1
            days = irregular[str(n)][0]
        else:
            days = number(text, at, 5) // 86400
            at += 5
        out.append({"s": k // 3, "ns": data["services"][k // 3][0], "class": CLASSES[k % 3], "days": days})
        n += 1
    return out


def policies(data: dict, p: list) -> dict[int, list[str]]:
    text = (p[9] if len(p) > 9 else {}).get("p", "")
    cw, pw = data["enc"]["c"], data["enc"]["p"]
    out: dict[int, list[str]] = {}
    at = 0
    while at < len(text):
        cell = number(text, at, cw)
        count = number(text, at + cw, 1)
        at += cw + 1
        for _ in range(count):
            out.setdefault(cell, []).append(data["policies"][number(text, at, pw)])
            at += pw
    return out


# ---- a small PNG reader: enough to tell a blank screenshot -----------------------------

def png_pixels(png: bytes) -> tuple[int, int, int, bytes]:
    """(width, height, bytes per pixel, unfiltered pixel rows) of an 8-bit RGB(A) PNG."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    at, idat, width = 8, b"", 0
    while at < len(png):
        length, kind = struct.unpack(">I4s", png[at:at + 8])
        body = png[at + 8:at + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour in (2, 6), (depth, colour)
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = bytearray(), bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows += line
        prev = line
    return width, height, bpp, bytes(rows)


def sampled_colours(png: bytes, every: int) -> tuple[int, int, int]:
    """(width, height, distinct colours among every `every`-th pixel) of a screenshot."""
    width, height, bpp, pixels = png_pixels(png)
    return width, height, len({pixels[i:i + 3] for i in range(0, len(pixels), bpp * every)})


def heatmap_origin(b) -> list[float]:
    """The heat map's top-left corner, in page coordinates (for a clipped screenshot)."""
    return b.evaluate("(() => { const r = document.getElementById('heatmap').getBoundingClientRect();"
                      " return [r.left + scrollX, r.top + scrollY]; })()")


# ---- fixtures ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def page(tmp_path_factory):
    if not find_chromium():
        pytest.skip("chromium is not installed (Debian package `chromium`)")
    out = tmp_path_factory.mktemp("page") / "index.html"
    r = subprocess.run([str(bench_binary()), "--principals", str(PRINCIPALS), "--out", str(out)],
                       capture_output=True, text=True, check=True)
    assert "html_bytes" in r.stdout and "html_build_s" in r.stdout, r.stdout
    data = embedded(out.read_text())
    with Browser() as b:
        b.open(str(out))
        yield b, data, out


def rows(b) -> list[str]:
    return b.evaluate("[...document.querySelectorAll('table#principals tbody tr[data-arn]')]"
                      ".map(r => r.dataset.arn)")


def type_filter(b, selector: str, text: str) -> None:
    b.evaluate(f"(() => {{ const i = document.querySelector({json.dumps(selector)});"
               f" i.value = {json.dumps(text)}; i.dispatchEvent(new Event('input', {{bubbles: true}})); }})()")


def reset(b) -> None:
    type_filter(b, "input#principal-filter", "")


# ---- tests ------------------------------------------------------------------------------

def test_renders_without_errors(page):
    b, data, _ = page
    assert b.evaluate("document.body.dataset.ready") == "1"
    assert b.evaluate("typeof window.ILA_FIRST_RENDER_MS") == "number"
    assert len(data["principals"]) == PRINCIPALS
    assert b.evaluate("document.querySelector('#totals').textContent").count(data["run"]["run_id"]) >= 1
    assert "Previous run" in b.evaluate("document.querySelector('#changes').textContent")
    b.pump(0.2)
    assert b.errors == []


def test_first_page_in_default_order(page):
    b, data, _ = page
    reset(b)
    expected = sorted(data["principals"], key=lambda p: (-(p[5] + p[6]), p[0]))[:PAGE_SIZE]
    assert rows(b) == [p[0] for p in expected]
    pages = math.ceil(PRINCIPALS / PAGE_SIZE)
    assert b.evaluate("document.querySelector('#principal-pager').textContent").count(f"page 1 of {pages}") == 1


def test_known_principal_and_service_appear(page):
    b, data, _ = page
    arn = data["principals"][0][0]
    type_filter(b, "input#principal-filter", arn.upper())
    assert rows(b) == [arn]
    reset(b)
    s3 = next(s for s in data["services"] if s[0] == "s3")
    cells = b.evaluate("[...document.querySelectorAll('table#services tbody tr[data-ns=\"s3\"] td')]"
                       ".map(td => td.textContent)")
    assert cells[:5] == ["s3", *(f"{n:,}" for n in s3[1:5])]
    assert b.evaluate("document.querySelectorAll('table#services tbody tr[data-ns]').length") == len(data["services"])
    type_filter(b, "input#service-filter", "svc00")
    shown = b.evaluate("[...document.querySelectorAll('table#services tbody tr[data-ns]')].map(r => r.dataset.ns)")
    assert shown and all("svc00" in ns for ns in shown)
    assert len(shown) == sum("svc00" in s[0] for s in data["services"])
    type_filter(b, "input#service-filter", "")


def test_heatmap_matches_the_data(page):
    b, data, _ = page
    reset(b)
    by_arn = {p[0]: p for p in data["principals"]}
    arns = rows(b)
    assert len(arns) == PAGE_SIZE
    page_cells = {arn: {c["ns"]: c for c in cells(data, by_arn[arn])} for arn in arns}
    # Most granted in the run first (the services' table is in first-seen order).
    columns = sorted({c["s"] for arn in arns for c in cells(data, by_arn[arn])},
                     key=lambda s: (-data["services"][s][1], s))[:MAX_COLUMNS]
    expected = []
    for arn in arns:
        for s in columns:
            ns = data["services"][s][0]
            c = page_cells[arn].get(ns)
            if c is None:
                expected.append([arn, ns, "none", None])
            else:
                expected.append([arn, ns, c["class"], None if c["days"] is None else str(c["days"])])
    shown = b.evaluate("[...document.querySelectorAll('#heatmap [data-arn][data-ns][data-class]')]"
                       ".map(e => [e.dataset.arn, e.dataset.ns, e.dataset.class, e.dataset.days ?? null])")
    assert shown == expected
    classes = {e[2] for e in shown}
    assert {"active", "stale", "never_used", "none"} <= classes
    # The classes look different.
    colours = b.evaluate("""Object.fromEntries(['active', 'stale', 'never_used', 'none'].map(c => [c,
        getComputedStyle(document.querySelector('#heatmap [data-class="' + c + '"]')).backgroundColor]))""")
    assert len(set(colours.values())) == 4, colours


def test_filter_narrows_and_the_heatmap_follows(page):
    b, data, _ = page
    type_filter(b, "input#principal-filter", "GROUP/")
    matching = [p[0] for p in data["principals"] if "group/" in p[0].lower()]
    shown = rows(b)
    assert 0 < len(shown) < PAGE_SIZE or len(matching) > PAGE_SIZE
    assert len(shown) == min(len(matching), PAGE_SIZE)
    assert all("group/" in a for a in shown)
    hm = b.evaluate("[...new Set([...document.querySelectorAll('#heatmap [data-arn]')].map(e => e.dataset.arn))]")
    assert hm == shown
    type_filter(b, "input#principal-filter", "no such principal at all")
    assert rows(b) == []
    reset(b)
    assert len(rows(b)) == PAGE_SIZE


def test_sort_and_pages(page):
    b, data, _ = page
    reset(b)
    b.evaluate("document.querySelector('table#principals th[data-sort=\"granted\"]').click()")
    by_arn = {p[0]: p for p in data["principals"]}
    granted = [by_arn[a][3] for a in rows(b)]
    assert granted == sorted(granted, reverse=True)
    assert granted[0] == max(p[3] for p in data["principals"])
    b.evaluate("document.querySelector('table#principals th[data-sort=\"granted\"]').click()")
    granted = [by_arn[a][3] for a in rows(b)]
    assert granted == sorted(granted) and granted[0] == min(p[3] for p in data["principals"])
    first = rows(b)
    b.evaluate("document.querySelector('#principal-pager button.next').click()")
    assert "page 2 of" in b.evaluate("document.querySelector('#principal-pager').textContent")
    assert set(rows(b)).isdisjoint(first)
    b.evaluate("document.querySelector('#principal-pager button.prev').click()")
    assert rows(b) == first


def test_detail_of_a_principal(page):
    b, data, _ = page
    p = data["principals"][0]
    type_filter(b, "input#principal-filter", p[0])
    b.evaluate(f"document.querySelector('table#principals tbody tr[data-arn=\"{p[0]}\"] td').click()")
    assert b.evaluate("document.querySelector('#detail').dataset.arn") == p[0]
    detail = b.evaluate("[...document.querySelectorAll('#detail table#detail-services tbody tr')]"
                        ".map(r => [r.dataset.ns, r.dataset.class])")
    assert sorted(detail) == sorted([c["ns"], c["class"]] for c in cells(data, p))
    text = b.evaluate("document.querySelector('#detail').textContent")
    # The hostile policy name is shown as text, not run.
    names = {n for ns in policies(data, p).values() for n in ns}
    assert any(HOSTILE in n for n in names)
    assert HOSTILE in text
    assert b.evaluate("document.querySelectorAll('script').length") == 2
    reset(b)
    b.pump(0.2)
    assert b.errors == []


def test_screenshot_is_not_blank(page, tmp_path):
    b, _, _ = page
    reset(b)
    # The top of the heat map, in page coordinates (a small clip keeps the decoding quick).
    x, y = heatmap_origin(b)
    png = b.screenshot(tmp_path / "page.png", clip=(x, y, 600, 300))
    width, height, colours = sampled_colours(png, 7)
    assert width > 100 and height > 100
    assert colours > 20, f"{colours} colours"
    b.pump(0.2)
    assert b.errors == []


def test_empty_run_renders(tmp_path):
    if not find_chromium():
        pytest.skip("chromium is not installed (Debian package `chromium`)")
    out = tmp_path / "empty.html"
    subprocess.run([str(bench_binary()), "--principals", "0", "--out", str(out)],
                   capture_output=True, text=True, check=True)
    data = embedded(out.read_text())
    assert data["principals"] == [] and data["services"] == []
    with Browser() as b:
        b.open(str(out))
        assert b.evaluate("document.querySelectorAll('table#principals tbody tr[data-arn]').length") == 0
        assert b.evaluate("document.querySelectorAll('#heatmap [data-class]').length") == 0
        assert "page 1 of 1" in b.evaluate("document.querySelector('#principal-pager').textContent")
        b.pump(0.2)
        assert b.errors == []


def test_every_row_and_label_names_its_account(page):
    """A run of the stack's own account: the account in every principal row, heat-map
    label and detail; no recommendations column when the run asked for none."""
    b, data, _ = page
    reset(b)
    rows = b.evaluate("[...document.querySelectorAll('table#principals tbody tr[data-arn]')]"
                      ".map(r => [r.dataset.arn, r.dataset.account, r.querySelector('td.account').textContent])")
    assert len(rows) == PAGE_SIZE
    assert all(account == text == arn.split(":")[4] == "123456789012" for arn, account, text in rows), rows[:3]
    labels = b.evaluate("[...document.querySelectorAll('#heatmap tr[data-arn] th.row')].map(th => th.textContent)")
    assert len(labels) == PAGE_SIZE and all(t.startswith("123456789012 ") for t in labels), labels[:3]
    assert data["run"]["recommendations"] is False
    assert b.evaluate("document.querySelector('table#principals th[data-sort=\"recommendations\"]').hidden") is True
    assert b.evaluate("document.querySelectorAll('table#principals td.recommendations').length") == 0
    assert b.evaluate("document.getElementById('accounts-section').hidden") is True
    b.evaluate("document.querySelector('table#principals tbody tr[data-arn] td').click()")
    assert "Account123456789012" in b.evaluate("document.querySelector('#detail .cards').textContent")
