"""Ingest: a PDF (or extracted .txt) file -> Document of pages with main-column lines.

Layout is decided by position, not by guessing in flat text:
- a line is split where a wide horizontal gap separates a right-hand block; a block that starts
  in the right part of the page is *margin text* (date, J.nr., case officer, contact, CPR);
- lines in the top and bottom bands are page furniture (letterhead, running header, footer);
  "Side x af y" is read from them and kept for evidence and bundle splitting;
- headings are told by font weight/size; bullets by their glyph.

Two engines give the same page model: ``pdfium`` (pypdfium2's text rectangles; fast) and
``pdfplumber`` (``extract_words`` with font attributes). Pages without a text layer are OCR'd
with Tesseract's Danish model when ``ocr=True``.
"""

from __future__ import annotations

import ctypes
import re
import statistics
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from classifier.schema import AnkeError, Document, Line, Page

ENGINES = ("pdfium", "pdfplumber")
DEFAULT_ENGINE = "pdfium"
MAX_PAGES = 250
MAX_BYTES = 200 * 1024 * 1024
#: A page with fewer extractable characters than this is treated as scanned.
MIN_TEXT_CHARS = 25
#: Share of page height treated as header/footer band.
TOP_BAND = 0.055
BOTTOM_BAND = 0.06
#: A block starting right of this share of page width, after a wide gap, is margin text.
MARGIN_START = 0.62
WIDE_GAP = 24.0
BULLETS = ("•", "●", "▪", "◦", "–", "·", "\uf0b7")
_CID = re.compile(r"\(cid:(\d+)\)")
_CID_CHARS = {127: "•", 149: "•", 150: "–", 151: "—"}


def _cid_char(m: re.Match) -> str:
    """pdfminer writes glyphs it cannot map as "(cid:N)"; bullets are the common case."""
    return _CID_CHARS.get(int(m.group(1)), "")


FOOTER_RE = re.compile(r"\bSide\s+(\d{1,3})\s+(?:af|/)\s+(\d{1,3})\b", re.I)


@dataclass
class _Seg:
    """A run of text on one visual line (PDF space: y grows downwards here)."""

    x0: float
    x1: float
    top: float
    bottom: float
    text: str
    size: float
    bold: bool


def load_document(path: str | Path, *, engine: str = DEFAULT_ENGINE, ocr: bool = True,
                  max_pages: int = MAX_PAGES, sha256: str = "") -> Document:
    """Read a PDF or .txt file into a Document. Raises AnkeError with a clear kind on bad input."""
    path = Path(path)
    if engine not in ENGINES:
        raise AnkeError("usage", f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise AnkeError("unreadable", str(exc)) from exc
    if size == 0:
        raise AnkeError("empty", "the file is empty (0 bytes)")
    if size > MAX_BYTES:
        raise AnkeError("too_large", f"{size / 1e6:.0f} MB exceeds the {MAX_BYTES // 2**20} MiB limit")
    if path.suffix.lower() == ".txt":
        doc = text_document(path.read_text(encoding="utf-8", errors="replace"), str(path), sha256)
        if not any(line.text.strip() for page in doc.pages for line in page.lines):
            raise AnkeError("no_text", "the text file holds no text")
        return doc
    with open(path, "rb") as fh:
        head = fh.read(1024)
    if b"%PDF-" not in head:
        raise AnkeError("not_pdf", "the file is not a PDF (no %PDF header)")
    reader = _read_pdfium if engine == "pdfium" else _read_pdfplumber
    pages = reader(path, max_pages)
    if ocr:
        scanned = [i for i, p in enumerate(pages) if p is None]
        if scanned:
            for i, page in zip(scanned, ocr_pages(path, [i for i in scanned])):
                pages[i] = page
    elif any(p is None for p in pages):
        n = sum(p is None for p in pages)
        if n == len(pages):
            raise AnkeError("scanned_no_ocr", "no text layer on any page (scanned); run with OCR "
                            "(install Debian tesseract-ocr-dan) or this file cannot be read")
        pages = [p if p is not None else Page(number=i + 1) for i, p in enumerate(pages)]
    doc = Document(source=str(path), sha256=sha256, pages=pages, engine=engine)
    if not any(line.text.strip() for page in doc.pages for line in page.lines):
        raise AnkeError("no_text", "no readable text found in the file")
    return doc


# --------------------------------------------------------------------------- pdfium engine

def _font_is_bold(textpage_raw, index: int, buf=ctypes.create_string_buffer(128)) -> tuple[bool, float]:
    import pypdfium2.raw as pdfium_c

    size = pdfium_c.FPDFText_GetFontSize(textpage_raw, index)
    flags = ctypes.c_int(0)
    n = pdfium_c.FPDFText_GetFontInfo(textpage_raw, index, buf, len(buf), ctypes.byref(flags))
    name = buf.raw[: max(0, n - 1)].decode("latin-1", "replace") if n else ""
    weight = pdfium_c.FPDFText_GetFontWeight(textpage_raw, index)
    return ("bold" in name.lower() or "black" in name.lower() or weight >= 600), float(size)


def _open_pdfium(path: Path):
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        msg = str(exc)
        if "password" in msg.lower():
            raise AnkeError("encrypted", "the PDF is password-protected") from exc
        raise AnkeError("corrupt", f"pdfium cannot open the PDF ({msg})") from exc


def _read_pdfium(path: Path, max_pages: int) -> list[Page | None]:
    pdf = _open_pdfium(path)
    try:
        n = len(pdf)
        if n == 0:
            raise AnkeError("corrupt", "the PDF has no pages")
        if n > max_pages:
            raise AnkeError("too_large", f"{n} pages exceeds the limit of {max_pages} pages per file; split the file first")
        pages: list[Page | None] = []
        for i in range(n):
            check_deadline()
            page = pdf[i]
            try:
                width, height = page.get_size()
                textpage = page.get_textpage()
                segs = []
                nchars = textpage.count_chars()
                full = textpage.get_text_range(0, nchars) if nchars > 0 else ""
                rects = [textpage.get_rect(r) for r in range(textpage.count_rects())]
                # pdfium lists the rectangles in character order, so one hit test per rectangle
                # (its first character) bounds its text in the page text: slicing is much
                # cheaper than asking pdfium for the text inside each rectangle
                starts = [textpage.get_index(left + 0.5, (bottom + top) / 2, 2, 2)
                          for left, bottom, right, top in rects]
                sliceable = len(full) == nchars and None not in starts and starts == sorted(starts)
                for r, (left, bottom, right, top) in enumerate(rects):
                    idx = starts[r]
                    if sliceable:
                        text = full[idx:starts[r + 1] if r + 1 < len(rects) else nchars]
                    else:
                        text = textpage.get_text_bounded(left, bottom, right, top)
                    text = text.replace("\x02", "-").replace("\ufffe", "-").replace("\r", "") \
                        .replace("\n", " ").rstrip()
                    if not text.strip():
                        continue
                    bold, size = _font_is_bold(textpage.raw, idx) if idx is not None and idx >= 0 \
                        else (False, top - bottom)
                    segs.append(_Seg(left, right, height - top, height - bottom, text, size, bold))
                textpage.close()
            finally:
                page.close()
            if nchars < MIN_TEXT_CHARS:
                pages.append(None)
            else:
                pages.append(_layout_page(segs, i + 1, width, height))
        return pages
    except AnkeError:
        raise
    except Exception as exc:  # pdfium raises many kinds on damaged files
        raise AnkeError("corrupt", f"cannot read the PDF ({type(exc).__name__}: {exc})") from exc
    finally:
        pdf.close()


# ----------------------------------------------------------------------- pdfplumber engine

def _read_pdfplumber(path: Path, max_pages: int) -> list[Page | None]:
    import pdfplumber
    from pdfminer.pdfdocument import PDFPasswordIncorrect

    try:
        pdf = pdfplumber.open(str(path))
    except PDFPasswordIncorrect as exc:
        raise AnkeError("encrypted", "the PDF is password-protected") from exc
    except Exception as exc:
        if "password" in str(exc).lower() or type(exc).__name__ == "PdfminerException" and \
                "PDFPasswordIncorrect" in repr(exc):
            raise AnkeError("encrypted", "the PDF is password-protected") from exc
        raise AnkeError("corrupt", f"pdfplumber cannot open the PDF ({type(exc).__name__})") from exc
    try:
        n = len(pdf.pages)
        if n == 0:
            raise AnkeError("corrupt", "the PDF has no pages")
        if n > max_pages:
            raise AnkeError("too_large", f"{n} pages exceeds the limit of {max_pages} pages per file; split the file first")
        pages: list[Page | None] = []
        for i, page in enumerate(pdf.pages):
            check_deadline()
            words = page.extract_words(extra_attrs=["fontname", "size"], keep_blank_chars=False,
                                       use_text_flow=False, x_tolerance=1.5)
            if sum(len(w["text"]) for w in words) < MIN_TEXT_CHARS:
                pages.append(None)
                continue
            segs = [_Seg(w["x0"], w["x1"], w["top"], w["bottom"], _CID.sub(_cid_char, w["text"]),
                         float(w["size"]),
                         "bold" in w["fontname"].lower()) for w in words]
            pages.append(_layout_page(_merge_words(segs), i + 1, float(page.width),
                                      float(page.height)))
            page.flush_cache()
        return pages
    except AnkeError:
        raise
    except Exception as exc:
        if "password" in repr(exc).lower():
            raise AnkeError("encrypted", "the PDF is password-protected") from exc
        raise AnkeError("corrupt", f"cannot read the PDF ({type(exc).__name__}: {exc})") from exc
    finally:
        pdf.close()


def _merge_words(words: list[_Seg]) -> list[_Seg]:
    """Join words on one line into segments, splitting at wide gaps (like pdfium's rects)."""
    words = sorted(words, key=lambda w: (round(w.top), w.x0))
    out: list[_Seg] = []
    for w in words:
        last = out[-1] if out else None
        if last and abs(last.top - w.top) < 2.5 and 0 <= w.x0 - last.x1 < WIDE_GAP \
                and last.bold == w.bold:
            last.text += " " + w.text
            last.x1 = w.x1
            last.bottom = max(last.bottom, w.bottom)
        else:
            out.append(_Seg(w.x0, w.x1, w.top, w.bottom, w.text, w.size, w.bold))
    return out


# ------------------------------------------------------------------------ page layout model

def _layout_page(segs: list[_Seg], number: int, width: float, height: float,
                 ocr: bool = False) -> Page:
    """Build a Page from positioned text segments: margin column, furniture, lines."""
    page = Page(number=number, width=width, height=height, ocr=ocr)
    # group segments into visual lines
    segs = sorted(segs, key=lambda s: (s.top, s.x0))
    rows: list[list[_Seg]] = []
    for s in segs:
        if rows and abs(rows[-1][0].top - s.top) < max(2.5, 0.35 * (s.bottom - s.top)):
            rows[-1].append(s)
        else:
            rows.append([s])
    margin: list[str] = []
    body: list[tuple[list[_Seg], float]] = []
    margin_x = MARGIN_START * width
    for row in rows:
        row.sort(key=lambda s: s.x0)
        top = min(s.top for s in row)
        bottom = max(s.bottom for s in row)
        text_all = " ".join(s.text.strip() for s in row)
        if top < TOP_BAND * height or bottom > (1 - BOTTOM_BAND) * height:
            m = FOOTER_RE.search(text_all)
            if m:
                page.footer_page = (int(m.group(1)), int(m.group(2)))
            continue
        main_part: list[_Seg] = []
        for j, s in enumerate(row):
            gap = s.x0 - row[j - 1].x1 if j else s.x0
            if s.x0 >= margin_x and (j == 0 or gap > WIDE_GAP):
                margin.append(" ".join(x.text.strip() for x in row[j:]))
                break
            main_part.append(s)
        if main_part:
            body.append((main_part, top))
    page.margin_text = "\n".join(m for m in margin if m)
    if not body:
        return page
    sizes = [s.size for segs_, _ in body for s in segs_ if s.size]
    base = statistics.median(sizes) if sizes else 10.0
    left = min(segs_[0].x0 for segs_, _ in body)
    gaps = [b[1] - a[1] for a, b in zip(body, body[1:]) if 0 < b[1] - a[1] < 3 * base]
    line_gap = statistics.median(gaps) if gaps else base * 1.3
    prev_top = None
    for segs_, top in body:
        text = " ".join(s.text.strip() for s in segs_).strip()
        text = re.sub(r"\s+", " ", text)
        if not text:
            continue
        bold = all(s.bold for s in segs_)
        size = max(s.size for s in segs_)
        bullet = text.startswith(BULLETS) or (segs_[0].x0 > left + 8 and text[:1] in "-*")
        if bullet:
            text = "• " + text.lstrip("".join(BULLETS) + "-* ").strip()
        heading = (bold or size > base * 1.12) and len(text) < 120 and not bullet
        para_start = prev_top is None or (top - prev_top) > line_gap * 1.35
        page.lines.append(Line(text=text, page=number, bold=bold, size=size, heading=heading,
                               bullet=bullet, top=top, para_start=para_start))
        prev_top = top
    return page


# ------------------------------------------------------------------------------- OCR

def tesseract_available() -> bool:
    import shutil

    return shutil.which("tesseract") is not None


def ocr_pages(path: Path, indices: list[int], dpi: int = 300) -> list[Page]:
    """OCR the given 0-based pages with Tesseract (Danish) into the same page model.

    Tesseract's own line grouping (block, paragraph, line) is kept: on a slightly rotated scan
    the words of one line do not share a y-position, so regrouping them by position would tear
    lines apart. Each OCR line becomes one positioned segment."""
    if not tesseract_available():
        raise AnkeError("ocr_unavailable", "the file is scanned (no text layer) and Tesseract is not "
                        "installed: apt-get install tesseract-ocr tesseract-ocr-dan, or pass --no-ocr")
    import os

    import pytesseract

    # one thread per Tesseract process: parallelism comes from --jobs, not from OpenMP
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    langs = pytesseract.get_languages(config="")
    lang = "dan" if "dan" in langs else "eng"
    pdf = _open_pdfium(path)
    out = []
    try:
        for i in indices:
            check_deadline()
            page = pdf[i]
            width, height = page.get_size()
            image = page.render(scale=dpi / 72, grayscale=True).to_pil()
            page.close()
            data = pytesseract.image_to_data(image, lang=lang, config="--psm 3",
                                             output_type=pytesseract.Output.DICT)
            scale = 72 / dpi
            lines: dict[tuple, list[int]] = {}
            for k, text in enumerate(data["text"]):
                if text.strip() and float(data["conf"][k]) >= 0:
                    key = (data["block_num"][k], data["par_num"][k], data["line_num"][k])
                    lines.setdefault(key, []).append(k)
            segs = []
            for ks in lines.values():
                ks.sort(key=lambda k: data["left"][k])
                # split a line where a wide gap separates two columns (body | margin)
                run = [ks[0]]
                for k in ks[1:] + [None]:
                    if k is not None and (data["left"][k] - (data["left"][run[-1]] + data["width"][run[-1]])) \
                            * scale < WIDE_GAP:
                        run.append(k)
                        continue
                    x0 = min(data["left"][j] for j in run) * scale
                    x1 = max(data["left"][j] + data["width"][j] for j in run) * scale
                    top = min(data["top"][j] for j in run) * scale
                    bottom = max(data["top"][j] + data["height"][j] for j in run) * scale
                    heights = sorted(data["height"][j] for j in run)
                    size = heights[len(heights) // 2] * scale
                    segs.append(_Seg(x0, x1, top, bottom, " ".join(data["text"][j] for j in run),
                                     size, False))
                    if k is not None:
                        run = [k]
            for seg in segs:
                seg.text = fix_ocr_text(seg.text)
            page_model = _layout_page(segs, i + 1, width, height, ocr=True)
            _ocr_headings(page_model)
            out.append(page_model)
    finally:
        pdf.close()
    return out


_OCR_FIXES = [
    # "§" read as "&", "$" or "8": "servicelovens & 83", "retssikkerhedslovens $ 10",
    # "jf. 8 100", "forvaltningslovens 88 22 og 24", "servicelovens 841, stk. 1"
    (re.compile(r"(?<![\w&$])[&$]{2}\s?(?=\d)"), "§§ "),
    (re.compile(r"(?<![\w&$])[&$]\s?(?=\d)"), "§ "),
    (re.compile(r"(?<=lovens )88\s?(?=\d{1,3}\b)"), "§§ "),
    (re.compile(r"((?:lovens|loven|jf\.) )8\s(?=\d{1,3}[a-h]?\b)"), r"\1§ "),
    (re.compile(r"((?:efter|samt|og|,) )8\s(?=\d{1,3}[a-h]?,? stk\.)"), r"\1§ "),
    (re.compile(r"(?<=lovens )8(?=\d{1,3},? stk\.)"), "§ "),
    # "@" read as "Q" or "&" in the e-mail address; "0" read as "O" inside numbers
    (re.compile(r"(?<=\d)[Oo](?=\d)"), "0"),
]


def fix_ocr_text(text: str) -> str:
    """Undo OCR misreadings that matter for metadata (the paragraph sign above all)."""
    for pattern, repl in _OCR_FIXES:
        text = pattern.sub(repl, text)
    return text


_HEADING_WORDS = re.compile(
    r"^(afgørelse|resultatet er|det betyder|hvad skal kommunen gøre|begrundelse|sådan vurderer vi|"
    r"hvad er afgørende|regler|sagens oplysninger|kritik|klagevejledning|du kan ikke klage|"
    r"resume|love|sagsfremstilling|ankestyrelsens principafgørelse|vi lægger vægt|"
    r"hvad har vi lagt vægt|oplysninger i sagen|lovgrundlag)", re.I)


def _ocr_headings(page: Page) -> None:
    """OCR has no font weight: a short line that starts like a known heading is one."""
    for line in page.lines:
        if len(line.text) < 70 and _HEADING_WORDS.match(line.text) and not line.text.endswith("."):
            line.heading = True


# ------------------------------------------------------------------------------- text input

def text_document(text: str, source: str, sha256: str = "") -> Document:
    """A .txt file is the extracted text of one file; form feeds (\\f) separate pages."""
    pages = []
    for number, chunk in enumerate(text.split("\f"), start=1):
        page = Page(number=number)
        prev_blank = True
        chunk_lines = chunk.splitlines()
        for k, raw in enumerate(chunk_lines):
            stripped = raw.strip()
            if not stripped:
                prev_blank = True
                continue
            m = FOOTER_RE.fullmatch(stripped) if len(stripped) < 20 else None
            if m:
                page.footer_page = (int(m.group(1)), int(m.group(2)))
                continue
            bullet = stripped.startswith(BULLETS) or stripped[:2] in ("- ", "* ")
            if bullet:
                stripped = "• " + stripped.lstrip("".join(BULLETS) + "-* ").strip()
            heading = stripped.startswith("#") or (
                not bullet and len(stripped) < 70 and not stripped.endswith((".", ",", ";"))
                and prev_blank and (_HEADING_WORDS.match(stripped) is not None or (
                    len(stripped.split()) <= 8 and stripped[:1].isupper()
                    and not stripped.endswith(":")  # "Din værge har anført:" introduces a list
                    and _next_is_text(chunk_lines, k))))
            stripped = stripped.lstrip("# ").strip() if stripped.startswith("#") else stripped
            page.lines.append(Line(text=stripped, page=number, heading=heading, bullet=bullet,
                                   para_start=prev_blank))
            prev_blank = False
        pages.append(page)
    return Document(source=source, sha256=sha256, pages=pages, engine="text")


def _next_is_text(lines: list[str], k: int, sub: bool = False) -> bool:
    """A short line is a heading when a paragraph of running text follows right after it, or
    a subheading and then running text ("Sådan har vi vurderet sagen" / "Kommunens afgørelse")."""
    j = next((i for i in range(k + 1, min(k + 3, len(lines))) if lines[i].strip()), None)
    nxt = lines[j].strip() if j is not None else ""
    if nxt.startswith(BULLETS) or nxt[:2] in ("- ", "* "):
        return True
    if len(nxt.split()) >= 6 and not nxt.startswith(("J.nr", "Dato", "Tlf", "Cpr", "CPR")):
        return True
    return (not sub and j is not None and 0 < len(nxt.split()) <= 8 and nxt[:1].isupper()
            and not nxt.endswith((".", ",", ";")) and _next_is_text(lines, j, sub=True))


# ------------------------------------------------------------------------------- time limit

@contextmanager
def time_limit(seconds: float | None):
    """Raise AnkeError('timeout') after ``seconds``.

    In the main thread a SIGALRM interrupts even a long library call; in other threads (Dask
    workers) signals are not available, so the page and decision loops check a per-thread
    deadline (``check_deadline``) instead — a single very slow page can overrun it there."""
    import signal

    if not seconds:
        yield
        return
    previous = getattr(_DEADLINE, "at", None)
    _DEADLINE.at = time.monotonic() + seconds
    _DEADLINE.seconds = seconds
    if threading.current_thread() is not threading.main_thread():
        try:
            yield
        finally:
            _DEADLINE.at = previous
        return

    def _raise(signum, frame):
        raise AnkeError("timeout", f"processing took longer than {seconds:g} s")

    old = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        _DEADLINE.at = previous


_DEADLINE = threading.local()


def check_deadline() -> None:
    """Raise AnkeError('timeout') when the current thread's ``time_limit`` has run out."""
    at = getattr(_DEADLINE, "at", None)
    if at is not None and time.monotonic() > at:
        raise AnkeError("timeout", f"processing took longer than {_DEADLINE.seconds:g} s")
