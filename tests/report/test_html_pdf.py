"""The brief's HTML (headless Chromium: a screenshot of every section) and PDF (pdftoppm pages,
contents page, page numbers, real text in DejaVu Sans)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SECTIONS = ["summary", "inventory", "performance", "value", "scenarios", "playbook", "method"]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _need(binary: str) -> None:
    if shutil.which(binary) is None and not Path(binary).exists():
        pytest.skip(f"{binary} is not installed (CI installs it)")


def test_html_is_self_contained(rendered: dict) -> None:
    text = Path(rendered["files"]["html"]).read_text(encoding="utf-8")
    assert "http" not in text.lower(), "the HTML must not reference any URL"
    assert "@font-face" in text and "data:font/ttf;base64," in text
    assert text.count("<svg") >= 8
    for sid in SECTIONS:
        assert f'<section class="section" id="{sid}">' in text
    assert "@media print" in text


def test_html_sections_in_chromium(rendered: dict, tmp_path: Path) -> None:
    _need(CHROMIUM)
    from PIL import Image, ImageStat
    from playwright.sync_api import sync_playwright

    html = Path(rendered["files"]["html"])
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto(html.as_uri())
            page.wait_for_load_state("load")
            fonts_ok = page.evaluate("document.fonts.check('12px \"DejaVu Sans\"')")
            for sid in SECTIONS:
                el = page.locator(f"section#{sid}")
                box = el.bounding_box()
                assert box and box["width"] >= 800 and box["height"] >= 250, (sid, box)
                shot = tmp_path / f"{sid}.png"
                el.screenshot(path=str(shot))
                img = Image.open(shot).convert("L")
                stat = ImageStat.Stat(img)
                assert stat.stddev[0] > 10, f"section {sid} looks blank"
                dark = sum(img.histogram()[:128]) / (img.width * img.height)
                assert 0.005 < dark < 0.6, (sid, dark)
            pdf = tmp_path / "print.pdf"
            page.pdf(path=str(pdf), format="Letter")
        finally:
            browser.close()
    assert fonts_ok
    assert all(u.startswith(("file:", "data:")) for u in requests), [u for u in requests if not u.startswith(("file:", "data:"))]
    assert pdf.stat().st_size > 10_000


def test_pdf_pages_contents_and_numbers(rendered: dict, tmp_path: Path) -> None:
    _need("pdftoppm")
    pdf = Path(rendered["files"]["pdf"])
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True, capture_output=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert 8 <= len(pages) <= 40
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    per_page = text.split("\f")
    contents = per_page[1].lower()
    assert "contents" in contents and "executive summary" in contents and "method notes" in contents
    numbers = re.findall(r"Page (\d+) of (\d+)", text)
    assert len(numbers) >= len(pages) - 1 and {int(n) for _, n in numbers} == {len(pages)}
    assert "Keystone National Health" in per_page[0]
    fonts = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True).stdout
    assert "DejaVuSans" in fonts and "Type 3" not in fonts


def test_pdf_charts_are_vector(rendered: dict) -> None:
    _need("pdfimages")
    out = subprocess.run(["pdfimages", "-list", rendered["files"]["pdf"]], check=True, capture_output=True, text=True).stdout
    assert len(out.strip().splitlines()) <= 2, "charts must be vector, not raster images"


def test_missing_data_rendered(bare_brief, tmp_path: Path) -> None:
    from parley.report import render_html, render_pdf
    from parley.report.charts import draw_charts

    charts = draw_charts(bare_brief)
    html = render_html.write(bare_brief, charts, tmp_path / "bare.html").read_text(encoding="utf-8")
    assert "What is missing" in html and "No remittances yet" in html and "No quality data" in html
    pdf = render_pdf.write(bare_brief, charts, tmp_path / "bare.pdf")
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
        assert "No remittances yet" in " ".join(text.split())


def test_write_is_atomic(demo_brief, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import typst

    from parley.report import render_pdf
    from parley.report.charts import ChartSet

    def boom(*a: object, **k: object) -> None:
        raise RuntimeError("typesetting failed")

    monkeypatch.setattr(typst, "compile", boom)
    with pytest.raises(RuntimeError):
        render_pdf.write(demo_brief, ChartSet(charts={}), tmp_path / "x.pdf")
    assert list(tmp_path.iterdir()) == []
