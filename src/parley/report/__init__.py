"""The negotiation brief: one report model (:mod:`.model`), charts drawn once (:mod:`.charts`),
and one renderer per format (``render_html``, ``render_pdf``, ``render_xlsx``, ``render_pptx``),
each exposing ``write(brief, charts, path) -> Path``."""

FORMATS = ("html", "pdf", "xlsx", "pptx")
