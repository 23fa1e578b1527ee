"""Render corpus decisions as realistic PDFs: born-digital letters, scans, bundles, broken files.

    render_pdf(decision, path, *, seed=None) -> pages written
    plain_text(decision) -> str                 (what a perfect extraction would give)
    render_bundle(decisions, path, *, seed) -> [(id, first_page, last_page), ...]
    scan_pdf(src_pdf, dst_pdf, *, seed)         (image-only copy with redaction bars)
    broken_files(out_dir, source_pdf) -> {kind: path}
    render_corpus(out_dir, *, split, scanned, bundles, text, seed) -> out_dir (+ manifest.json)
    cached_corpus_dir(kind, split) -> rendered dir under .cache/render/, reused while unchanged
    build_examples(out_dir) -> files in corpus/examples

Layout (A4, 595.28 x 841.89 pt, PDF coordinates with y upwards; see LAYOUT):
page 1 has the letterhead top left, an address block (or, for principle decisions, a header line
with date and J.nr.), a narrow right-hand margin column (date, J.nr., case officer, CPR, contact)
and a narrow main column; later pages have a running header and a wider main column; every page
has the footer "Side x af y". Body text is justified Helvetica with hyphenated line breaks.
Output is byte-identical for the same input (reportlab ``invariant=1``; fixed dates for scans).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from classifier.corpus.load import CORPUS_DIR, DECISIONS_DIR, REPO, SPLITS_FILE, CorpusDecision

PAGE_W, PAGE_H = A4  # 595.28 x 841.89 pt

#: Layout constants (PDF points, y measured from the bottom of the page).
LAYOUT = {
    "page": (PAGE_W, PAGE_H),
    "letterhead_y": 782.0,  # baseline of the "Ankestyrelsen" wordmark (page 1)
    "letterhead_rule_y": 752.0,
    "address_y": 712.0,  # baseline of the first address line / principle header line
    "main_x_page1": (70.0, 400.0),
    "main_x_later": (70.0, 525.0),
    "margin_x": (430.0, 562.0),
    "margin_y": 712.0,  # baseline of the first margin line
    "body_top_page1": 612.0,  # first body baseline (pushed down for long address blocks)
    "body_top_principle": 672.0,
    "body_top_later": 768.0,
    "body_bottom": 72.0,  # no body baseline below this
    "running_header_y": 806.0,  # pages 2+: "Ankestyrelsen" left, "J.nr. ..." right
    "running_rule_y": 798.0,
    "footer_y": 34.0,  # "Side x af y", right-aligned at x = 525
    "footer_x_right": 525.0,
}

FONT = "Helvetica"
FONT_BOLD = "Helvetica-Bold"
MONTHS = ("januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september",
          "oktober", "november", "december")
CONTACT = ("Ankestyrelsen", "Teglholmsgade 3", "2450 København SV", "", "Postadresse:",
           "7998 Statsservice", "", "Tlf. 33 41 12 00", "ast@ast.dk", "www.ast.dk")
EXAMPLES_DIR = CORPUS_DIR / "examples"
CACHE_DIR = REPO / ".cache" / "render"
_FIXED_TIME = time.struct_time((2024, 1, 1, 0, 0, 0, 0, 1, 0))  # scans: fixed PDF dates
_VOWELS = set("aeiouyæøåéAEIOUYÆØÅÉ")
_ONSETS_RL = {"bl", "br", "dr", "fl", "fr", "gl", "gr", "kl", "kr", "pl", "pr", "tr"}
_ONSETS_S = {"sk", "sl", "sm", "sn", "sp", "st", "sv"}
_ONSETS_3 = {"str", "skr", "spr", "spl"}
_JOINTS = ("heds", "elses", "ings", "ions", "tets", "skabs", "doms", "nings", "ordnings")
_EMPLOYMENT = {"sygedagpenge", "kontanthjælp", "fleksjob"}
_CHILD = {"merudgifter_børn", "tabt_arbejdsfortjeneste"}


# --------------------------------------------------------------------------------------------
# small helpers


def _rng(*parts) -> random.Random:
    key = ":".join(str(p) for p in parts)
    return random.Random(int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:16], 16))


_REPLACE = {"\u2212": "-", "\u2010": "-", "\u2011": "-", "\u00ad": "", "\u2009": " ",
            "\u202f": " ", "\u2007": " ", "\u2264": "<=", "\u2265": ">=", "\u2192": "->",
            "\u2248": "ca.", "\u2032": "'", "\u2033": '"'}


def _safe(text: str) -> str:
    """Map characters the standard PDF fonts (WinAnsi) cannot show to close equivalents."""
    out = []
    for ch in text:
        if ch in _REPLACE:
            out.append(_REPLACE[ch])
            continue
        try:
            ch.encode("cp1252")
            out.append(ch)
        except UnicodeEncodeError:
            out.append("?")
    return "".join(out)


def _width(text: str, font: str, size: float) -> float:
    return stringWidth(text, font, size)


def format_date(iso: str, long: bool) -> str:
    """'2024-03-12' -> '12. marts 2024' (long) or '12-03-2024'."""
    y, m, d = (int(x) for x in str(iso)[:10].split("-"))
    return f"{d}. {MONTHS[m - 1]} {y}" if long else f"{d:02d}-{m:02d}-{y}"


def _split_address(address: str) -> list[str]:
    """'Skovvej 12, 8900 Randers C' -> ['Skovvej 12', '8900 Randers C']."""
    address = (address or "").strip()
    if not address:
        return []
    if "\n" in address:
        return [line.strip() for line in address.splitlines() if line.strip()]
    parts = [p.strip() for p in address.split(",")]
    lines: list[str] = []
    for part in parts:
        if lines and not re.match(r"^\d{4}\b", part) and not lines[-1][:4].isdigit() \
                and len(lines[-1]) + len(part) < 30:
            lines[-1] = f"{lines[-1]}, {part}"  # "Skovvej 12, 1. th."
        else:
            lines.append(part)
    return [line for line in lines if line]


def _town(kommune: str) -> str:
    """'Randers Kommune' -> 'Randers'; 'Københavns Kommune' -> 'København'."""
    name = re.sub(r"\s+(Kommune|Regionskommune)$", "", kommune.strip())
    return name[:-1] if name in ("Københavns", "Bornholms") else name


# --------------------------------------------------------------------------------------------
# per-decision style and page-1 fields


@dataclass
class _Style:
    size: float
    leading: float
    date_long: bool
    department: str


def _style(d: CorpusDecision, seed) -> _Style:
    rng = _rng("style", d.id, seed if seed is not None else 0)
    size = rng.choice([10.0, 10.0, 10.5, 11.0])
    leading = round(size * rng.choice([1.3, 1.35, 1.4, 1.5]), 2)
    date_long = rng.random() < 0.6
    kommune = d.municipality or d.first_instance or ""
    if d.department:
        dept = d.department
    elif d.law_area in _EMPLOYMENT or d.format == "beskaeftigelsesudvalget":
        dept = f"Jobcenter {_town(kommune)}" if kommune.endswith("ommune") else "Jobcentret"
    elif d.law_area in _CHILD:
        dept = rng.choice(["Børne- og Familieforvaltningen", "Familieafdelingen",
                           "Børn og Familie"])
    else:
        dept = rng.choice(["Socialforvaltningen", "Social- og Sundhedsforvaltningen",
                           "Social- og Sundhedsafdelingen", "Voksenhandicap"])
    return _Style(size=size, leading=leading, date_long=date_long, department=dept)


def _letterhead(d: CorpusDecision) -> list[str]:
    lines = ["Ankestyrelsen"]
    if d.format == "beskaeftigelsesudvalget":
        lines.append("Beskæftigelsesudvalget")
    return lines


def _address_lines(d: CorpusDecision, st: _Style) -> list[str]:
    if d.format == "principle":
        return []
    if d.format == "letter_to_municipality":
        kommune = d.municipality or d.first_instance or "Kommunen"
        return [kommune, st.department]
    return [x for x in [d.citizen_name.strip(), *_split_address(d.citizen_address)] if x]


def _principle_header(d: CorpusDecision, st: _Style) -> tuple[str, str]:
    return f"Dato: {format_date(d.decision_date, st.date_long)}", f"J.nr. {d.case_number}"


def _cpr_line(d: CorpusDecision) -> str | None:
    if d.format == "principle" or not d.cpr:
        return None
    if d.format == "letter_to_municipality":
        if d.citizen_name:
            return f"Vedr.: {d.citizen_name}, cpr-nr. {d.cpr}"
        return f"Vedr. cpr-nr. {d.cpr}"
    return f"Cpr-nr.: {d.cpr}"


def _margin_lines(d: CorpusDecision, st: _Style) -> list[str]:
    """Logical margin-column lines (before wrapping); '' is a blank line."""
    lines: list[str] = []
    if d.format != "principle":
        lines += [format_date(d.decision_date, st.date_long), "", f"J.nr. {d.case_number}"]
        if d.case_officer:
            lines.append(f"Sagsbehandler: {d.case_officer}")
        cpr = _cpr_line(d)
        if cpr:
            lines.append(cpr)
        lines.append("")
    elif d.case_officer:
        lines += [f"Sagsbehandler: {d.case_officer}", ""]
    lines += list(CONTACT)
    return lines


# --------------------------------------------------------------------------------------------
# markup -> blocks


@dataclass
class _Block:
    kind: str  # heading | para | bullet
    text: str
    level: int = 1
    follows_bullet: bool = False


def parse_markup(text: str) -> list[_Block]:
    """Split the corpus text markup into headings, paragraphs and bullets."""
    blocks: list[_Block] = []
    cur: _Block | None = None

    def flush():
        nonlocal cur
        if cur is not None and cur.text.strip():
            blocks.append(cur)
        cur = None

    for raw in (text or "").splitlines():
        line = re.sub(r"\s+", " ", raw).strip()
        if not line:
            flush()
            continue
        m = re.match(r"^(#+)\s+(.*)$", line)
        if m:
            flush()
            blocks.append(_Block("heading", m.group(2).strip(), len(m.group(1))))
            continue
        m = re.match(r"^[-*•]\s+(.*)$", line)
        if m:
            flush()
            prev_bullet = bool(blocks) and blocks[-1].kind == "bullet"
            cur = _Block("bullet", m.group(1).strip(), follows_bullet=prev_bullet)
            continue
        if cur is None:
            cur = _Block("para", line)
        else:
            cur.text += " " + line
    flush()
    return blocks


def plain_body(text: str) -> str:
    """The body with markup removed: headings and paragraphs as lines, bullets as '• item'."""
    out: list[str] = []
    for b in parse_markup(text):
        t = _safe(b.text)
        if b.kind == "heading":
            if out:
                out.append("")
            out.append(t)
        elif b.kind == "bullet":
            if out and not b.follows_bullet and out[-1] != "":
                out.append("")
            out.append(f"• {t}")
        else:
            if out and out[-1] != "":
                out.append("")
            out.append(t)
    return "\n".join(out)


def plain_text(decision: CorpusDecision, *, seed=None) -> str:
    """The text a perfect extraction of the rendered letter gives, in reading order."""
    d = decision
    st = _style(d, seed)
    head = _letterhead(d)
    if d.format == "principle":
        head.append(" ".join(_principle_header(d, st)))
    else:
        head += _address_lines(d, st)
    head.append("")
    head += _margin_lines(d, st)
    while head and head[-1] == "":
        head.pop()
    return "\n".join(_safe(x) for x in head) + "\n\n" + plain_body(d.text) + "\n"


# --------------------------------------------------------------------------------------------
# line breaking with Danish-ish hyphenation


def hyphenation_points(word: str) -> list[tuple[int, bool]]:
    """Where ``word`` may be split: (index, add_hyphen). At existing hyphens (no extra '-'), or
    between syllables: before the last consonant of a consonant run between two vowels
    ("sags-be-hand-ling"), keeping at least 3 letters on each side."""
    points: list[tuple[int, bool]] = []
    for i, ch in enumerate(word[:-1]):
        if ch == "-" and i >= 2 and len(word) - i - 1 >= 3 and word[i + 1].isalpha():
            points.append((i + 1, False))
    if any(ch.isdigit() for ch in word) or word.isupper():
        return points
    m = re.match(r"^([^\w]*)(\w+)([^\w]*)$", word)
    if not m:
        return points
    lead, core = len(m.group(1)), m.group(2)
    if not core.isalpha() or len(core) < 7:
        return points
    vowels = [i for i, ch in enumerate(core) if ch in _VOWELS]
    low = core.lower()
    for a, b in zip(vowels, vowels[1:]):
        if b - a < 2:
            continue
        run = low[a + 1:b]
        joint = [j for j in range(a + 2, b + 1) if low[:j].endswith(_JOINTS)]
        if joint:
            cut = joint[-1]  # after a compound joint ("retssikkerheds-lovens")
        elif len(run) >= 3 and run[-3:] in _ONSETS_3:
            cut = b - 3  # "til-strækkeligt"
        elif len(run) >= 2 and run[-2:] in _ONSETS_RL | _ONSETS_S:
            cut = b - 2  # "ind-gribende", "Fødevare-styrelsen"
        else:
            cut = b - 1  # before the last consonant of the run ("hand-ling", "be-handling")
        if cut >= 3 and len(core) - cut >= 3:
            points.append((lead + cut, True))
    return sorted(set(points))


HYPHEN_ZONE = 22.0  # hyphenate only when the line would otherwise end this far (pt) early


def _next_line(tokens: list[str], width: float, font: str, size: float
               ) -> tuple[list[str], list[str], bool]:
    """Fill one line of ``width``: (words, remaining tokens, ends with an added hyphen)."""
    sw = _width(" ", font, size)
    line: list[str] = []
    used = 0.0
    for i, tok in enumerate(tokens):
        tw = _width(tok, font, size)
        need = tw if not line else used + sw + tw
        if need <= width:
            line.append(tok)
            used = need
            continue
        avail = width - (used + sw if line else 0.0)
        if (not line or width - used > HYPHEN_ZONE) and avail > 12:
            for cut, add in reversed(hyphenation_points(tok)):
                head = tok[:cut] + ("-" if add else "")
                if _width(head, font, size) <= avail:
                    return line + [head], [tok[cut:]] + tokens[i + 1:], add
        if not line:  # a single word wider than the line: let it overflow
            return [tok], tokens[i + 1:], False
        return line, tokens[i:], False
    return line, [], False


# --------------------------------------------------------------------------------------------
# layout: blocks -> pages of draw operations


@dataclass
class _Page:
    ops: list[tuple] = field(default_factory=list)
    first: bool = False


class _Flow:
    def __init__(self, d: CorpusDecision, st: _Style, body_top: float):
        self.d, self.st = d, st
        self.pages: list[_Page] = []
        self.body_top1 = body_top
        self._new_page(first=True)

    def _new_page(self, first: bool = False):
        self.page = _Page(first=first)
        self.pages.append(self.page)
        self.y = self.body_top1 if first else LAYOUT["body_top_later"]
        self.x0, self.x1 = LAYOUT["main_x_page1"] if first else LAYOUT["main_x_later"]
        self.at_top = True

    def room(self, height: float) -> bool:
        return self.y - height >= LAYOUT["body_bottom"] - 0.01

    def space(self, amount: float):
        if not self.at_top:
            self.y -= amount

    def ensure(self, height: float):
        if not self.room(height):
            self._new_page()

    def text(self, x, words, font, size, wordspace=0.0):
        self.page.ops.append(("text", x, self.y, font, size, " ".join(words), wordspace))

    def heading(self, b: _Block):
        st = self.st
        size = st.size + (2.0 if b.level == 1 else 1.0)
        lead = round(size * 1.3, 2)
        self.space(st.leading * 0.9)
        tokens = _safe(b.text).split()
        first = True
        while tokens:
            # keep the heading with at least one body line
            self.ensure(lead + (st.leading if first else 0))
            words, tokens, _ = _next_line(tokens, self.x1 - self.x0, FONT_BOLD, size)
            self.text(self.x0, words, FONT_BOLD, size)
            self.y -= lead
            self.at_top = False
            first = False
        self.y -= st.leading * 0.2

    def paragraph(self, b: _Block):
        st = self.st
        bullet = b.kind == "bullet"
        self.space(st.leading * (0.25 if b.follows_bullet else 0.6))
        tokens = _safe(b.text).split()
        first = True
        while tokens:
            self.ensure(st.leading)
            indent = 16.0 if bullet else 0.0
            x, width = self.x0 + indent, self.x1 - self.x0 - indent
            words, tokens, _ = _next_line(tokens, width, FONT, st.size)
            if bullet and first:
                self.page.ops.append(("text", self.x0 + 4, self.y, FONT, st.size, "•", 0.0))
            ws = 0.0
            if tokens and len(words) > 1:  # justify all but the paragraph's last line
                natural = _width(" ".join(words), FONT, st.size)
                ws = (width - natural) / (len(words) - 1)
            self.text(x, words, FONT, st.size, ws)
            self.y -= st.leading
            self.at_top = False
            first = False


def _wrap(text: str, width: float, font: str, size: float) -> list[str]:
    words, lines, cur = text.split(), [], ""
    for w in words:
        cand = f"{cur} {w}" if cur else w
        if cur and _width(cand, font, size) > width:
            lines.append(cur)
            cur = w
        else:
            cur = cand
    if cur:
        lines.append(cur)
    return lines or [""]


def _page1_ops(d: CorpusDecision, st: _Style) -> tuple[list[tuple], float]:
    """Letterhead, address/header block and margin column: (ops, first body baseline)."""
    ops: list[tuple] = []
    L = LAYOUT
    ops.append(("text", 70.0, L["letterhead_y"], FONT_BOLD, 20.0, "Ankestyrelsen", 0.0))
    if d.format == "beskaeftigelsesudvalget":
        ops.append(("text", 70.0, L["letterhead_y"] - 16, FONT, 10.0, "Beskæftigelsesudvalget", 0.0))
    ops.append(("rule", 70.0, L["letterhead_rule_y"], 525.0, L["letterhead_rule_y"], 0.6))
    body_top = L["body_top_page1"]
    if d.format == "principle":
        left, right = _principle_header(d, st)
        ops.append(("text", 70.0, L["address_y"], FONT, 9.0, _safe(left), 0.0))
        ops.append(("text", 210.0, L["address_y"], FONT, 9.0, _safe(right), 0.0))
        body_top = L["body_top_principle"]
    else:
        y = L["address_y"]
        for line in _address_lines(d, st):
            ops.append(("text", 70.0, y, FONT, 10.0, _safe(line), 0.0))
            y -= 13.0
        body_top = min(body_top, y - 50.0)
    x0, x1 = L["margin_x"]
    y = L["margin_y"]
    for line in _margin_lines(d, st):
        if not line:
            y -= 6.0
            continue
        for part in _wrap(_safe(line), x1 - x0, FONT, 8.0):
            ops.append(("text", x0, y, FONT, 8.0, part, 0.0))
            y -= 10.5
    return ops, body_top


def _layout(d: CorpusDecision, seed=None, *, max_pages: int | None = None) -> list[_Page]:
    st = _style(d, seed)
    head_ops, body_top = _page1_ops(d, st)
    flow = _Flow(d, st, body_top)
    flow.page.ops[:0] = head_ops
    for b in parse_markup(d.text):
        if b.kind == "heading":
            flow.heading(b)
        else:
            flow.paragraph(b)
        if max_pages and len(flow.pages) > max_pages:
            break
    pages = flow.pages[:max_pages] if max_pages else flow.pages
    n = len(pages)
    for i, page in enumerate(pages, start=1):
        if i > 1:
            page.ops.insert(0, ("text", 70.0, LAYOUT["running_header_y"], FONT_BOLD, 8.0,
                                "Ankestyrelsen", 0.0))
            page.ops.insert(1, ("rtext", 525.0, LAYOUT["running_header_y"], FONT, 8.0,
                                f"J.nr. {d.case_number}", 0.0))
            page.ops.insert(2, ("rule", 70.0, LAYOUT["running_rule_y"], 525.0,
                                LAYOUT["running_rule_y"], 0.4))
        page.ops.append(("rtext", LAYOUT["footer_x_right"], LAYOUT["footer_y"], FONT, 8.0,
                         f"Side {i} af {n}", 0.0))
    return pages


def _draw(c: Canvas, pages: list[_Page]):
    for page in pages:
        for op in page.ops:
            if op[0] == "rule":
                _, x1, y1, x2, y2, w = op
                c.setLineWidth(w)
                c.setStrokeGray(0.35)
                c.line(x1, y1, x2, y2)
                continue
            kind, x, y, font, size, s, ws = op
            if kind == "rtext":
                x -= _width(s, font, size)
            t = c.beginText(x, y)
            t.setFont(font, size)
            t.setWordSpace(ws)  # Tw persists across text objects: always set it
            t.textOut(s)
            c.drawText(t)
        c.showPage()


def _canvas(path, encrypt=None) -> Canvas:
    c = Canvas(str(path), pagesize=A4, invariant=1, encrypt=encrypt)
    c.setTitle("Afgørelse fra Ankestyrelsen")
    c.setAuthor("Ankestyrelsen")
    c.setCreator("Ankestyrelsen")
    return c


PROVISIONS_FILE = CORPUS_DIR / "generator" / "love_og_regler.toml"


@lru_cache(maxsize=1)
def _provisions() -> dict[str, dict]:
    """The provisions by citation, read once (the benchmark renders thousands of letters)."""
    import tomllib

    if not PROVISIONS_FILE.exists():
        return {}
    data = tomllib.loads(PROVISIONS_FILE.read_text(encoding="utf-8"))
    return {p["citation"]: p for p in data.get("provision", [])}


def with_appendix(decision: CorpusDecision) -> CorpusDecision:
    """The letter with a "Love og regler" appendix, as Ankestyrelsen usually attaches: the
    cited provisions in paraphrase (corpus/generator/love_og_regler.toml), grouped by law."""
    import dataclasses

    provisions = _provisions()
    cited = dict.fromkeys(re.sub(r",\s*stk\..*$", "", c) for c in decision.citations)
    by_law: dict[str, list[str]] = {}
    for c in cited:
        p = provisions.get(c)
        if p:
            by_law.setdefault(p["law"], []).append(p["text"].strip())
    if not by_law:
        return decision
    parts = [decision.text.rstrip(), "", "# Love og regler"]
    for law, texts in by_law.items():
        parts += ["", f"# {law}", ""]
        parts += ["\n\n".join(texts)]
    return dataclasses.replace(decision, text="\n".join(parts) + "\n")


def render_pdf(decision: CorpusDecision, path, *, seed=None, appendix: bool = False) -> int:
    """Render one decision letter as a born-digital PDF; returns the number of pages.
    ``appendix``: attach the "Love og regler" appendix of the cited provisions."""
    if appendix:
        decision = with_appendix(decision)
    pages = _layout(decision, seed)
    c = _canvas(path)
    _draw(c, pages)
    c.save()
    return len(pages)


def render_bundle(decisions: Sequence[CorpusDecision], path, *, seed=0
                  ) -> list[tuple[str, int, int]]:
    """Several decisions in one PDF (as from an access-to-documents request), each starting on
    a new page with its own page-1 layout and its own "Side x af y"; returns (id, first, last)."""
    if not decisions:
        raise ValueError("render_bundle needs at least one decision")
    c = _canvas(path)
    ranges, page_no = [], 0
    for d in decisions:
        pages = _layout(d, seed)
        _draw(c, pages)
        ranges.append((d.id, page_no + 1, page_no + len(pages)))
        page_no += len(pages)
    c.save()
    return ranges


# --------------------------------------------------------------------------------------------
# scanning


_CPR_RE = re.compile(r"\b\d{6}-\d{4}\b")


def _redaction_boxes(src_pdf, redact: Sequence[str] | None) -> list[list[tuple]]:
    """Per page, the boxes (x0, top, x1, bottom in pt, top-down) of the personal data."""
    import pdfplumber

    boxes: list[list[tuple]] = []
    with pdfplumber.open(str(src_pdf)) as pdf:
        for page in pdf.pages:
            found: list[tuple] = []
            patterns = [_CPR_RE]
            strings = [s for s in (redact or []) if s and s.strip()]
            if redact is None:
                strings += _auto_personal(page)
            for s in strings:
                words = [re.escape(w) for w in s.split()]
                patterns.append(re.compile(r"\s+".join(words)))
            for pat in patterns:
                for m in page.search(pat, regex=True, return_chars=True):
                    chars = [ch for ch in m.get("chars", []) if ch["text"].strip()]
                    by_line: dict[int, list] = {}
                    for ch in chars:
                        by_line.setdefault(round(ch["top"]), []).append(ch)
                    for line in by_line.values():
                        found.append((min(c["x0"] for c in line), min(c["top"] for c in line),
                                      max(c["x1"] for c in line), max(c["bottom"] for c in line)))
            boxes.append(sorted(set(found)))
    return boxes


def _auto_personal(page) -> list[str]:
    """Without an explicit list: the citizen address block on a letter's first page and the
    name in a 'Vedr.: <name>, cpr-nr.' margin line."""
    text = page.extract_text() or ""
    out = [m.group(1) for m in re.finditer(r"Vedr\.:\s*(.+?),\s*cpr", text, flags=re.S)]
    if re.search(r"Side 1 af \d+", text):
        # the address block: consecutive lines left of the margin column, between the
        # letterhead and the body (the body starts at least 40 pt below the block)
        top_lo = PAGE_H - LAYOUT["address_y"] - 12
        top_hi = PAGE_H - LAYOUT["body_top_page1"] - 20
        words = [w for w in page.extract_words() if w["x0"] < LAYOUT["margin_x"][0] - 10
                 and top_lo <= w["top"] <= top_hi]
        lines: dict[int, list] = {}
        for w in words:
            lines.setdefault(round(w["top"]), []).append(w)
        block, last = [], None
        for top, ws in sorted(lines.items()):
            if last is not None and top - last > 20:
                break
            block.append(" ".join(w["text"] for w in sorted(ws, key=lambda w: w["x0"])))
            last = top
        if block and not re.search(r"[Kk]ommune$", block[0]) \
                and not block[0].startswith("Dato:"):
            out += block
    return out


def scan_pdf(src_pdf, dst_pdf, *, seed=0, redact: Sequence[str] | None = None, dpi: int = 200,
             quality: int = 60, max_pages: int | None = None) -> int:
    """Make an image-only "scanned" copy of ``src_pdf``: greyscale pages at ``dpi``, slightly
    rotated, with noise and blur, and black redaction bars over the citizen's name, address and
    CPR (``redact``: the strings to black out; CPR numbers are always found; None = detect the
    address block and "Vedr.:" name by position). No text layer. Returns the number of pages."""
    import numpy as np
    import pypdfium2 as pdfium
    from PIL import Image, ImageDraw, ImageFilter

    boxes = _redaction_boxes(src_pdf, redact)
    scale = dpi / 72.0
    images = []
    doc = pdfium.PdfDocument(str(src_pdf))
    try:
        n = len(doc) if not max_pages else min(max_pages, len(doc))
        for i in range(n):
            rng = _rng("scan", seed, i)
            page = doc[i]
            img = page.render(scale=scale, grayscale=True).to_pil().convert("L")
            page.close()
            draw = ImageDraw.Draw(img)
            for x0, top, x1, bottom in boxes[i] if i < len(boxes) else []:
                pad = 1.5 + rng.random() * 1.5
                draw.rectangle([(x0 - pad) * scale, (top - pad) * scale,
                                (x1 + pad + rng.random() * 4) * scale, (bottom + pad) * scale],
                               fill=0)
            paper = rng.randint(236, 250)
            ink = rng.randint(15, 45)
            lut = [round(ink + v * (paper - ink) / 255) for v in range(256)]
            img = img.point(lut)
            angle = rng.choice([-1, 1]) * rng.uniform(0.3, 1.2)
            dx, dy = rng.randint(-12, 12), rng.randint(-12, 12)
            img = img.rotate(angle, resample=Image.BICUBIC, fillcolor=paper,
                             translate=(dx, dy))
            arr = np.asarray(img, dtype=np.float32)
            nrng = np.random.default_rng(_rng("noise", seed, i).getrandbits(63))
            arr = arr + nrng.normal(0.0, rng.uniform(3.0, 6.0), arr.shape)
            specks = nrng.random(arr.shape) < 0.00015  # dust
            arr[specks] = ink + 30
            img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "L")
            img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 0.9)))
            images.append(img)
    finally:
        doc.close()
    if not images:
        raise ValueError(f"{src_pdf}: no pages")
    images[0].save(str(dst_pdf), "PDF", save_all=True, append_images=images[1:],
                   resolution=float(dpi), quality=quality, title="Scanning",
                   creationDate=_FIXED_TIME, modDate=_FIXED_TIME)
    return len(images)



# --------------------------------------------------------------------------------------------
# broken files


_NOT_A_PDF = """<!DOCTYPE html>
<html lang="da">
<head><meta charset="utf-8"><title>Sessionen er udløbet</title></head>
<body>
<h1>Sessionen er udløbet</h1>
<p>Du er blevet logget af på grund af inaktivitet. Log ind igen for at hente dokumentet.</p>
<p><a href="/login">Log ind</a></p>
</body>
</html>
"""

BROKEN_KINDS = ("truncated", "encrypted", "zero_bytes", "not_a_pdf", "huge", "image_only")


def _source_words(source_pdf) -> list[list[tuple]]:
    """The words of each page as (text, x, baseline y, font, size) for redrawing."""
    import pdfplumber

    pages = []
    with pdfplumber.open(str(source_pdf)) as pdf:
        for page in pdf.pages:
            words = page.extract_words(extra_attrs=["fontname", "size"], keep_blank_chars=False)
            out = []
            for w in words:
                font = FONT_BOLD if "Bold" in w["fontname"] else FONT
                y = float(page.height) - w["bottom"] + 0.207 * w["size"]
                out.append((w["text"], w["x0"], y, font, w["size"]))
            pages.append(out)
    return pages


def _redraw(c: Canvas, pages: Iterable[list[tuple]]):
    for words in pages:
        for text, x, y, font, size in words:
            c.setFont(font, size)
            c.drawString(x, y, text)
        c.showPage()


def broken_files(out_dir, source_pdf, *, kinds: Sequence[str] = BROKEN_KINDS, prefix: str = "",
                 seed: int = 0, dpi: int = 200, quality: int = 60) -> dict[str, Path]:
    """Files that a bulk run must survive, made from ``source_pdf``: truncated (cut at 40 %),
    encrypted (user password), zero_bytes, not_a_pdf (HTML named .pdf), huge (300 pages: the
    letter repeated), image_only (a scanned page, no text layer). Returns {kind: path}."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    source_pdf = Path(source_pdf)
    out: dict[str, Path] = {}
    for kind in kinds:
        path = out_dir / f"{prefix}{kind}.pdf"
        if kind == "truncated":
            data = source_pdf.read_bytes()
            path.write_bytes(data[: int(len(data) * 0.4)])
        elif kind == "zero_bytes":
            path.write_bytes(b"")
        elif kind == "not_a_pdf":
            path.write_text(_NOT_A_PDF, encoding="utf-8")
        elif kind == "encrypted":
            from reportlab.lib.pdfencrypt import StandardEncryption

            enc = StandardEncryption("aktindsigt-2024", ownerPassword="ast-owner-9731",
                                     canPrint=1, canModify=0, canCopy=0, canAnnotate=0,
                                     strength=128)
            c = _canvas(path, encrypt=enc)
            _redraw(c, _source_words(source_pdf))
            c.save()
        elif kind == "huge":
            src = _source_words(source_pdf)
            c = _canvas(path)
            _redraw(c, (src[i % len(src)] for i in range(300)))
            c.save()
        elif kind == "image_only":
            scan_pdf(source_pdf, path, seed=seed, dpi=dpi, quality=quality, max_pages=1)
        else:
            raise ValueError(f"unknown broken kind {kind!r} (known: {BROKEN_KINDS})")
        out[kind] = path
    return out


# --------------------------------------------------------------------------------------------
# whole corpus


def _redact_strings(d: CorpusDecision) -> list[str]:
    out = [d.citizen_name, *_split_address(d.citizen_address), d.cpr]
    return [s for s in out if s and s.strip()]


def _bundle_groups(decisions: Sequence[CorpusDecision], seed) -> list[list[CorpusDecision]]:
    """Shuffle and cut into bundles of 3-10 decisions (fewer only if there are < 3 in all)."""
    rng = _rng("bundles", seed)
    items = list(decisions)
    rng.shuffle(items)
    groups, i = [], 0
    while i < len(items):
        left = len(items) - i
        size = left if left <= 10 else rng.randint(3, min(10, left - 3))
        groups.append(items[i:i + size])
        i += size
    return groups


def _render_one(job: tuple) -> dict:
    """Worker: one output file (picklable arguments, runs in a pool)."""
    kind, decisions, path, seed, dpi, quality = job
    path = Path(path)
    if kind == "pdf":
        d = decisions[0]
        n = render_pdf(d, path, seed=seed)
        return {"file": path.name, "type": "pdf", "pages": n,
                "decisions": [{"id": d.id, "first_page": 1, "last_page": n}]}
    if kind == "scan":
        d = decisions[0]
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / "src.pdf"
            n = render_pdf(d, src, seed=seed)
            scan_pdf(src, path, seed=_rng("scanseed", seed, d.id).getrandbits(32),
                     redact=_redact_strings(d), dpi=dpi, quality=quality)
        return {"file": path.name, "type": "scan", "pages": n,
                "decisions": [{"id": d.id, "first_page": 1, "last_page": n}]}
    if kind in ("bundle", "scan_bundle"):
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / "src.pdf" if kind == "scan_bundle" else path
            ranges = render_bundle(decisions, src, seed=seed)
            if kind == "scan_bundle":
                redact = [s for d in decisions for s in _redact_strings(d)]
                scan_pdf(src, path, seed=_rng("scanseed", seed, path.name).getrandbits(32),
                         redact=redact, dpi=dpi, quality=quality)
        return {"file": path.name, "type": kind, "pages": ranges[-1][2],
                "decisions": [{"id": i, "first_page": a, "last_page": b} for i, a, b in ranges]}
    if kind == "text":
        d = decisions[0]
        path.write_text(plain_text(d, seed=seed), encoding="utf-8")
        return {"file": path.name, "type": "text", "pages": None,
                "decisions": [{"id": d.id, "first_page": None, "last_page": None}]}
    raise ValueError(kind)


def render_corpus(out_dir, *, split: str | None = None, scanned: bool = False,
                  bundles: bool = False, text: bool = False, pdfs: bool = True, seed: int = 0,
                  decisions: Sequence[CorpusDecision] | None = None, jobs: int = 1,
                  dpi: int = 200, quality: int = 60) -> Path:
    """Render the corpus (or ``decisions``) into ``out_dir``: ``<id>.pdf`` per decision, or
    ``<id>.scan.pdf`` (scanned), or ``bundle_NN.pdf`` / ``bundle_NN.scan.pdf`` (bundles), plus
    ``<id>.txt`` when ``text`` (``pdfs=False``: text files only), and ``manifest.json`` listing
    every file with the decision ids and page ranges it holds."""
    from classifier.corpus.load import load_corpus

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if decisions is None:
        decisions = load_corpus(split)
    decisions = sorted(decisions, key=lambda d: d.id)
    jobs_list: list[tuple] = []
    if pdfs:
        if bundles:
            groups = _bundle_groups(decisions, seed)
            width = max(2, len(str(len(groups))))
            for n, group in enumerate(groups, start=1):
                ext = ".scan.pdf" if scanned else ".pdf"
                jobs_list.append(("scan_bundle" if scanned else "bundle", group,
                                  out_dir / f"bundle_{n:0{width}d}{ext}", seed, dpi, quality))
        else:
            for d in decisions:
                name = f"{d.id}.scan.pdf" if scanned else f"{d.id}.pdf"
                jobs_list.append(("scan" if scanned else "pdf", [d], out_dir / name, seed, dpi,
                                  quality))
    if text:
        for d in decisions:
            jobs_list.append(("text", [d], out_dir / f"{d.id}.txt", seed, dpi, quality))
    if jobs > 1 and len(jobs_list) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=jobs) as pool:
            files = list(pool.map(_render_one, jobs_list, chunksize=4))
    else:
        files = [_render_one(job) for job in jobs_list]
    manifest = {"split": split, "seed": seed, "scanned": scanned, "bundles": bundles,
                "text": text, "pdfs": pdfs, "decisions": len(decisions), "files": files}
    (out_dir / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return out_dir


CACHE_KINDS = {
    "pdf": {},
    "scan": {"scanned": True},
    "bundle": {"bundles": True},
    "scan_bundle": {"scanned": True, "bundles": True},
    "text": {"text": True, "pdfs": False},
}


def corpus_hash(split: str | None = None, kind: str = "", seed: int = 0) -> str:
    """Hash of everything a rendered corpus depends on: decision files, the split file (when a
    split is used), this renderer's source, kind and seed."""
    h = hashlib.sha256(f"{kind}|{split}|{seed}\n".encode())
    h.update(Path(__file__).read_bytes())
    for source in ("written", "generated"):
        for path in sorted((DECISIONS_DIR / source).glob("*.toml")):
            h.update(f"{source}/{path.name}\n".encode())
            h.update(path.read_bytes())
    if split is not None and SPLITS_FILE.exists():
        h.update(SPLITS_FILE.read_bytes())
    return h.hexdigest()


def cached_corpus_dir(kind: str = "pdf", split: str | None = None, *, seed: int = 0,
                      jobs: int | None = None) -> Path:
    """Rendered corpus of ``kind`` (pdf | scan | bundle | scan_bundle | text) under
    ``.cache/render/<kind>-<split>/``; re-rendered only when the corpus (or renderer) changed."""
    if kind not in CACHE_KINDS:
        raise ValueError(f"unknown kind {kind!r} (known: {sorted(CACHE_KINDS)})")
    digest = corpus_hash(split, kind, seed)
    target = CACHE_DIR / f"{kind}-{split or 'all'}"
    stamp = target / ".corpus_hash"
    if stamp.exists() and stamp.read_text().strip() == digest:
        return target
    from classifier.corpus.load import load_corpus

    decisions = load_corpus(split)
    if not decisions:
        raise RuntimeError(f"no corpus decisions to render (split={split!r})")
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{target.name}.tmp-", dir=CACHE_DIR))
    try:
        if jobs is None:
            jobs = (os.cpu_count() or 1) if "scan" in kind else 1
        render_corpus(tmp, split=split, seed=seed, decisions=decisions, jobs=jobs,
                      **CACHE_KINDS[kind])
        (tmp / ".corpus_hash").write_text(digest + "\n")
        old = None
        if target.exists():
            old = target.with_name(f"{target.name}.old-{os.getpid()}")
            os.replace(target, old)
        try:
            os.replace(tmp, target)
        except OSError:  # another process won the race: use its result
            shutil.rmtree(tmp, ignore_errors=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


# --------------------------------------------------------------------------------------------
# corpus/examples


def _pick_examples(pool: list[CorpusDecision]) -> dict[str, list[CorpusDecision]]:
    used: set[str] = set()

    def take(pred, prefer_written=True) -> CorpusDecision | None:
        cands = [d for d in pool if d.id not in used and pred(d)]
        if prefer_written:
            cands.sort(key=lambda d: (d.source != "written", d.id))
        if not cands:
            return None
        used.add(cands[0].id)
        return cands[0]

    born: list[CorpusDecision] = []
    for fmt in ("modern_letter", "beskaeftigelsesudvalget", "principle",
                "letter_to_municipality"):
        d = take(lambda d, f=fmt: d.format == f)
        if d:
            born.append(d)
    wanted = [
        lambda d: d.outcome == "hjemvist" and d.format == "modern_letter",
        lambda d: d.outcome == "ændret" and not d.traps,
        lambda d: d.outcome == "ændret" and "merits_only" in d.traps,
        lambda d: d.outcome == "afvist",
        lambda d: d.outcome == "stadfæstet" and d.kritik,
        lambda d: d.partial,
        lambda d: "citizen_claim" in d.traps or "negated_finding" in d.traps,
        lambda d: d.source == "generated",
    ]
    for pred in wanted:
        d = take(pred) or take(lambda d: True)
        if d:
            born.append(d)
    scans = [x for x in (take(lambda d: d.format == "modern_letter"),
                         take(lambda d: d.format == "letter_to_municipality")
                         or take(lambda d: True)) if x]
    bundle1 = [x for x in (take(lambda d: True) for _ in range(3)) if x]
    bundle2 = [x for x in (take(lambda d: True) for _ in range(4)) if x]
    return {"born": born, "scans": scans, "bundle_01": bundle1, "bundle_02": bundle2}


def build_examples(out_dir=EXAMPLES_DIR, *, decisions: Sequence[CorpusDecision] | None = None,
                   seed: int = 0, dpi: int = 150, quality: int = 45) -> list[Path]:
    """Write the small example set for ``make run``: one born-digital letter per format plus
    ~8 varied ones, 2 scanned letters, 2 bundles (one scanned) and broken files (zero bytes,
    not a PDF, truncated, encrypted, image-only), with a manifest.json. Prefers decisions
    outside the train split. Returns the files written."""
    from classifier.corpus.load import load_corpus, load_splits

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if decisions is None:
        decisions = load_corpus()
        try:
            train = set(load_splits().get("train", []))
        except FileNotFoundError:
            train = set()
        held_out = [d for d in decisions if d.id not in train]
        if len(held_out) >= 25:
            decisions = held_out
    pool = sorted(decisions, key=lambda d: d.id)
    rng = _rng("examples", seed)
    rng.shuffle(pool)
    picks = _pick_examples(pool)
    for old in list(out_dir.glob("*.pdf")) + list(out_dir.glob("manifest.json")):
        old.unlink()
    files: list[dict] = []

    def labels(d: CorpusDecision) -> dict:
        return {"id": d.id, "format": d.format, "outcome": d.outcome, "partial": d.partial,
                "kritik": d.kritik, "errors": list(d.errors), "law_area": d.law_area}

    for d in picks["born"]:
        entry = _render_one(("pdf", [d], out_dir / f"{d.id}.pdf", seed, dpi, quality))
        entry["labels"] = [labels(d)]
        files.append(entry)
    for d in picks["scans"]:
        entry = _render_one(("scan", [d], out_dir / f"{d.id}.scan.pdf", seed, dpi, quality))
        entry["labels"] = [labels(d)]
        files.append(entry)
    for name, kind, ext in (("bundle_01", "bundle", ".pdf"),
                            ("bundle_02", "scan_bundle", ".scan.pdf")):
        group = picks[name]
        if group:
            entry = _render_one((kind, group, out_dir / f"{name}{ext}", seed, dpi, quality))
            entry["labels"] = [labels(d) for d in group]
            files.append(entry)
    if picks["born"]:
        src = out_dir / f"{picks['born'][0].id}.pdf"
        expect = {"zero_bytes": "failed", "not_a_pdf": "failed", "truncated": "failed",
                  "encrypted": "failed", "image_only": "ok (needs OCR)"}
        made = broken_files(out_dir, src, kinds=list(expect), prefix="broken_", seed=seed,
                            dpi=dpi, quality=quality)
        made["image_only"] = made["image_only"].rename(out_dir / "image_only.pdf")
        for kind, path in made.items():
            files.append({"file": path.name, "type": f"broken:{kind}", "source": src.name,
                          "expect": expect[kind], "decisions": []})
    manifest = {"seed": seed, "dpi": dpi, "files": files}
    (out_dir / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    total = sum(p.stat().st_size for p in out_dir.iterdir() if p.is_file())
    if total > 4 * 1024 * 1024:
        print(f"warning: {out_dir} holds {total / 1e6:.1f} MB (> 4 MB)")
    return sorted(out_dir / f["file"] for f in files) + [out_dir / "manifest.json"]


def main(argv: list[str] | None = None) -> int:
    """python -m classifier.corpus.render examples | KIND [SPLIT]

    ``examples`` rebuilds corpus/examples; KIND (pdf, scan, bundle, scan_bundle, text) renders
    the corpus into the cache (if changed) and prints the directory."""
    import sys

    args = list(argv if argv is not None else sys.argv[1:])
    if not args or args[0] in ("-h", "--help"):
        print(main.__doc__)
        return 0 if args else 2
    if args[0] == "examples":
        for p in build_examples():
            print(p)
        return 0
    print(cached_corpus_dir(args[0], args[1] if len(args) > 1 else None))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
