"""The brief as one self-contained HTML file: inline CSS, inline SVG charts, DejaVu Sans embedded
as base64 ``@font-face`` (from matplotlib's data folder), no external URL; a print stylesheet
puts each section on its own page.  Each section is a ``<section id="...">`` (tests screenshot them)."""

from __future__ import annotations

import base64
import functools
import os
import tempfile
from pathlib import Path
from typing import Any

from parley.report.charts import ChartSet, font_dir
from parley.report.model import Brief, Figure, Table, display, short

TEMPLATE = "brief.html.j2"
_UMASK = os.umask(0o022)
os.umask(_UMASK)


@functools.lru_cache(maxsize=1)
def _fonts_css() -> str:
    faces = []
    for file, weight, style in (("DejaVuSans.ttf", 400, "normal"), ("DejaVuSans-Bold.ttf", 700, "normal"),
                                ("DejaVuSans-Oblique.ttf", 400, "italic")):
        data = base64.b64encode((font_dir() / file).read_bytes()).decode("ascii")
        faces.append(f"@font-face{{font-family:'DejaVu Sans';font-weight:{weight};font-style:{style};"
                     f"src:url(data:font/ttf;base64,{data}) format('truetype');}}")
    return "\n".join(faces)


@functools.lru_cache(maxsize=1)
def _env() -> Any:
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("parley.report", "templates"), autoescape=jinja2.select_autoescape(["j2", "html"]),
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    env.filters["show"] = display
    env.globals["cell"] = lambda t, r, c: t.cell_text(r, c)
    env.globals["tile_value"] = tile_value
    return env


def html(brief: Brief, charts: ChartSet) -> str:
    from markupsafe import Markup

    def chart(key: str) -> dict[str, Any] | None:
        c = charts.get(key)
        return None if c is None else {"svg": Markup(inline_svg(c.svg)), "title": c.title, "alt": c.alt, "source": c.source, "note": c.note}

    return str(_env().get_template(TEMPLATE).render(
        b=brief, fonts=Markup(_fonts_css()), chart=chart, tone=_tone, is_num=_is_num, sections=brief.sections()))


def inline_svg(svg: str) -> str:
    """The chart's SVG for inlining in HTML5: no metadata block and no namespace URLs (the HTML parser
    knows SVG), so the page holds no URL at all."""
    import re

    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    return re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", svg)


def tile_value(f: Figure) -> str:
    """A tile's big number: compact (142%), the label says the unit."""
    return "Not available" if f.value is None else short(f.value, f.unit) if f.unit == "percent_of_medicare" else f.display


def _tone(f: Figure) -> str:
    return "missing" if f.value is None else ""


def _is_num(t: Table, col: int) -> bool:
    return t.columns[col].align == "right"


def atomic_write(path: Path, data: bytes) -> Path:
    """Write ``data`` to a temporary file in the same folder, then rename: never a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600; a report is an ordinary file
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write(brief: Brief, charts: ChartSet, path: Path) -> Path:
    return atomic_write(path, html(brief, charts).encode("utf-8"))
