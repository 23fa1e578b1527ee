"""Split a Document into decisions, then into paragraphs, sections and masked sentences.

- Bundles: a page whose footer reads "Side 1 af N", or (without footers) whose top carries a
  new letter header (J.nr. plus a date, or an "Afgørelse"/principle title) starts a decision.
- Lines are joined into paragraphs; words hyphenated at line breaks are joined
  ("sagsbe-" + "handling"), real hyphens are kept ("Social- og", "§ 42-sager", "BPA-ordning").
- Headings open canonical sections (classifier/data/sections.toml).
- Personal data is masked before any text leaves this stage.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from classifier import metadata as meta
from classifier.nlp import get_nlp
from classifier.nlp import sentences as doc_sentences
from classifier.privacy import Masker
from classifier.rules import SentenceContext
from classifier.schema import Document, Line, ParsedDecision, Section, Sentence

DATA = Path(__file__).parent / "data"
#: How many paragraphs an unclosed quotation may run on for.
_MAX_QUOTED_PARAGRAPHS = 5
QUOTE_MARKS = '"“”„«»'
_CONNECTORS = {"og", "eller", "samt", "til", "mod", "and", "&"}
_JNR = re.compile(r"\bJ\.?\s?nr\.?", re.I)
_LETTERHEAD = re.compile(r"^\s*(ankestyrelsen|ankestyrelsens\s+beskæftigelsesudvalg|"
                         r"beskæftigelsesudvalget)\s*$", re.I)
_TITLE = re.compile(r"^(afgørelse|ankestyrelsens principafgørelse|principafgørelse)\b", re.I)


@dataclass
class Paragraph:
    text: str
    page: int
    heading: bool = False
    bullet: bool = False


@lru_cache(maxsize=1)
def section_patterns() -> list[tuple[str, re.Pattern]]:
    data = tomllib.loads((DATA / "sections.toml").read_text(encoding="utf-8"))["sections"]
    return [(name, re.compile("(?:" + "|".join(pats) + ")", re.I)) for name, pats in data.items()]


#: Sections that describe rules or facts, not Ankestyrelsen's assessment.
_BACKGROUND = {"regler", "love", "sagens_oplysninger", "sagsfremstilling"}
#: Ankestyrelsen's own assessing voice.
_ASSESSING = re.compile(
    r"\b(?:vi|ankestyrelsen|udvalget|beskæftigelsesudvalget)\s+(?:\w+\s+)?(?:vurderer|vurderede|"
    r"finder|fandt|mener|lægger|lagde|har\s+lagt|er\s+enige?|er\s+ikke\s+enige?|kan\s+ikke\s+se|"
    r"kritiserer|bemærker|konstaterer)\b|\bburde\b|\bskulle\s+have\b|\befter\s+vores\s+vurdering\b|"
    r"\bdet\s+er\s+vores\s+vurdering\b|\bdet\s+er\s+ankestyrelsens\s+vurdering\b", re.I)


def _assesses(paras: list[Paragraph], start: int) -> bool:
    """Whether the paragraphs from ``start`` to the next heading speak in Ankestyrelsen's
    assessing voice (a facts or rules section does not)."""
    for para in paras[start:]:
        if para.heading:
            break
        if _ASSESSING.search(para.text):
            return True
    return False


def canonical_section(heading: str) -> str | None:
    text = heading.strip().strip("#:*• ").strip()
    for name, pattern in section_patterns():
        if pattern.search(text):
            return name
    return None


# ------------------------------------------------------------------------------- bundles

def split_decisions(doc: Document) -> list[tuple[int, int]]:
    """0-based inclusive page-index ranges, one per decision in the file."""
    starts = []
    for i, page in enumerate(doc.pages):
        if i == 0:
            starts.append(i)
            continue
        if page.footer_page is not None:
            if page.footer_page[0] == 1:
                starts.append(i)
            continue
        if _looks_like_first_page(page, doc.pages[i - 1]):
            starts.append(i)
    return [(s, (starts[k + 1] - 1) if k + 1 < len(starts) else len(doc.pages) - 1)
            for k, s in enumerate(starts)]


def _looks_like_first_page(page, previous) -> bool:
    if previous.footer_page is not None and previous.footer_page[0] < previous.footer_page[1]:
        return False  # the previous page said more pages follow
    head = [ln.text for ln in page.lines[:14]]
    margin = page.margin_text
    has_jnr = bool(_JNR.search(margin)) or any(_JNR.search(t) for t in head)
    has_date = bool(meta.find_dates(margin)) or any(meta.find_dates(t) for t in head[:8])
    has_title = any(_TITLE.match(t) for t in head)
    return (has_jnr and has_date) or (has_title and (has_jnr or has_date))


_NOT_BODY = re.compile(r"J\.?\s?nr|Tlf|Cpr|CPR|Sagsbehandler|Telefon|www\.|@|Statsservice|Dato:", re.I)


def _ends_header(text: str, heading: bool) -> bool:
    """A heading (other than the letterhead word or a principle title) or running text."""
    return (heading and not _TITLE.match(text) and not _LETTERHEAD.match(text)) \
        or _looks_like_body(text)


def _looks_like_body(text: str) -> bool:
    """Running text (a sentence of some length) rather than letterhead or address lines."""
    return len(text.split()) >= 10 and text.rstrip().endswith((".", ":", "?")) and \
        not _NOT_BODY.search(text)


# ----------------------------------------------------------------------------- paragraphs

def _join(prev: str, nxt: str) -> str:
    """Join two lines of one paragraph, undoing hyphenation at the line break."""
    if prev.endswith("-") and len(prev) > 1 and not prev.endswith(" -"):
        first = nxt.split(" ", 1)[0]
        before = prev[-2]
        if first.lower().strip(",.") in _CONNECTORS:
            return prev + " " + nxt  # "Social- og Sundhedsforvaltningen"
        if before.isdigit() or before.isupper() or first[:1].isupper() or first[:1].isdigit():
            return prev + nxt  # "§ 42-sager", "BPA-ordning"
        return prev[:-1] + nxt  # "sagsbe-" + "handling"
    return prev + " " + nxt


def paragraphs(lines: list[Line]) -> list[Paragraph]:
    out: list[Paragraph] = []
    current: Paragraph | None = None
    for line in lines:
        if line.heading:
            if current and current.heading and current.page == line.page and \
                    not current.text.endswith((".", ":", "?")) and len(current.text) < 90:
                current.text = _join(current.text, line.text)  # a heading wrapped over two lines
                continue
            current = Paragraph(line.text, line.page, heading=True)
            out.append(current)
            continue
        starts_new = (current is None or current.heading or line.bullet or line.para_start)
        if not starts_new and current is not None:
            current.text = _join(current.text, line.text)
            continue
        current = Paragraph(line.text, line.page, bullet=line.bullet)
        out.append(current)
    return out


# -------------------------------------------------------------------------------- decision

def _introduces_claims(text: str) -> bool:
    """A paragraph such as "Din værge har anført:" or "I klagen skriver du blandt andet:"
    whose bullets are a party's points, not Ankestyrelsen's findings."""
    text = text.rstrip()
    if not text.endswith(":"):
        return False
    ctx = SentenceContext(text)
    return ctx.claim_end >= 0 and not ctx.agree


def parse_decision(doc: Document, first: int, last: int, index: int = 0) -> ParsedDecision:
    """Segment pages ``first..last`` (0-based, inclusive) of ``doc`` into a ParsedDecision."""
    pages = doc.pages[first:last + 1]
    lines = [ln for p in pages for ln in p.lines]
    margin = "\n".join(p.margin_text for p in pages if p.margin_text)
    paras = paragraphs(lines)

    # header (letterhead, address block, margin fields): everything before the first heading
    # (other than the letterhead word or a principle title) or the first running sentence
    header_end = next((k for k, p in enumerate(paras) if _ends_header(p.text, p.heading)),
                      len(paras))
    # the header's own lines (paragraphs join the address block's lines into one)
    header_raw: list[str] = []
    for ln in lines:
        if _ends_header(ln.text, ln.heading):
            break
        header_raw.append(ln.text)
    header_lines = margin.splitlines() + header_raw

    masker = Masker()
    masker.learn_from_header(header_lines)
    body_text = "\n".join(p.text for p in paras)
    masker.learn_from_text(margin + "\n" + body_text)

    # sections
    sections: list[Section] = []
    current = "header"
    sections.append(Section("header", "", pages[0].number if pages else 1))
    para_sections: list[str] = []
    for k, para in enumerate(paras):
        if k == header_end and current == "header" and not (
                para.heading and (canonical_section(para.text) or _TITLE.match(para.text))):
            # a letter that starts its body without a known heading opens with its result
            current = "afgørelse"
            sections.append(Section("afgørelse", "", para.page))
        if para.heading and k >= header_end:
            name = canonical_section(para.text)
            if name is None and _TITLE.match(para.text):
                name = "afgørelse" if para.text.lower().startswith("afgørelse") else "header"
            if name is None and current in ("header", "afgørelse", "hvad_skal_kommunen_gøre") \
                    and any(s.name == "afgørelse" for s in sections):
                # an unnamed heading after the result ("Døråbneren", "Din advokats klage")
                # opens the reasoning
                name = "begrundelse"
            if name is None and current in _BACKGROUND and _assesses(paras, k + 1):
                # a topic heading after the rules or the facts whose text is our assessment
                # ("Sagsbehandlingstiden": "Vi vurderer, at ...") opens the reasoning again
                name = "begrundelse"
            if name == "afgørelse" and para.text.lower().startswith(("ankestyrelsens principafgørelse",
                                                                     "principafgørelse")):
                name = "header"
            if name is not None and name != current:
                current = name
                sections.append(Section(name, masker.mask(para.text), para.page))
        para_sections.append(current)

    # sentences (masked), with page and section
    nlp = get_nlp()
    sentences: list[Sentence] = []
    spans = []
    texts = [masker.mask(p.text[2:] if p.bullet and p.text.startswith("• ") else p.text)
             for p in paras]
    docs = nlp.pipe(t for p, t in zip(paras, texts) if not p.heading)
    body_iter = iter(docs)
    open_quote = 0  # paragraphs a quotation has run on for without its closing mark
    claimed_list = False  # bullets after "Din værge har anført:" list the party's points
    for para, text, sec in zip(paras, texts, para_sections):
        if para.heading:
            open_quote = 0
            claimed_list = False
            continue
        if not para.bullet:
            claimed_list = _introduces_claims(text)
        spacy_doc = next(body_iter)
        if not len(spacy_doc):
            continue
        # a paragraph that opens with a quotation mark quotes a party ("Din advokat skriver: ...")
        # up to the closing mark, also over several paragraphs (a mark never closed stops
        # counting at the next heading or after a few paragraphs): its sentences are not
        # Ankestyrelsen's own words
        carried = 0 < open_quote <= _MAX_QUOTED_PARAGRAPHS
        quoting = carried or text.lstrip()[:1] in QUOTE_MARKS
        listed = para.bullet and claimed_list
        marks = 1 if carried else 0
        for sent in doc_sentences(spacy_doc):
            start, end = sent.start, sent.end
            while start < end and spacy_doc[start].is_space:
                start += 1
            while end > start and spacy_doc[end - 1].is_space:
                end -= 1
            if start < end:
                span = spacy_doc[start:end]  # the sentence without surrounding white space
                stext = span.text
                sentences.append(Sentence(stext, para.page, sec, len(sentences),
                                          quoted=quoting or listed))
                spans.append(span)
                if quoting:
                    marks += sum(stext.count(c) for c in QUOTE_MARKS)
                    if marks % 2 == 0:
                        quoting = False  # the closing mark: what follows is ours again
        open_quote = open_quote + 1 if quoting else 0
    for section in sections:
        section.text = " ".join(s.text for s in sentences if s.section == section.name)

    masked_text = "\n".join(("# " + t) if p.heading else t for p, t in zip(paras, texts))
    md = meta.extract(
        header_lines=header_lines,
        margin=margin,
        paragraphs=[(p.text, sec, p.heading, p.bullet) for p, sec in zip(paras, para_sections)],
    )
    md.instructions = [masker.mask(t) for t in md.instructions]
    return ParsedDecision(
        source=doc.source, sha256=doc.sha256, index=index,
        pages=(pages[0].number, pages[-1].number) if pages else (1, 1),
        sections=sections, sentences=sentences, metadata=md, text=masked_text,
        spans=spans,
    )


def parse_document(doc: Document) -> list[ParsedDecision]:
    return [parse_decision(doc, a, b, k) for k, (a, b) in enumerate(split_decisions(doc))]
