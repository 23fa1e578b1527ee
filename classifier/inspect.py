"""``anke inspect``: show how one file was read, for a person debugging a miss."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from classifier.analysis import analyse
from classifier.decide import decide
from classifier.ingest import MARGIN_START, TOP_BAND, BOTTOM_BAND, load_document
from classifier.pipeline import file_sha256, get_model
from classifier.privacy import mask_text
from classifier.schema import AnkeError
from classifier.segment import parse_decision, split_decisions


def draw_regions(path: Path, out_dir: Path) -> list[Path]:
    """Page images with the regions the parser uses: margin column, header/footer bands, words."""
    import pdfplumber

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with pdfplumber.open(str(path)) as pdf:
        for i, page in enumerate(pdf.pages):
            im = page.to_image(resolution=80)
            w, h = float(page.width), float(page.height)
            words = page.extract_words()
            im.draw_rects([wd for wd in words if wd["x0"] < MARGIN_START * w], stroke="blue",
                          fill=(0, 0, 255, 30))
            im.draw_rects([wd for wd in words if wd["x0"] >= MARGIN_START * w], stroke="orange",
                          fill=(255, 165, 0, 60))
            im.draw_vline(MARGIN_START * w, stroke="red", stroke_width=1)
            im.draw_hline(TOP_BAND * h, stroke="green", stroke_width=1)
            im.draw_hline((1 - BOTTOM_BAND) * h, stroke="green", stroke_width=1)
            target = out_dir / f"{path.stem}-p{i + 1}.png"
            im.save(str(target))
            written.append(target)
    return written


def inspect_file(path: Path, *, engine: str = "pdfium", ocr: bool = True,
                 png_dir: Path | None = None, show_labels: bool = True,
                 console: Console | None = None) -> None:
    console = console or Console()
    try:
        doc = load_document(path, engine=engine, ocr=ocr, sha256=file_sha256(path))
    except AnkeError as exc:
        console.print(f"[red]{exc.kind}[/]: {exc.reason}")
        return
    console.print(f"[bold]{path}[/] — {len(doc.pages)} page(s), engine {doc.engine}")
    for page in doc.pages:
        console.print(f"[cyan]page {page.number}[/]: {len(page.lines)} lines, footer "
                      f"{page.footer_page}, {'OCR' if page.ocr else 'text layer'}")
        if page.margin_text:
            console.print("  margin: " + mask_text(page.margin_text).replace("\n", " | "))
    ranges = split_decisions(doc)
    model = get_model() if show_labels else None
    for k, (a, b) in enumerate(ranges):
        pd = parse_decision(doc, a, b, k)
        console.rule(f"decision {k} — pages {pd.pages[0]}-{pd.pages[1]}")
        md = pd.metadata
        meta = Table("field", "value", title="metadata")
        for name in ("format", "case_number", "decision_date", "municipality", "first_instance",
                     "first_instance_date", "law_area"):
            meta.add_row(name, str(getattr(md, name)))
        meta.add_row("citations", "; ".join(map(str, md.citations)))
        meta.add_row("instructions", "\n".join(md.instructions))
        console.print(meta)
        console.print("sections: " + ", ".join(f"{s.name} (p{s.page}: {s.heading!r})"
                                               for s in pd.sections))
        sents = Table("#", "page", "section", "sentence (masked)", title="sentences")
        for s in pd.sentences:
            sents.add_row(str(s.index), str(s.page), s.section, s.text)
        console.print(sents)
        if show_labels:
            analysis = analyse(pd)
            hits = Table("#", "kind", "label", "valid", "why not", "pattern", title="rule hits")
            for h in analysis.rules.hits:
                why = ", ".join(n for n, f in (("negated", h.negated), ("claim", h.claim),
                                               ("rejected", h.rejected), ("duty", h.duty)) if f)
                hits.add_row(str(h.sentence_index), h.rule.kind, h.rule.label,
                             "yes" if h.valid else "no", why, h.rule.pattern)
            console.print(hits)
            c = decide(analysis, model)
            console.print_json(data={k: v for k, v in c.to_json().items()
                                     if k not in ("source", "sha256")})
    if png_dir:
        for p in draw_regions(path, png_dir):
            console.print(f"wrote {p}")
