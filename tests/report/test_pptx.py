"""The PowerPoint brief: a 10-14 slide 16:9 deck from the model, with titles, numbers that equal the
model's, text that fits its boxes, and slides that say what is missing."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import office_brief as ob  # noqa: E402

from parley.report.charts import ChartSet, draw_charts  # noqa: E402

EMU = 914400


@pytest.fixture(scope="module")
def decks(tmp_path_factory: pytest.TempPathFactory):
    from parley.report.render_pptx import write
    from parley.store.workspace import init_workspace

    ws = init_workspace(tmp_path_factory.mktemp("office") / "ws", organization="Office Test")
    full = ob.full_brief(ob.office_valuations(ob.office_workspace(ws)))
    bare = ob.bare_brief()
    out = tmp_path_factory.mktemp("pptx")
    return {"full": (write(full, draw_charts(full), out / "full.pptx"), full),
            "bare": (write(bare, ChartSet(charts={}), out / "bare.pptx"), bare)}


def _texts(slide) -> str:
    parts = []
    for shape in slide.shapes:
        if shape.has_text_frame:
            parts.append(shape.text_frame.text)
        if getattr(shape, "has_table", False) and shape.has_table:
            parts += [c.text for row in shape.table.rows for c in row.cells]
    return "\n".join(parts)


@pytest.mark.parametrize("which", ["full", "bare"])
def test_deck_opens_with_titles_and_numbers(decks, which) -> None:
    from pptx import Presentation

    path, _ = decks[which]
    prs = Presentation(str(path))
    assert 10 <= len(prs.slides) <= 14
    assert round(prs.slide_width / prs.slide_height, 3) == round(16 / 9, 3)
    n = len(prs.slides)
    for i, slide in enumerate(prs.slides, start=1):
        title = slide.shapes.title
        assert title is not None and title.text_frame.text.strip(), f"slide {i} has no title"
        text = _texts(slide)
        assert f"{i} / {n}" in text
        if i > 1:
            assert "Source:" in text, f"slide {i} has no source footer"
        for shape in slide.shapes:  # nothing hangs off the slide
            assert shape.left + shape.width <= prs.slide_width + 10 and shape.top + shape.height <= prs.slide_height + 10


def test_summary_figures_equal_the_model(decks) -> None:
    from pptx import Presentation

    from parley.report.render_pptx import _big

    path, brief = decks["full"]
    slide = Presentation(str(path)).slides[1]
    assert slide.shapes.title.text_frame.text == brief.summary.headline
    text = _texts(slide)
    for f in brief.headline_figures:
        value, label = _big(f)
        assert value in text and label in text
    assert "$4.8M" in text and "118%" in text and "Negotiate" in text
    scen = _texts(Presentation(str(path)).slides[6])
    for v in brief.scenarios.valuations:
        assert v.proposal in scen


def test_charts_come_from_the_chart_set(decks) -> None:
    from pptx import Presentation

    path, brief = decks["full"]
    prs = Presentation(str(path))
    names = [s.name for slide in prs.slides for s in slide.shapes if s.shape_type == 13]
    keys = {c.key for c in brief.charts()}
    assert len(names) >= 5 and {n.removeprefix("chart ") for n in names} <= keys


@pytest.mark.parametrize("which", ["full", "bare"])
def test_text_fits_a_conservative_budget(decks, which) -> None:
    from pptx import Presentation

    path, _ = decks[which]
    _check_budget(Presentation(str(path)))


def _check_budget(prs) -> None:
    """Every text frame's text fits a character budget: (width / 0.6 em) characters x (height / 1.2 em) lines
    at its font size, at least one line per paragraph (the renderer itself wraps word by word, more strictly)."""
    from parley.report.render_pptx import text_frames

    for slide_no, tf, w, h in text_frames(prs):
        paras = [p for p in (p.text for p in tf.paragraphs) if p]
        if not paras:
            continue
        sizes = [r.font.size.pt for p in tf.paragraphs for r in p.runs if r.font.size is not None]
        assert sizes, f"slide {slide_no}: text without an explicit size: {paras[0][:40]!r}"
        pt = max(sizes)
        cpl = int((w - 0.1) * 72 / (pt * 0.6))  # characters per line at 0.6 em per glyph
        lines = int((h - 0.1) * 72 / (pt * 1.2))
        assert len(paras) <= lines and sum(len(p) for p in paras) <= cpl * lines, (slide_no, paras, pt, w, h)
        assert all(r.font.name == "DejaVu Sans" for p in tf.paragraphs for r in p.runs)


def test_missing_data_slides_say_so(decks) -> None:
    from pptx import Presentation

    path, brief = decks["bare"]
    prs = Presentation(str(path))
    texts = [_texts(s) for s in prs.slides]
    assert sum("What is missing" in t for t in texts) >= 6
    perf = texts[3]
    assert ob.NO_REMITS in perf and "$0" not in perf
    assert not any("$0" in t or " 0.0%" in t for t in texts)
    # the summary has no figure with a value: one missing box names the figures and the reason
    assert "What is missing" in texts[1] and "No remittances yet: Annual revenue, Rate level" in texts[1]


def test_fit_shrinks_then_shortens() -> None:
    from parley.report.render_pptx import fit, fits

    pt, paras = fit(["short"], 4, 1, 24, 10)
    assert pt == 24 and paras == ["short"]
    long = "word " * 200
    pt, paras = fit([long], 4, 1, 24, 10)
    assert pt == 10 and paras[0].endswith("...") and fits(paras, 4, 1, 10)


# --------------------------------------------------------------------------- on the service's own briefs (demo workspace)


def test_demo_brief_deck(demo_brief, tmp_path: Path) -> None:
    from pptx import Presentation

    from parley.report.render_pptx import _big, _summary_figures, write

    prs = Presentation(str(write(demo_brief, draw_charts(demo_brief), tmp_path / "demo.pptx")))
    assert 10 <= len(prs.slides) <= 14
    assert all(s.shapes.title is not None and s.shapes.title.text_frame.text.strip() for s in prs.slides)
    summary = _texts(prs.slides[1])
    figs = _summary_figures(demo_brief)
    assert 3 <= len(figs) <= 5
    for f in figs:
        value, label = _big(f)
        assert value in summary and label in summary
    assert demo_brief.summary.decision is None or demo_brief.summary.decision.capitalize() in summary
    _check_budget(prs)


def test_payer_without_remits_deck_says_what_is_missing(bare_brief, tmp_path: Path) -> None:
    from pptx import Presentation

    from parley.report.render_pptx import write

    prs = Presentation(str(write(bare_brief, draw_charts(bare_brief), tmp_path / "bare.pptx")))
    texts = [_texts(s) for s in prs.slides]
    assert 10 <= len(prs.slides) <= 14
    assert sum("What is missing" in t for t in texts) >= 5
    assert not any("$0 " in t or "$0\n" in t for t in texts)
    _check_budget(prs)


def test_control_characters_from_user_data_are_dropped(tmp_path: Path) -> None:
    from pptx import Presentation

    from parley.report.render_pptx import write

    prs = Presentation(str(write(ob.bare_brief("ODD\x0bPAYER\x01 & <co>"), ChartSet(charts={}), tmp_path / "odd.pptx")))
    assert prs.slides[0].shapes.title.text_frame.text == "Negotiation brief: ODD PAYER & <co>"
