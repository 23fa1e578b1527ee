"""Metadata of one decision: J.nr., dates, first instance, kommune, citations, law area,
format and the "Hvad skal kommunen gøre" instructions.

Law names are unified from classifier/data/laws.toml, law areas come from law_areas.toml and
kommune names are normalised to the 98 official names in kommuner.txt.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from datetime import date
from functools import lru_cache
from pathlib import Path

from classifier.schema import Citation, Metadata

DATA = Path(__file__).parent / "data"
MONTHS = {
    "januar": 1, "februar": 2, "marts": 3, "april": 4, "maj": 5, "juni": 6, "juli": 7,
    "august": 8, "september": 9, "oktober": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9,
    "okt": 10, "nov": 11, "dec": 12,
}
_DATE_LONG = re.compile(r"\b(\d{1,2})\.\s*(" + "|".join(sorted(MONTHS, key=len, reverse=True)) +
                        r")\.?\s+((?:19|20)\d\d)\b", re.I)
_DATE_NUM = re.compile(r"\b(\d{1,2})[-./](\d{1,2})[-./]((?:19|20)\d\d)\b")
_DATE_ISO = re.compile(r"\b((?:19|20)\d\d)-(\d\d)-(\d\d)\b")
_CASE = re.compile(r"\bJ\.?\s?nr\.?\s*:?\s*(\d{2})\s?-\s?(\d{3,6})\b", re.I)
_CASE_LOOSE = re.compile(r"(?<![\d-])(\d{2})-(\d{4,6})(?![\d-])")
_KOMMUNE = re.compile(r"\b([A-ZÆØÅ][a-zæøå]+(?:-[A-ZÆØÅ][a-zæøå]+)?)\s+(Regionskommune|Kommune)(s?)\b")
_FIRST_INSTANCE_DATE = re.compile(
    r"(?:afgørelse(?:n)?\s+(?:af|fra|den|dateret)|afgjorde\s+(?:sagen|din sag|hans sag|hendes sag)?"
    r"\s*(?:den)?|traf\s+(?:den\s+)?(?:en\s+)?afgørelse\s+(?:den|i sagen den)?|besluttede\s+den|"
    r"afslog\s+(?:den)?|bevilgede\s+(?:den)?|(?:brev|afgørelse)\s+af)\s*(?:den\s+)?", re.I)


# ---------------------------------------------------------------------------------- dates

def find_dates(text: str) -> list[tuple[int, str]]:
    """All dates in ``text`` as (position, YYYY-MM-DD), in order of appearance."""
    found = []
    for m in _DATE_LONG.finditer(text):
        d = _mkdate(int(m.group(3)), MONTHS[m.group(2).lower()], int(m.group(1)))
        if d:
            found.append((m.start(), d))
    for m in _DATE_NUM.finditer(text):
        d = _mkdate(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        if d:
            found.append((m.start(), d))
    for m in _DATE_ISO.finditer(text):
        d = _mkdate(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if d:
            found.append((m.start(), d))
    return sorted(found)


def _mkdate(y: int, m: int, d: int) -> str | None:
    try:
        return date(y, m, d).isoformat()
    except ValueError:
        return None


# ------------------------------------------------------------------------------ kommuner

@lru_cache(maxsize=1)
def kommuner() -> tuple[str, ...]:
    lines = (DATA / "kommuner.txt").read_text(encoding="utf-8").splitlines()
    return tuple(x.strip() for x in lines if x.strip())


@lru_cache(maxsize=1)
def _kommune_index() -> dict[str, str]:
    index = {}
    for name in kommuner():
        stem = name.rsplit(" ", 1)[0]
        index[stem.lower()] = name
    return index


def normalise_kommune(stem: str) -> str | None:
    """'Aarhus' / 'Københavns' / 'Kobenhavn' -> official name, or None."""
    index = _kommune_index()
    key = stem.lower().strip()
    for candidate in (key, key + "s", key[:-1] if key.endswith("s") else None):
        if candidate and candidate in index:
            return index[candidate]
    return None


def find_kommuner(text: str) -> list[str]:
    out = []
    for m in _KOMMUNE.finditer(text):
        name = normalise_kommune(m.group(1))
        if name:
            out.append(name)
    return out


# ---------------------------------------------------------------------------- citations

@lru_cache(maxsize=1)
def laws() -> dict[str, dict]:
    return tomllib.loads((DATA / "laws.toml").read_text(encoding="utf-8"))["laws"]


@lru_cache(maxsize=1)
def _law_alias_re() -> tuple[re.Pattern, dict[str, str]]:
    alias_to_law = {}
    for law, spec in laws().items():
        for alias in spec["aliases"]:
            alias_to_law[alias.lower()] = law
    alts = sorted(alias_to_law, key=len, reverse=True)
    pattern = re.compile(r"(?<![\wæøå])(" + "|".join(re.escape(a) for a in alts) + r")(?![\wæøå])",
                         re.I)
    return pattern, alias_to_law


_PARA = re.compile(
    r"(§§?)\s*(\d{1,3}(?:\s?[a-h](?![\wæøå]))?)"
    r"((?:\s*(?:,|og|-|–)\s*(?:§\s*)?\d{1,3}(?:\s?[a-h](?![\wæøå]))?(?![\d.]))*)"
    r"(?:\s*,?\s*stk\.\s*(\d{1,2}))?")


def find_citations(text: str) -> list[Citation]:
    """Citations in one sentence or paragraph: "servicelovens § 42, stk. 1", "§ 42 i lov om
    social service", "jf. barnets lov § 87", "§§ 22-24 i forvaltningsloven"."""
    if "§" not in text:
        return []  # every citation has a paragraph sign (most sentences have none)
    law_re, alias_to_law = _law_alias_re()
    law_hits = [(m.start(), m.end(), alias_to_law[m.group(1).lower()]) for m in law_re.finditer(text)]
    out: list[Citation] = []
    for m in _PARA.finditer(text):
        law = _nearest_law(text, m.start(), m.end(), law_hits)
        if law is None:
            continue
        paragraphs = [m.group(2)]
        rest = m.group(3) or ""
        nums = re.findall(r"\d{1,3}(?:\s?[a-h](?![\wæøå]))?", rest)
        if nums and re.search(r"[-–]", rest) and len(nums) == 1 and m.group(1) == "§§":
            lo, hi = int(re.sub(r"\D", "", paragraphs[0])), int(re.sub(r"\D", "", nums[0]))
            if 0 < hi - lo <= 10:
                paragraphs = [str(p) for p in range(lo, hi + 1)]
            else:
                paragraphs += nums
        else:
            paragraphs += nums
        stk = m.group(4)
        for k, p in enumerate(paragraphs):
            p = re.sub(r"\s+", " ", p.strip())
            out.append(Citation(law, p, stk if k == len(paragraphs) - 1 or len(paragraphs) == 1 else None))
    return out


def _nearest_law(text: str, start: int, end: int, hits) -> str | None:
    """The law a § belongs to: '<law>s § 42' just before, or '§ 42 i <law>' just after."""
    best = None
    for hs, he, law in hits:
        if he <= start and start - he <= 12:  # "servicelovens § 42", "jf. barnets lov § 87"
            best = law
        elif hs >= end and hs - end <= 30:
            between = text[end:hs]
            if re.fullmatch(r"[\s,]*(?:stk\.\s*\d+[\s,]*)?(?:(?:nr\.|pkt\.)\s*\d+\s*)?(?:i|efter|jf\.)\s+(?:den\s+)?", between):
                return law
    return best


def unique_citations(cits: list[Citation]) -> list[Citation]:
    return list(dict.fromkeys(cits))


# ---------------------------------------------------------------------------- law areas

@lru_cache(maxsize=1)
def law_areas() -> list[dict]:
    return tomllib.loads((DATA / "law_areas.toml").read_text(encoding="utf-8"))["area"]


def law_area_for(citation: Citation) -> str | None:
    para = citation.paragraph.replace(" ", "").lower()
    for area in law_areas():
        for rule in area["rules"]:
            if rule["law"] != citation.law:
                continue
            paras = [p.replace(" ", "").lower() for p in rule.get("paragraphs", [])]
            if not paras or para in paras:
                return area["id"]
    return None


def choose_law_area(citations: list[Citation], opening: str = "",
                    rules_citations: list[Citation] | None = None) -> str | None:
    """The decision's law area: each citation of an area counts 1, the area the opening
    sentences name in words counts 1.5, the first area cited in the Regler section counts 1.
    Ties go to the area cited first; without citations, the opening's words decide."""
    areas = [a for a in (law_area_for(c) for c in citations) if a]
    score: Counter = Counter(areas)
    named = [a["id"] for a in law_areas()
             if a.get("keywords") and re.search(a["keywords"], opening, re.I)]
    if named:
        # the most specific naming wins ("merudgifter til dit barn" before "merudgifter")
        score[named[0]] += 1.5
    rule_areas = [a for a in (law_area_for(c) for c in rules_citations or []) if a]
    if rule_areas:
        score[rule_areas[0]] += 1
    if not score:
        return None
    top = max(score.values())
    order = areas + named + rule_areas
    return next(a for a in order if score[a] == top)


# ---------------------------------------------------------------------------------- main

def detect_format(header_text: str, body: str) -> str:
    low_head = header_text.lower()
    low = body.lower()
    if "principafgørelse" in low_head or re.search(r"^\s*(resume|resumé)\s*$", body, re.I | re.M):
        return "principle"
    if "beskæftigelsesudvalget" in low_head or "beskæftigelsesudvalget" in low[:3000]:
        return "beskaeftigelsesudvalget"
    du = len(re.findall(r"\b(du|dig|din|dit|dine)\b", low))
    third = len(re.findall(r"\b(borgeren|borgerens|klager|klagers|klageren)\b", low))
    return "letter_to_municipality" if third > du else "modern_letter"


def extract(header_lines: list[str], margin: str,
            paragraphs: list[tuple[str, str, bool, bool]]) -> Metadata:
    """``paragraphs``: (text, section, is_heading, is_bullet) in reading order (unmasked)."""
    md = Metadata()
    header = "\n".join(header_lines)
    body = "\n".join(t for t, _, _, _ in paragraphs)
    everything = margin + "\n" + header + "\n" + body

    m = _CASE.search(margin) or _CASE.search(header) or _CASE.search(everything)
    if m:
        md.case_number = f"{m.group(1)}-{m.group(2)}"
    else:
        m = _CASE_LOOSE.search(margin)
        if m:
            md.case_number = f"{m.group(1)}-{m.group(2)}"

    # decision date: the date printed in the margin/header (a "Dato:" line wins)
    dm = re.search(r"\bDato\s*:?\s*(.+)", margin + "\n" + header)
    candidates = find_dates(dm.group(1)) if dm else []
    if not candidates:
        candidates = find_dates(margin) or find_dates(header)
    if candidates:
        md.decision_date = candidates[0][1]

    # first instance and its decision date
    first_kommuner = find_kommuner(body[:4000])
    if re.search(r"\bUdbetaling Danmark", body[:3000]):
        ud = body.find("Udbetaling Danmark")
        kpos = _KOMMUNE.search(body[:4000])
        if kpos is None or ud < kpos.start():
            md.first_instance = "Udbetaling Danmark"
    kommune_counts = Counter(find_kommuner(header) + find_kommuner(body))
    if kommune_counts:
        top = max(kommune_counts.values())
        ordered = find_kommuner(header) + find_kommuner(body)
        md.municipality = next(k for k in ordered if kommune_counts[k] == top)
    if md.first_instance is None:
        md.first_instance = first_kommuner[0] if first_kommuner else md.municipality
    for fm in _FIRST_INSTANCE_DATE.finditer(body):
        dates = find_dates(body[fm.end(): fm.end() + 40])
        if dates and dates[0][0] < 3:
            if md.decision_date is None or dates[0][1] <= md.decision_date:
                md.first_instance_date = dates[0][1]
                break

    # citations and law area
    cits: list[Citation] = []
    for text, _, heading, _ in paragraphs:
        if not heading:
            cits.extend(find_citations(text))
    md.citations = unique_citations(cits)
    body_paras = [t for t, sec, heading, _ in paragraphs if sec != "header" and not heading]
    opening = " ".join(body_paras[:2])
    rules_cits = [c for t, sec, heading, _ in paragraphs if sec in ("regler", "love") and not heading
                  for c in find_citations(t)]
    md.law_area = choose_law_area(cits, opening, rules_cits)
    md.format = detect_format(header + "\n" + margin, body)

    # instructions: bullets (or sentences) under "Hvad skal kommunen gøre"
    items = [t for t, sec, heading, bullet in paragraphs
             if sec == "hvad_skal_kommunen_gøre" and not heading]
    bullets = [t for t, sec, heading, bullet in paragraphs
               if sec == "hvad_skal_kommunen_gøre" and bullet]
    md.instructions = [b.lstrip("• ").strip() for b in bullets] if bullets else items[:6]
    return md
