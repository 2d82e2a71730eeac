"""The brief as a typeset PDF (Typst): cover, contents page, running header, page numbers,
DejaVu Sans throughout (the same font file as the charts and the HTML), charts as SVG so they
stay vector, text as real text.

The Typst source is generated from the model; every string is passed as a Typst string
literal (``#"..."``), so no user text is ever interpreted as markup.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from parley.report.charts import ChartSet, font_dir
from parley.report.model import Brief, Figure, Section, Table, display, short
from parley.report.render_html import atomic_write

INK, MUTED, RULE, ACCENT, AMBER, SOFT = "#1F2933", "#616E7C", "#D9DEE3", "#0072B2", "#9A6700", "#F4F6F8"
SEVERITY = {"high": "#D55E00", "medium": AMBER, "low": MUTED}
DECISION = {"accept": "#009E73", "negotiate": ACCENT, "decline": "#D55E00"}


def s(text: object) -> str:
    """A Typst string literal shown as text (no markup interpretation)."""
    t = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    return f'#"{t}"'


def lit(text: object) -> str:
    """A Typst string literal for code mode."""
    return s(text)[1:]


PREAMBLE = """
#set document(title: {title}, author: {org})
#set text(font: "DejaVu Sans", size: 9pt, fill: rgb("{ink}"), lang: "en")
#set par(justify: false, leading: 0.55em)
#show heading.where(level: 1): it => block(above: 0pt, below: 6pt)[
  #text(size: 8pt, weight: "bold", fill: rgb("{accent}"), tracking: 0.08em)[#upper(it.body)]]
#show heading.where(level: 2): it => block(above: 12pt, below: 5pt)[
  #text(size: 7.5pt, weight: "bold", fill: rgb("{muted}"), tracking: 0.06em)[#upper(it.body)]]
#let headline(body) = block(below: 10pt)[#text(size: 15pt, weight: "bold")[#body]]
#let rule() = line(length: 100%, stroke: 0.6pt + rgb("{rule}"))
#let tile(label, value, def, missing: false) = block(width: 100%, inset: (x: 7pt, y: 6pt),
  stroke: (top: 2.2pt + (if missing {{ rgb("{rule}") }} else {{ rgb("{accent}") }}), rest: 0.5pt + rgb("{rule}")),
  fill: if missing {{ rgb("{soft}") }} else {{ white }}, breakable: false)[
  #text(size: 6.5pt, fill: rgb("{muted}"), tracking: 0.04em)[#upper(label)] \\
  #text(size: if missing {{ 9.5pt }} else {{ 14pt }}, weight: if missing {{ "regular" }} else {{ "bold" }},
        fill: if missing {{ rgb("{muted}") }} else {{ rgb("{ink}") }})[#value] \\
  #text(size: 6.5pt, fill: rgb("{muted}"))[#def]]
#let missingbox(items) = block(width: 100%, inset: 8pt, fill: rgb("#FFF8E6"), stroke: (left: 2.5pt + rgb("{amber}")))[
  #text(size: 7pt, weight: "bold", fill: rgb("{amber}"), tracking: 0.05em)[WHAT IS MISSING] \\
  #set text(size: 8pt)
  #for m in items [- #m \\ ]]
#let chart(path, title, note) = block(breakable: false, above: 10pt, below: 10pt)[
  #text(weight: "bold", size: 9pt)[#title]
  #v(-2pt)
  #image(path, width: 100%)
  #if note != none [#text(size: 7pt, fill: rgb("{muted}"))[#note]]]
"""


def _page_setup(b: Brief) -> str:
    return f"""
#set page(paper: "us-letter", margin: (x: 17mm, top: 20mm, bottom: 18mm),
  header: context {{
    if counter(page).get().first() > 1 [
      #set text(size: 7pt, fill: rgb("{MUTED}"))
      {s(b.payer.title())} · Negotiation brief #h(1fr) {s(b.organization)} · Confidential
      #v(-4pt) #line(length: 100%, stroke: 0.4pt + rgb("{RULE}"))
    ]
  }},
  footer: context {{
    set text(size: 7pt, fill: rgb("{MUTED}"))
    if counter(page).get().first() > 1 [
      Data as of {s(display(b.as_of, "date"))} #h(1fr) Page #counter(page).display() of #counter(page).final().first()
    ]
  }})
"""


def _cover(b: Brief) -> str:
    dec = b.summary.decision
    colour = DECISION.get(dec or "", MUTED)
    period = (f"{display(b.base_period[0], 'date')} – {display(b.base_period[1], 'date')}" if b.base_period else "no history yet")
    meta = [("Contracts", ", ".join(b.contracts)), ("Data as of", display(b.as_of, "date")), ("Base period", period),
            ("Prepared", f"{b.generated_at:%d %b %Y} by Parley")]
    cells = ", ".join(f"[#text(size: 7pt, fill: rgb(\"{MUTED}\"))[{s(k.upper())}] \\ {s(v)}]" for k, v in meta)
    return f"""
#v(40mm)
#text(size: 8pt, fill: rgb("{MUTED}"), tracking: 0.1em)[{s((b.organization + " · Negotiation brief · Confidential").upper())}]
#v(4pt)
#text(size: 28pt, weight: "bold")[{s(b.payer.title())}]
#v(2pt)
#text(size: 11pt, fill: rgb("{MUTED}"))[{s(b.subtitle)}]
#v(6pt)
#line(length: 100%, stroke: 1.5pt + rgb("{INK}"))
#v(6pt)
#grid(columns: (1fr, 1fr, 1fr, 1fr), gutter: 10pt, {cells})
#v(18mm)
#block(width: 100%, inset: 12pt, fill: rgb("{SOFT}"), stroke: 0.5pt + rgb("{RULE}"))[
  #box(fill: rgb("{colour}"), inset: (x: 9pt, y: 5pt))[#text(fill: white, weight: "bold", size: 11pt)[{s((dec or "no score").upper())}]]
  #h(8pt) #text(size: 12pt, weight: "bold")[{s(b.summary.headline)}]
]
#pagebreak()
#outline(title: [Contents], depth: 1, indent: 0pt)
#pagebreak()
"""


def _tiles(figs: list[Figure], cols: int = 4) -> str:
    if not figs:
        return ""
    items = []
    for f in figs:
        value = "Not available" if f.value is None else (short(f.value, f.unit) if f.unit == "percent_of_medicare" else f.display)
        note = f.missing if f.value is None and f.missing else f.definition
        items.append(f"tile({lit(f.label)}, {lit(value)}, {lit(note)}, missing: {'true' if f.value is None else 'false'})")
    return f"#grid(columns: ({', '.join(['1fr'] * cols)}), gutter: 6pt, {', '.join(items)})\n"


def _table(t: Table) -> str:
    cols = len(t.columns)
    aligns = ", ".join({"right": "right", "center": "center"}.get(c.align, "left") for c in t.columns)
    head = ", ".join(f"[#text(size: 6.5pt, weight: \"bold\", fill: rgb(\"{MUTED}\"))[{s(c.label.upper())}]]" for c in t.columns)
    body = []
    for r in range(len(t.rows)):
        bold = r in t.highlight_rows
        for c in range(cols):
            v = t.cell_text(r, c)
            if t.columns[c].key == "severity":
                body.append(f"[#box(fill: rgb(\"{SEVERITY.get(v, MUTED)}\"), inset: (x: 3pt, y: 1.5pt))"
                            f"[#text(fill: white, size: 6.5pt, weight: \"bold\")[{s(v.upper())}]]]")
            else:
                body.append(f"[#text(weight: \"{'bold' if bold else 'regular'}\")[{s(v)}]]")
    fill = f"(x, y) => if y > 0 and ({' or '.join(f'y == {r + 1}' for r in t.highlight_rows) or 'false'}) {{ rgb(\"#EAF3FA\") }}"
    foot = " ".join(x for x in (f"Source: {t.source}." if t.source else "", t.note or "") if x)
    return f"""
#block(breakable: true, above: 10pt)[
#text(weight: "bold", size: 9pt)[{s(t.title)}]
#set text(size: 7.5pt)
#table(columns: {_widths(t)}, align: ({aligns},), stroke: (x, y) => (bottom: if y == 0 {{ 1pt + rgb("{INK}") }} else {{ 0.4pt + rgb("{RULE}") }}),
  fill: {fill}, inset: (x: 4pt, y: 3.5pt),
  table.header({head}), {", ".join(body)})
{f'#text(size: 6.5pt, fill: rgb("{MUTED}"))[{s(foot)}]' if foot else ''}
]
"""


def _widths(t: Table) -> str:
    """Full-width tables: the left-aligned column with the longest text takes the rest of the line."""
    lefts = [i for i, c in enumerate(t.columns) if c.align == "left"] or [0]
    wide = max(lefts, key=lambda i: sum(len(t.cell_text(r, i)) for r in range(len(t.rows))))
    return "(" + ", ".join("1fr" if i == wide else "auto" for i in range(len(t.columns))) + ",)"


def _bullets(items: list[str]) -> str:
    return "".join(f"- {s(m)}\n" for m in items) + "\n" if items else ""


def _charts(sec: Section, charts: ChartSet, names: dict[str, str]) -> str:
    out = []
    for cd in sec.charts:
        c = charts.get(cd.key)
        if c is not None and cd.key in names:
            out.append(f"#chart({lit(names[cd.key])}, {lit(c.title)}, {lit(c.note) if c.note else 'none'})\n")
    return "".join(out)


def _section(i: int, sec: Section, b: Brief, charts: ChartSet, names: dict[str, str]) -> str:
    out = [f"= {s(f'{i} · {sec.title}')}\n#headline[{s(sec.headline)}]\n"]
    if sec.id == "summary":
        out.append(_tiles(sec.figures))
        out.append("== Key dates\n" + _tiles(b.summary.key_dates, 3))
        out.append("== Key messages\n" + _bullets(sec.messages))
    else:
        out.append(_bullets(sec.messages))
        out.append(_tiles(sec.figures))
    if sec.id == "inventory":
        for c in b.inventory.contracts:
            rows = [("Term", f"{display(c.effective, 'date')} – {display(c.expires, 'date') if c.expires else 'open (evergreen)'}"),
                    ("Renewal", f"{c.renewal}, {c.termination_notice_days} days' notice"),
                    ("Notice deadline", display(c.notice_deadline, "date") if c.notice_deadline else "n/a"),
                    ("Reimbursement", c.reimbursement), ("Escalator", c.escalator),
                    ("Timely filing", f"{c.timely_filing_days} days" if c.timely_filing_days else "not stated"),
                    ("Prompt pay", c.prompt_pay), ("Prior auth", f"{len(c.prior_authorization_codes)} codes")]
            cells = ", ".join(f"[#text(fill: rgb(\"{MUTED}\"))[{s(k)}]], [{s(v)}]" for k, v in rows)
            out.append(f"#block(breakable: false, inset: 8pt, stroke: 0.5pt + rgb(\"{RULE}\"), width: 100%)["
                       f"#text(weight: \"bold\")[{s(c.contract_id + ' · ' + ', '.join(c.product_lines))}] \\ "
                       f"#set text(size: 8pt) \n #grid(columns: (90pt, 1fr), row-gutter: 3pt, {cells})]\n")
        out += [_table(t) for t in sec.tables if t.key == "inventory.flags"]
    elif sec.id == "playbook":
        pb = b.playbook
        if pb.objections:
            out.append("== Anticipated objections and our counterpoints\n")
            cells = ", ".join(f"[#text(weight: \"bold\")[{s(o.objection)}]], [{s(o.counterpoint)}]" for o in pb.objections)
            out.append(f"#grid(columns: (34%, 1fr), column-gutter: 10pt, row-gutter: 7pt, {cells})\n")
        if pb.issues:
            out.append("== Outstanding issues\n" + _bullets(pb.issues))
        out.append(_charts(sec, charts, names))
        out += [_table(t) for t in sec.tables]
    elif sec.id == "method":
        m = b.method
        out.append("== Definitions\n")
        cells = ", ".join(f"[#text(weight: \"bold\")[{s(d.term)}]], [{s(d.definition)}]" for d in m.definitions)
        out.append(f"#text(size: 8pt)[#grid(columns: (130pt, 1fr), row-gutter: 4pt, column-gutter: 8pt, {cells})]\n")
        out.append("== Data sources\n")
        out.append(_bullets([f"{d.name}: {d.description}" + (f" ({d.period})" if d.period else "")
                             + (f", as of {d.as_of}" if d.as_of else "") for d in m.sources]))
        out.append("== Exclusions\n" + _bullets(m.exclusions))
        if m.assumptions:
            out.append("== Assumptions\n" + _bullets(m.assumptions))
    elif sec.id != "summary":
        out.append(_charts(sec, charts, names))
        out += [_table(t) for t in sec.tables]
    if sec.missing:
        out.append(f"#missingbox(({', '.join(lit(m) for m in sec.missing)},))\n")
    return "".join(out)


def typst_source(brief: Brief, charts: ChartSet, names: dict[str, str]) -> str:
    parts = [PREAMBLE.format(title=lit(brief.title), org=lit(brief.organization), ink=INK, accent=ACCENT, muted=MUTED, rule=RULE,
                             soft=SOFT, amber=AMBER), _page_setup(brief), _cover(brief)]
    for i, sec in enumerate(brief.sections(), start=1):
        if i > 1:
            parts.append("#pagebreak()\n")
        parts.append(_section(i, sec, brief, charts, names))
    return "".join(parts)


def pdf_bytes(brief: Brief, charts: ChartSet) -> bytes:
    import typst

    with tempfile.TemporaryDirectory(prefix="parley-brief-") as d:
        folder = Path(d)
        names = {}
        for i, c in enumerate(charts):
            name = f"chart-{i:02d}.svg"
            (folder / name).write_text(c.svg, encoding="utf-8")
            names[c.key] = name
        main = folder / "brief.typ"
        main.write_text(typst_source(brief, charts, names), encoding="utf-8")
        out = folder / "brief.pdf"
        typst.compile(str(main), output=str(out), root=str(folder), font_paths=[str(font_dir())], ignore_system_fonts=True)
        return out.read_bytes()


def write(brief: Brief, charts: ChartSet, path: Path) -> Path:
    return atomic_write(path, pdf_bytes(brief, charts))


def save_source(brief: Brief, charts: ChartSet, folder: Path) -> Path:
    """Debugging aid: the Typst source and chart files in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    names = {}
    for i, c in enumerate(charts):
        (folder / f"chart-{i:02d}.svg").write_text(c.svg, encoding="utf-8")
        names[c.key] = f"chart-{i:02d}.svg"
    (folder / "brief.typ").write_text(typst_source(brief, charts, names), encoding="utf-8")

    return folder / "brief.typ"
