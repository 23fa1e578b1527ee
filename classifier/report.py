"""Danish report chapters for auditors: "Kommentarer til klagesager behandlet i
Ankestyrelsen – mønstre og tendenser".

    write_report(store, year, out, fmt="md"|"html"|"docx", department=None,
                 national_rate=None) -> Path
    build_chapter(store, year, ...) -> Chapter      (the content, before rendering)
    kvantor(share) -> "lidt under halvdelen", ...    (share -> Danish quantifier)
    fmt_int / fmt_pct / fmt_pp / antal               (Danish numbers and plurals)

Every number in the chapter, in prose and tables alike, comes from ``classifier.trends.trends``
(the one query over the store); the only other read is the list of "Hvad skal kommunen gøre"
instructions of the remitted cases, shown as text. The store holds masked text and the chapter
adds no personal data: no names, case numbers or file names, only counts, law areas, error
types and the (masked) instructions.

Markdown writes the charts as PNG files beside the .md file; HTML embeds them as base64 (one
self-contained file); DOCX embeds them with python-docx.
"""

from __future__ import annotations

import base64
import html
import math
import os
import re
import sqlite3
import tempfile
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from classifier.schema import ERROR_TYPES
from classifier.trends import (UNKNOWN_DEPARTMENT, _connect, _decisions_cte, chart_errors,
                               chart_outcomes, law_area_names, load_departments, total, trends)

TITLE = "Kommentarer til klagesager behandlet i Ankestyrelsen – mønstre og tendenser"

# --------------------------------------------------------------------------- Danish words


def fmt_int(n: int | float) -> str:
    """1234 -> '1.234' (Danish thousands separator)."""
    return f"{int(round(n)):,}".replace(",", ".")


def _fmt_number(v: float, decimals: int) -> str:
    text = f"{v:,.{decimals}f}"  # 1,234.5
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def fmt_pct(v: float | None, decimals: int | None = 1) -> str:
    """19.2 -> '19,2 %'; ``decimals=None``: no decimals for whole numbers ('38 %')."""
    if v is None:
        return "–"
    if decimals is None:
        decimals = 0 if float(v).is_integer() else 1
    return f"{_fmt_number(float(v), decimals)} %"


def fmt_pp(v: float) -> str:
    """A difference of two percentages: 7.64 -> '7,6 procentpoint' (absolute value)."""
    return f"{_fmt_number(abs(round(v, 1)), 1)} procentpoint"


def antal(n: int, ental: str, flertal: str) -> str:
    """'1 afgørelse', '2 afgørelser', '0 afgørelser', '1.234 sager'."""
    return f"{fmt_int(n)} {ental if n == 1 else flertal}"


#: (upper bound (exclusive), quantifier) for shares strictly between 0 and 1, except 1/2.
_KVANTORER: tuple[tuple[Fraction, str], ...] = (
    (Fraction(1, 10), "enkelte"),
    (Fraction(2, 10), "en mindre del"),
    (Fraction(3, 10), "omkring en fjerdedel"),
    (Fraction(4, 10), "omkring en tredjedel"),
    (Fraction(1, 2), "lidt under halvdelen"),
    (Fraction(6, 10), "lidt over halvdelen"),
    (Fraction(3, 4), "hovedparten"),
    (Fraction(9, 10), "langt de fleste"),
    (Fraction(1), "næsten alle"),
)


def kvantor(share: float | Fraction) -> str:
    """A share (0..1) as the quantifier a Danish report uses:

    0 ingen | <10 % enkelte | 10-<20 % en mindre del | 20-<30 % omkring en fjerdedel |
    30-<40 % omkring en tredjedel | 40-<50 % lidt under halvdelen | 50 % halvdelen |
    >50-<60 % lidt over halvdelen | 60-<75 % hovedparten | 75-<90 % langt de fleste |
    90-<100 % næsten alle | 100 % alle.

    Pass ``Fraction(k, n)`` for exact boundaries (floats are converted exactly after
    rounding to 12 decimals, so 0.1 means 1/10)."""
    if not isinstance(share, Fraction):
        share = Fraction(round(float(share), 12)).limit_denominator(10**12)
    if share < 0 or share > 1:
        raise ValueError(f"share {share} is not between 0 and 1")
    if share == 0:
        return "ingen"
    if share == 1:
        return "alle"
    if share == Fraction(1, 2):
        return "halvdelen"
    for bound, word in _KVANTORER:
        if share < bound:
            return word
    return "næsten alle"  # pragma: no cover - share < 1 is caught above


def kvantor_af(share: float | Fraction, what: str) -> str:
    """'lidt under halvdelen af de omgjorte afgørelser', 'alle de omgjorte afgørelser'
    ("alle" and "næsten alle" take no "af")."""
    word = kvantor(share)
    return f"{word} {what}" if word in ("alle", "næsten alle") else f"{word} af {what}"


def _share(k: int, n: int) -> Fraction:
    return Fraction(k, n) if n else Fraction(0)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _join(items: list[str], last: str = "og") -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def _genitive(name: str) -> str:
    return name if name.endswith(("s", "x", "z")) else f"{name}s"


#: Law areas as they read inside a Danish sentence.
AREA_PROSE: dict[str, str] = {
    "merudgifter_børn": "merudgifter til børn",
    "tabt_arbejdsfortjeneste": "tabt arbejdsfortjeneste",
    "personlig_hjælp": "personlig og praktisk hjælp",
    "socialpædagogisk_støtte": "socialpædagogisk støtte",
    "bpa": "borgerstyret personlig assistance",
    "ledsageordning": "ledsageordning",
    "merudgifter_voksne": "merudgifter til voksne",
    "botilbud": "botilbud",
    "hjælpemidler": "hjælpemidler og forbrugsgoder",
    "støtte_til_bil": "støtte til bil",
    "boligindretning": "boligindretning",
    "kontanthjælp": "kontanthjælp, sanktioner og enkeltydelser",
    "sygedagpenge": "sygedagpenge",
    "førtidspension": "førtidspension",
    "fleksjob": "fleksjob, ressourceforløb og jobafklaring",
}


def area_prose(area: str | None) -> str:
    if area is None:
        return "et ukendt sagsområde"
    if area in AREA_PROSE:
        return AREA_PROSE[area]
    name = law_area_names().get(area, area.replace("_", " "))
    return name[:1].lower() + name[1:] if name[1:2].islower() else name


def area_title(area: str | None) -> str:
    return _cap(area_prose(area)) if area else "Uden kendt sagsområde"


#: An error type as found, in inverted word order after "I 7 af dem ...".
ERROR_FINDING: dict[str, str] = {
    "officialprincip": "var sagen ikke tilstrækkeligt oplyst (officialprincippet)",
    "begrundelse": "levede begrundelsen ikke op til forvaltningslovens krav (begrundelse)",
    "retsgrundlag": "var der ikke det rette retsgrundlag eller en henvisning til reglerne "
                    "(retsgrundlag)",
    "partshøring": "var borgeren ikke partshørt (partshøring)",
    "sagsbehandlingstid": "var fristerne for sagsbehandlingen ikke overholdt "
                          "(sagsbehandlingstid)",
    "notatpligt": "var der ikke gjort notat om væsentlige oplysninger (notatpligt)",
    "vejledning": "havde kommunen ikke vejledt borgeren godt nok (vejledning)",
    "konkret_vurdering": "manglede der en konkret og individuel vurdering (konkret vurdering)",
}
#: An error type as a noun phrase ("Kritikken handler om ...").
ERROR_NOUN: dict[str, str] = {
    "officialprincip": "utilstrækkelig oplysning af sagen (officialprincippet)",
    "begrundelse": "mangelfuld begrundelse",
    "retsgrundlag": "forkert eller manglende retsgrundlag",
    "partshøring": "manglende partshøring",
    "sagsbehandlingstid": "sagsbehandlingstiden og overskredne frister",
    "notatpligt": "manglende notater om samtaler og oplysninger (notatpligt)",
    "vejledning": "manglende vejledning",
    "konkret_vurdering": "manglende konkret og individuel vurdering",
}

# --------------------------------------------------------------------------- the chapter


@dataclass
class Block:
    """One piece of the chapter: heading | subtitle | para | bullets | table | figure |
    note."""

    kind: str
    text: str = ""
    level: int = 2
    items: list[str] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    png: bytes = b""
    name: str = ""  # figure file stem
    labelled: bool = False  # bullets: the text before the first ': ' is a label
    numbers_from_store: bool = True  # False for quoted text (instructions)


@dataclass
class Chapter:
    title: str
    blocks: list[Block]
    year: int
    #: The trends rows behind the prose, by name (for tests and for the curious).
    data: dict[str, Any] = field(default_factory=dict)

    def prose(self, *, quoted: bool = False) -> str:
        """The running text (paragraphs, notes and bullet items) as plain text."""
        parts: list[str] = []
        for b in self.blocks:
            if b.kind in ("para", "note"):
                parts.append(b.text)
            elif b.kind == "bullets" and (quoted or b.numbers_from_store):
                parts.extend(b.items)
        return "\n".join(parts)


def _errors_ranked(row: dict[str, Any]) -> list[tuple[str, int]]:
    """Error types of a trends row with their counts, most frequent first (ties in the
    canonical order), zero counts left out."""
    pairs = [(e, int(row[f"fejl_{e}"])) for e in ERROR_TYPES if row[f"fejl_{e}"]]
    return sorted(pairs, key=lambda p: (-p[1], ERROR_TYPES.index(p[0])))


def _dominant(row: dict[str, Any], n: int) -> list[tuple[str, int]]:
    """The one to three error types that make the pattern of ``n`` decisions: the most
    frequent one and the next ones that occur in at least a quarter of the decisions
    (and at least twice when n > 2)."""
    ranked = _errors_ranked(row)
    if not ranked:
        return []
    floor = max(1, math.ceil(n / 4), 2 if n > 2 else 1)
    out = [ranked[0]]
    for e, k in ranked[1:3]:
        if k >= floor:
            out.append((e, k))
    return out


def _pattern_sentence(area: str | None, row: dict[str, Any], all_row: dict[str, Any]) -> str:
    """'Sygedagpenge: 10 af 18 afgørelser er omgjort. I hovedparten af dem (7 af 10) var
    sagen ikke tilstrækkeligt oplyst (officialprincippet), og i 6 af dem ...'."""
    om, n = row["omgjorte"], all_row["count"]
    if n == 1:
        head = f"{area_title(area)}: Den eneste afgørelse på området er omgjort."
    else:
        head = f"{area_title(area)}: {fmt_int(om)} af {fmt_int(n)} afgørelser er omgjort."
    dominant = _dominant(row, om)
    if not dominant:
        return (f"{head} Ankestyrelsen har ikke peget på bestemte sagsbehandlingsfejl i "
                f"{'den omgjorte afgørelse' if om == 1 else 'de omgjorte afgørelser'}.")
    if om == 1:
        return (f"{head} Ankestyrelsen har peget på "
                f"{_join([ERROR_NOUN[e] for e, _ in dominant])}.")
    (e1, k1), rest = dominant[0], dominant[1:]
    clauses = [f"I {kvantor_af(_share(k1, om), 'afgørelserne')} ({fmt_int(k1)} af {fmt_int(om)}) "
               f"{ERROR_FINDING[e1]}"]
    clauses += [f"i {fmt_int(k)} af dem {ERROR_FINDING[e]}" for e, k in rest]
    text = clauses[0] if len(clauses) == 1 else (
        ", ".join(clauses[:-1]) + ", og " + clauses[-1])
    return f"{head} {text}."


def _omgjorte_split(row: dict[str, Any], what: str) -> str:
    """'Lidt under halvdelen af de omgjorte afgørelser (26 af 55) er ændret, og 29 er
    hjemvist til fornyet behandling i kommunen.'"""
    om, ae, hj = row["omgjorte"], row["ændret"], row["hjemvist"]
    if om == 0:
        return ""
    if om == 1:
        return (f"Den omgjorte afgørelse er {'ændret' if ae else 'hjemvist til fornyet behandling'}.")
    return (f"{_cap(kvantor_af(_share(ae, om), 'de omgjorte afgørelser' + what))} "
            f"({fmt_int(ae)} af {fmt_int(om)}) er ændret, og {fmt_int(hj)} er hjemvist til "
            f"fornyet behandling i kommunen.")


def _overview_sentences(row: dict[str, Any], where: str, kritik_about: str = ""
                        ) -> tuple[list[str], list[str]]:
    """Two paragraphs' sentences: (omgjorte with omgørelsesprocent and the ændret/hjemvist
    split; stadfæstet with kritik and ``kritik_about``, what it is about, and afvist)."""
    n = row["count"]
    rate = row["omgørelsesprocent"]
    if row["omgjorte"]:
        out = [f"Heraf er {antal(row['omgjorte'], 'afgørelse', 'afgørelser')} omgjort, dvs. "
               f"ændret eller hjemvist, hvilket giver en omgørelsesprocent på {fmt_pct(rate)}."]
    else:
        out = ["Ingen af afgørelserne er omgjort (ændret eller hjemvist)"
               + (f", så omgørelsesprocenten er {fmt_pct(rate)}." if rate is not None else ".")]
    split = _omgjorte_split(row, "")
    if split:
        out.append(split)
    first, out = out, []
    s, sk = row["stadfæstet"], row["stadfæstet_med_kritik"]
    if s:
        out.append(f"{_cap(kvantor_af(_share(s, n), where))} ({fmt_int(s)} af {fmt_int(n)}) "
                   f"er stadfæstet.")
        if sk:
            if sk == 1 and s == 1:
                out.append("I den stadfæstede afgørelse har Ankestyrelsen dog kritiseret "
                           "kommunens sagsbehandling.")
            elif sk == 1:
                out.append(f"I én af de stadfæstede afgørelser (1 af {fmt_int(s)}) har "
                           f"Ankestyrelsen dog kritiseret kommunens sagsbehandling.")
            else:
                out.append(f"I {kvantor_af(_share(sk, s), 'de stadfæstede afgørelser')} "
                           f"({fmt_int(sk)} af {fmt_int(s)}) har Ankestyrelsen dog kritiseret "
                           f"kommunens sagsbehandling.")
            if kritik_about:
                out.append(kritik_about)
    if row["kritik"] > sk:
        out.append(f"Når de omgjorte og afviste afgørelser regnes med, indeholder i alt "
                   f"{antal(row['kritik'], 'afgørelse', 'afgørelser')} kritik af "
                   f"sagsbehandlingen.")
    if row["afvist"]:
        out.append(f"Ankestyrelsen har afvist at behandle {antal(row['afvist'], 'klage', 'klager')}"
                   f"; afviste sager indgår ikke i omgørelsesprocenten.")
    if row["uden_udfald"]:
        out.append(f"For {antal(row['uden_udfald'], 'afgørelse', 'afgørelser')} kunne udfaldet "
                   f"ikke aflæses automatisk.")
    return first, out


def _change_sentence(now: dict[str, Any], before: dict[str, Any], year: int,
                     subject: str) -> str:
    """Comparison with the previous year."""
    prev = year - 1
    if not before["count"]:
        return (f"Opgørelsen indeholder ingen afgørelser fra {prev}, så {subject} kan ikke "
                f"sammenlignes med året før.")
    text = (f"Året før, i {prev}, var der {antal(before['count'], 'afgørelse', 'afgørelser')}"
            + (f", og omgørelsesprocenten var {fmt_pct(before['omgørelsesprocent'])}."
               if before["omgørelsesprocent"] is not None else "."))
    a, b = now["omgørelsesprocent"], before["omgørelsesprocent"]
    if a is not None and b is not None:
        diff = round(a - b, 1)
        if diff == 0:
            text += " Omgørelsesprocenten er dermed uændret."
        else:
            text += (f" Omgørelsesprocenten er dermed {'steget' if diff > 0 else 'faldet'} "
                     f"med {fmt_pp(diff)}.")
    return text


def _national_sentence(row: dict[str, Any], national_rate: float, subject: str) -> str:
    text = f"Til sammenligning var omgørelsesprocenten på landsplan {fmt_pct(national_rate, None)}."
    rate = row["omgørelsesprocent"]
    if rate is None:
        return text
    diff = round(rate - national_rate, 1)
    if diff == 0:
        return text + f" {_cap(subject)} ligger dermed på niveau med landsgennemsnittet."
    return (text + f" {_cap(subject)} på {fmt_pct(rate)} ligger dermed {fmt_pp(diff)} "
            f"{'over' if diff > 0 else 'under'} landsgennemsnittet.")


def _area_split_sentence(area_rows: list[dict[str, Any]], om_total: int) -> str:
    """How the omgjorte decisions of a department spread over law areas."""
    rows = sorted([r for r in area_rows if r["omgjorte"]],
                  key=lambda r: (-r["omgjorte"], area_prose(r["law_area"])))
    if not rows or om_total == 0:
        return ""
    if len(rows) == 1:
        r = rows[0]
        return (f"{'Den omgjorte afgørelse' if om_total == 1 else 'Alle de omgjorte afgørelser'}"
                f" handler om {area_prose(r['law_area'])}.")
    top = rows[0]
    share = _share(top["omgjorte"], om_total)
    if len(rows) == 2 or share >= Fraction(4, 10):
        text = (f"{_cap(kvantor_af(share, 'de omgjorte afgørelser'))} ({fmt_int(top['omgjorte'])} "
                f"af {fmt_int(om_total)}) handler om {area_prose(top['law_area'])}")
        rest = rows[1:]
        if len(rest) == 1:
            r = rest[0]
            return (text + f", og de øvrige {fmt_int(r['omgjorte'])} handler om "
                    f"{area_prose(r['law_area'])}.")
        return (text + ". Resten fordeler sig på "
                + _join([f"{area_prose(r['law_area'])} ({fmt_int(r['omgjorte'])})" for r in rest])
                + ".")
    if len({r["omgjorte"] for r in rows}) == 1:
        each = rows[0]["omgjorte"]
        return (f"De omgjorte afgørelser fordeler sig ligeligt på {fmt_int(len(rows))} "
                f"sagsområder med {antal(each, 'afgørelse', 'afgørelser')} hver: "
                + _join([area_prose(r["law_area"]) for r in rows]) + ".")
    shown = rows[:4]
    text = ("Flest omgjorte afgørelser er der inden for "
            + _join([f"{area_prose(r['law_area'])} ({fmt_int(r['omgjorte'])})" for r in shown])
            + ".")
    rest = rows[4:]
    if rest:
        k = sum(r["omgjorte"] for r in rest)
        text += (f" De øvrige {fmt_int(k)} fordeler sig på "
                 f"{antal(len(rest), 'andet sagsområde', 'andre sagsområder')}.")
    return text


def _common_errors_sentence(row: dict[str, Any]) -> str:
    """Department-wide: the most frequent error types among the omgjorte decisions."""
    om = row["omgjorte"]
    dominant = _dominant(row, om)
    if not dominant or om < 2:
        return ""
    parts = [f"{ERROR_NOUN[e]} i {fmt_int(k)}{' af dem' if i == 0 else ''}"
             for i, (e, k) in enumerate(dominant)]
    which = "de hyppigste fejl" if len(dominant) > 1 else "den hyppigste fejl"
    return (f"På tværs af sagsområderne er {which} i de {fmt_int(om)} omgjorte afgørelser "
            f"{_join(parts)}.")


def _kritik_sentence(row: dict[str, Any] | None) -> str:
    """What the criticism of upheld decisions is about (errors of stadfæstet+kritik)."""
    if not row or not row["count"]:
        return ""
    ranked = _errors_ranked(row)[:3]
    if not ranked:
        return ""
    parts = [f"{ERROR_NOUN[e]} i {antal(k, 'sag', 'sager')}" for e, k in ranked]
    return f"Kritikken i de stadfæstede afgørelser handler om {_join(parts)}."


def _table_rows(rows: list[dict[str, Any]], label) -> list[list[str]]:
    return [[label(r), fmt_int(r["count"]),
             f"{fmt_int(r['stadfæstet'])} ({fmt_int(r['stadfæstet_med_kritik'])})",
             fmt_int(r["ændret"]), fmt_int(r["hjemvist"]), fmt_int(r["afvist"]),
             fmt_int(r["omgjorte"]), fmt_pct(r["omgørelsesprocent"])]
            for r in rows]


TABLE_HEADERS = ["Afgørelser", "Stadfæstet (heraf med kritik)", "Ændret", "Hjemvist",
                 "Afvist", "Omgjorte", "Omgørelsesprocent"]

_PRONOUNS = [(r"\bdine\b", "borgerens"), (r"\bdin\b", "borgerens"), (r"\bdit\b", "borgerens"),
             (r"\bdig\b", "borgeren"), (r"\bdu\b", "borgeren"), (r"\bDu\b", "Borgeren")]


def _clean_instruction(text: str) -> str | None:
    """An instruction as a follow-up item, or None when it is unusable (empty, broken by
    the extraction, masked data, only 'træf en ny afgørelse')."""
    t = re.sub(r"\s+", " ", text or "").strip()
    if not (25 <= len(t) <= 240) or not t.endswith(".") or "[" in t or "]" in t:
        return None
    if not t[:1].isupper():
        return None
    t = re.sub(r"^(Kommunen|Forvaltningen|Jobcentret|Jobcenteret) skal (herefter |derefter |"
               r"derfor |også )?", "", t)
    for pat, repl in _PRONOUNS:
        t = re.sub(pat, repl, t)
    t = _cap(t)
    if re.fullmatch(r"(Herefter |Derefter )?[Tt]ræffe en ny afgørelse( i sagen)?\.", t):
        return None
    return t


def _instructions(conn: sqlite3.Connection, year: int, filters: dict[str, Any],
                  departments: dict[str, str]) -> list[tuple[str | None, str]]:
    """(law_area, instruction) of the remitted decisions of the year (current, ok rows)."""
    cte, params = _decisions_cte(conn, since=str(year), until=str(year),
                                 departments=departments, **filters)
    sql = (f"{cte}\nSELECT d.law_area, i.text FROM d JOIN instructions i "
           "ON i.decision_id = d.id WHERE d.outcome = 'hjemvist' "
           "ORDER BY d.law_area, d.id, i.ord, i.id")
    return [(area, text) for area, text in conn.execute(sql, params)]


def _followups(pairs: list[tuple[str | None, str]], *, per_area: int = 2,
               areas_max: int = 8) -> list[str]:
    """One item per law area (the areas with most usable instructions first, at most
    ``areas_max``): 'Botilbud: indhente ... . Indhente ...' with up to ``per_area``
    distinct instructions."""
    seen: set[str] = set()
    by_area: dict[str | None, list[str]] = {}
    for area, text in pairs:
        item = _clean_instruction(text)
        if not item or item.casefold() in seen:
            continue
        seen.add(item.casefold())
        by_area.setdefault(area, []).append(item)
    areas = sorted(by_area, key=lambda a: (-len(by_area[a]), area_prose(a)))[:areas_max]
    out = []
    for a in sorted(areas, key=area_prose):
        items = by_area[a][:per_area]
        text = " ".join(items)
        out.append(f"{area_title(a)}: {text[:1].lower()}{text[1:]}")
    return out


def _png(fn, *args, **kw) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "chart.png"
        fn(*args, path, **kw)
        return path.read_bytes()


def build_chapter(store_path: Any, year: int, *, department: str | None = None,
                  national_rate: float | None = None, municipality: str | None = None,
                  departments: str | os.PathLike | dict[str, str] | None = None,
                  charts: bool = True) -> Chapter:
    """The chapter's content for ``year`` (all of the store's municipalities, or one;
    all departments, or one). Every figure comes from ``trends``."""
    year = int(year)
    if national_rate is not None and not 0 <= float(national_rate) <= 100:
        raise ValueError(f"national_rate {national_rate!r} must be a percentage (0-100)")
    mapping = departments if isinstance(departments, dict) else load_departments(departments)
    conn, opened = _connect(store_path)
    try:
        return _build(conn, year, department=department, national_rate=national_rate,
                      municipality=municipality, mapping=mapping, charts=charts)
    finally:
        if opened:
            conn.close()


def _build(conn, year, *, department, national_rate, municipality, mapping, charts) -> Chapter:
    filters = {"municipality": municipality, "department": department}
    y, prev = str(year), str(year - 1)

    def q(by, since=y, until=y):
        return trends(conn, by, since=since, until=until, departments=mapping, **filters)

    now = q([])[0]
    before = q([], prev, prev)[0]
    kommuner = [r for r in q(["municipality"]) if r["count"]]
    dept_rows = [r for r in q(["department"]) if r["count"]]
    dept_prev = {r["department"]: r for r in q(["department"], prev, prev)}
    area_rows = q(["department", "law_area"])
    outcome_rows = q(["department", "law_area", "outcome"])
    dept_outcome = q(["department", "outcome"])
    kritik_rows = q(["department", "outcome", "kritik"])
    data: dict[str, Any] = {"total": now, "previous": before, "municipalities": kommuner,
                            "departments": dept_rows, "departments_previous": dept_prev,
                            "law_areas": area_rows, "law_area_outcomes": outcome_rows,
                            "department_outcomes": dept_outcome, "kritik": kritik_rows}

    dept_name = None
    if department:
        dept_name = dept_rows[0]["department"] if dept_rows else department
    kommune = kommuner[0]["municipality"] if len(kommuner) == 1 else None
    title = TITLE + (f" – {dept_name}" if dept_name else "")
    blocks: list[Block] = []
    scope = kommune or (f"{antal(len(kommuner), 'kommune', 'kommuner')}" if kommuner
                        else (municipality or "kommunen"))
    blocks.append(Block("subtitle", f"{scope}, {year}" if kommuner or municipality
                        else str(year)))

    # ---- overview
    blocks.append(Block("heading", "Overblik", level=2))
    where = (f"på {_genitive(dept_name)} område" if dept_name else "")
    source = (f"fra {kommune}" if kommune else
              f"fra {antal(len(kommuner), 'kommune', 'kommuner')}" if len(kommuner) > 1 else
              "fra kommunen")
    if not now["count"]:
        blocks.append(Block("para", f"Opgørelsen indeholder ingen afgørelser fra {year} "
                                    f"{source}{' ' + where if where else ''}."))
        return Chapter(title, blocks, year, data)
    first = (f"Ankestyrelsen har i {year} truffet "
             f"{antal(now['count'], 'afgørelse', 'afgørelser')} i klagesager {source}"
             f"{' ' + where if where else ''}.")
    part1, part2 = _overview_sentences(now, "afgørelserne")
    blocks.append(Block("para", " ".join([first, *part1])))
    if part2:
        blocks.append(Block("para", " ".join(part2)))
    comparison = [_change_sentence(now, before, year, "omgørelsesprocenten")]
    if national_rate is not None:
        comparison.append(_national_sentence(now, float(national_rate),
                                             "kommunens omgørelsesprocent"))
    blocks.append(Block("para", " ".join(comparison)))
    blocks.append(Block("note", "Omgørelsesprocenten er andelen af ændrede og hjemviste "
                                "afgørelser blandt de realitetsbehandlede sager (stadfæstede, "
                                "ændrede og hjemviste), som Ankestyrelsen opgør den. Afviste "
                                "sager indgår hverken i tæller eller nævner. En afgørelse med "
                                "flere dele tælles efter den mest vidtgående del."))
    if len(dept_rows) > 1 or (dept_rows and not dept_name):
        blocks.append(Block(
            "table", "Afgørelser pr. forvaltning",
            headers=["Forvaltning", *TABLE_HEADERS],
            rows=_table_rows(dept_rows, lambda r: r["department"] or UNKNOWN_DEPARTMENT)
            + _table_rows([now], lambda r: "I alt")))
    if charts:
        quarters = q(["quarter"], prev, y)
        data["quarters"] = quarters
        if quarters:
            blocks.append(Block("figure", f"Udfald pr. kvartal {year - 1}-{year} "
                                          f"(søjler: antal afgørelser; linje: omgørelsesprocent)",
                                png=_png(chart_outcomes, quarters, "quarter",
                                         title=f"Udfald pr. kvartal {year - 1}-{year}"),
                                name="udfald"))

    # ---- per department
    for drow in dept_rows:
        dname = drow["department"]
        label = dname or UNKNOWN_DEPARTMENT
        blocks.append(Block("heading", label, level=2))
        own = f"{_genitive(dname)} område" if dname else "områder uden kendt forvaltning"
        sentences = [f"Ankestyrelsen har i {year} truffet "
                     f"{antal(drow['count'], 'afgørelse', 'afgørelser')} på {own}."]
        upheld_kritik = next((r for r in kritik_rows if r["department"] == dname
                              and r["outcome"] == "stadfæstet" and r["kritik"] is True), None)
        part1, part2 = _overview_sentences(drow, "forvaltningens afgørelser",
                                           _kritik_sentence(upheld_kritik))
        blocks.append(Block("para", " ".join([*sentences, *part1])))
        if part2:
            blocks.append(Block("para", " ".join(part2)))
        dprev = dept_prev.get(dname, {"count": 0, "omgørelsesprocent": None})
        comp = [_change_sentence(drow, dprev, year, "forvaltningens omgørelsesprocent")]
        blocks.append(Block("para", " ".join(comp)))

        areas = [r for r in area_rows if r["department"] == dname and r["count"]]
        om_rows = [r for r in outcome_rows if r["department"] == dname
                   and r["outcome"] in ("ændret", "hjemvist")]
        om_by_area: dict[str | None, dict[str, Any]] = {}
        for a in dict.fromkeys(r["law_area"] for r in om_rows):
            om_by_area[a] = total(r for r in om_rows if r["law_area"] == a)
        split_rows = [dict(law_area=a, omgjorte=r["omgjorte"]) for a, r in om_by_area.items()]
        text = _area_split_sentence(split_rows, drow["omgjorte"])
        dept_om = total(r for r in dept_outcome if r["department"] == dname
                        and r["outcome"] in ("ændret", "hjemvist"))
        common = _common_errors_sentence(dept_om)
        if text or common:
            blocks.append(Block("para", " ".join(t for t in (text, common) if t)))
        pattern_items = []
        for r in sorted(om_by_area.items(), key=lambda kv: (-kv[1]["omgjorte"],
                                                             area_prose(kv[0]))):
            area, om_row = r
            if not om_row["omgjorte"]:
                continue
            all_row = next(x for x in areas if x["law_area"] == area)
            pattern_items.append(_pattern_sentence(area, om_row, all_row))
        if pattern_items:
            blocks.append(Block("heading", "Fejl i de omgjorte afgørelser pr. sagsområde",
                                level=3))
            blocks.append(Block("bullets", items=pattern_items, labelled=True))
        blocks.append(Block("table", f"{label}: afgørelser pr. sagsområde",
                            headers=["Sagsområde", *TABLE_HEADERS],
                            rows=_table_rows(areas, lambda r: area_title(r["law_area"]))
                            + _table_rows([drow], lambda r: "I alt")))

    # ---- error types per law area
    if charts:
        law_rows = [r for r in q(["law_area"]) if r["count"]]
        data["errors_by_law_area"] = law_rows
        if any(r[f"fejl_{e}"] for r in law_rows for e in ERROR_TYPES):
            blocks.append(Block("heading", "Fejltyper pr. sagsområde", level=2))
            blocks.append(Block("figure", f"Fejltyper pr. sagsområde {year}: antal afgørelser "
                                          f"med hver fejltype (i parentes: antal afgørelser i "
                                          f"alt); farven viser andelen",
                                png=_png(chart_errors, law_rows, "law_area",
                                         title=f"Fejltyper pr. sagsområde {year}",
                                         label=area_title),
                                name="fejltyper"))

    # ---- follow-ups of remitted cases
    if now["hjemvist"]:
        items = _followups(_instructions(conn, year, filters, mapping))
        blocks.append(Block("heading", "Hvad skal kommunen gøre?", level=2))
        intro = (f"I {'den hjemviste sag' if now['hjemvist'] == 1 else 'de ' + antal(now['hjemvist'], 'hjemviste sag', 'hjemviste sager')} "
                 f"skal kommunen behandle sagen igen og træffe en ny afgørelse.")
        if items:
            intro += " Ankestyrelsen har blandt andet bedt kommunen om at:"
        blocks.append(Block("para", intro))
        if items:
            blocks.append(Block("bullets", items=items, numbers_from_store=False,
                                labelled=True))

    # ---- method
    blocks.append(Block("heading", "Om opgørelsen", level=2))
    method = ("Tallene bygger på en automatisk klassificering af Ankestyrelsens afgørelser: "
              "udfald, kritik og fejltyper er læst ud af afgørelsernes tekst, og sagsområdet "
              "af de regler, afgørelsen henviser til. Forvaltningen er afledt af sagsområdet.")
    if now["needs_review"]:
        method += (f" {_cap(kvantor_af(_share(now['needs_review'], now['count']), 'afgørelserne'))} "
                   f"({fmt_int(now['needs_review'])} af {fmt_int(now['count'])}) "
                   f"er markeret til manuel kontrol, fordi klassificeringen er usikker.")
    blocks.append(Block("note", method))
    return Chapter(title, blocks, year, data)


# --------------------------------------------------------------------------- renderers

def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def _split_label(item: str) -> tuple[str, str]:
    label, sep, rest = item.partition(": ")
    return (label, rest) if sep else ("", item)


def _label_md(item: str) -> str:
    label, rest = _split_label(item)
    return f"**{label}:** {rest}" if label else item


def render_markdown(chapter: Chapter, out: Path) -> Path:
    lines = [f"# {chapter.title}", ""]
    n_fig = 0
    for b in chapter.blocks:
        if b.kind == "heading":
            lines += ["#" * b.level + " " + b.text, ""]
        elif b.kind == "subtitle":
            lines += [f"**{b.text}**", ""]
        elif b.kind == "para":
            lines += [b.text, ""]
        elif b.kind == "note":
            lines += [f"*{b.text}*", ""]
        elif b.kind == "bullets":
            lines += [f"- {_label_md(item) if b.labelled else item}" for item in b.items] + [""]
        elif b.kind == "table":
            lines += [f"**{b.text}**", ""]
            lines.append("| " + " | ".join(_md_escape(h) for h in b.headers) + " |")
            lines.append("|" + "|".join([" --- "] + [" ---: "] * (len(b.headers) - 1)) + "|")
            for row in b.rows:
                lines.append("| " + " | ".join(_md_escape(c) for c in row) + " |")
            lines.append("")
        elif b.kind == "figure":
            n_fig += 1
            png = out.with_name(f"{out.stem}-{b.name or n_fig}.png")
            png.write_bytes(b.png)
            lines += [f"![{b.text}]({png.name})", "", f"*Figur {n_fig}. {b.text}*", ""]
    out.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    return out


_CSS = """
body { font-family: "Segoe UI", "DejaVu Sans", Arial, sans-serif; color: #1d2733;
       max-width: 60rem; margin: 2rem auto; padding: 0 1.5rem; line-height: 1.55; }
h1 { font-size: 1.7rem; line-height: 1.25; color: #1f3a5f; margin-bottom: .3rem; }
h2 { font-size: 1.3rem; color: #1f3a5f; margin-top: 2.2rem;
     border-bottom: 1px solid #d5dbe3; padding-bottom: .2rem; }
h3 { font-size: 1.05rem; margin-top: 1.4rem; }
p.note { color: #4d5b6a; font-size: .92rem; }
p.subtitle { color: #4d5b6a; font-size: 1.05rem; margin-top: 0; }
table { border-collapse: collapse; margin: .6rem 0 1.4rem; font-size: .88rem; width: 100%; }
caption { text-align: left; font-weight: 600; padding-bottom: .35rem; }
th, td { border-bottom: 1px solid #d5dbe3; padding: .3rem .5rem; vertical-align: top; }
th { background: #eef2f6; text-align: right; font-weight: 600; }
th:first-child, td:first-child { text-align: left; min-width: 11rem; }
td { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: 600; border-top: 2px solid #aab4c0; }
figure { margin: 1rem 0 1.6rem; }
figure img { max-width: 100%; height: auto; border: 1px solid #e3e7ec; }
figcaption { font-size: .88rem; color: #4d5b6a; margin-top: .3rem; }
li { margin-bottom: .35rem; }
@media print { body { max-width: none; } h2 { page-break-after: avoid; } }
"""


def _h(text: str) -> str:
    """Escape, and keep numbers with their unit on one line ('19,2 %', '7,6 procentpoint')."""
    out = html.escape(text)
    out = re.sub(r"(\d) %", r"\1&nbsp;%", out)
    return re.sub(r"(\d) (procentpoint|af \d)", lambda m: f"{m.group(1)}&nbsp;{m.group(2)}", out)


def render_html(chapter: Chapter) -> str:
    parts = ["<!DOCTYPE html>", '<html lang="da">', "<head>", '<meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{html.escape(chapter.title)}</title>", f"<style>{_CSS}</style>",
             "</head>", "<body>", f"<h1>{html.escape(chapter.title)}</h1>"]
    n_fig = 0
    for b in chapter.blocks:
        if b.kind == "heading":
            parts.append(f"<h{b.level}>{html.escape(b.text)}</h{b.level}>")
        elif b.kind == "para":
            parts.append(f"<p>{_h(b.text)}</p>")
        elif b.kind == "note":
            parts.append(f'<p class="note">{_h(b.text)}</p>')
        elif b.kind == "subtitle":
            parts.append(f'<p class="subtitle">{_h(b.text)}</p>')
        elif b.kind == "bullets":
            lis = []
            for item in b.items:
                label, rest = _split_label(item) if b.labelled else ("", item)
                lis.append(f"<li><strong>{_h(label)}:</strong> {_h(rest)}</li>" if label
                           else f"<li>{_h(item)}</li>")
            parts.append("<ul>" + "".join(lis) + "</ul>")
        elif b.kind == "table":
            head = "".join(f"<th>{html.escape(h).replace('Omgørelses', 'Omgørelses&shy;')}</th>"
                           for h in b.headers)
            body = []
            for row in b.rows:
                cls = ' class="total"' if row and row[0] == "I alt" else ""
                body.append(f"<tr{cls}>" + "".join(f"<td>{_h(c)}</td>" for c in row) + "</tr>")
            parts.append(f"<table><caption>{html.escape(b.text)}</caption>"
                         f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")
        elif b.kind == "figure":
            n_fig += 1
            data = base64.b64encode(b.png).decode("ascii")
            parts.append(f'<figure><img alt="{html.escape(b.text)}" '
                         f'src="data:image/png;base64,{data}">'
                         f"<figcaption>Figur {n_fig}. {_h(b.text)}</figcaption></figure>")
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"


def _nb(text: str) -> str:
    """Keep '46,5 %' together on a line (no-break space before the per cent sign)."""
    return re.sub(r"(\d) %", "\\1\u00a0%", text)


def render_docx(chapter: Chapter, out: Path) -> Path:
    import io

    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt, RGBColor

    doc = Document()
    doc.core_properties.title = chapter.title
    doc.core_properties.language = "da-DK"
    normal = doc.styles["Normal"]
    normal.font.name = "Calibri"
    normal.font.size = Pt(10.5)
    rpr = normal.element.get_or_add_rPr()
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = rpr.makeelement(qn("w:lang"), {})
        rpr.append(lang)
    lang.set(qn("w:val"), "da-DK")
    for section in doc.sections:
        section.left_margin = section.right_margin = Cm(2.0)
    doc.add_heading(chapter.title, level=1)
    n_fig = 0
    for b in chapter.blocks:
        if b.kind == "heading":
            doc.add_heading(b.text, level=min(b.level, 4))
        elif b.kind == "para":
            doc.add_paragraph(_nb(b.text))
        elif b.kind == "subtitle":
            p = doc.add_paragraph()
            run = p.add_run(b.text)
            run.font.size = Pt(12)
            run.font.color.rgb = RGBColor(0x4D, 0x5B, 0x6A)
        elif b.kind == "note":
            p = doc.add_paragraph()
            run = p.add_run(_nb(b.text))
            run.italic = True
            run.font.size = Pt(9.5)
            run.font.color.rgb = RGBColor(0x4D, 0x5B, 0x6A)
        elif b.kind == "bullets":
            for item in b.items:
                p = doc.add_paragraph(style="List Bullet")
                label, rest = _split_label(item) if b.labelled else ("", item)
                if label:
                    p.add_run(f"{label}: ").bold = True
                p.add_run(_nb(rest))
        elif b.kind == "table":
            cap = doc.add_paragraph()
            cap.add_run(b.text).bold = True
            table = doc.add_table(rows=1 + len(b.rows), cols=len(b.headers))
            table.style = "Table Grid"
            table.alignment = WD_TABLE_ALIGNMENT.CENTER
            table.autofit = False
            margins = OxmlElement("w:tblCellMar")
            for side in ("left", "right"):
                el = OxmlElement(f"w:{side}")
                el.set(qn("w:w"), "57")  # twips: about 1 mm
                el.set(qn("w:type"), "dxa")
                margins.append(el)
            table._tbl.tblPr.append(margins)
            usable = 17.0  # cm between the margins
            rest = len(b.headers) - 1
            if rest:
                first = max(3.0, usable - 1.85 * (rest - 1) - 2.0)
                last = 2.0
                mid = (usable - first - last) / max(1, rest - 1)
                widths = [Cm(first)] + [Cm(mid)] * (rest - 1) + [Cm(last)]
            else:
                widths = [Cm(usable)]
            for r, row in enumerate([b.headers, *b.rows]):
                for c, value in enumerate(row):
                    cell = table.cell(r, c)
                    cell.width = widths[c]
                    cell.text = ""
                    para = cell.paragraphs[0]
                    header = r == 0
                    parts = value.split("\n")
                    if header and value.startswith("Omgørelses"):
                        parts = ["Omgørelses-", value[len("Omgørelses"):]]
                    for i, part in enumerate(parts):
                        run = para.add_run(part)
                        run.font.size = Pt(7 if header else 8.5)
                        run.bold = header or (bool(row) and row[0] == "I alt")
                        if i < len(parts) - 1:
                            run.add_break()
                    if c > 0:
                        para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            for c, width in enumerate(widths):
                table.columns[c].width = width
            doc.add_paragraph()
        elif b.kind == "figure":
            n_fig += 1
            doc.add_picture(io.BytesIO(b.png), width=Cm(16))
            cap = doc.add_paragraph()
            run = cap.add_run(f"Figur {n_fig}. {b.text}")
            run.italic = True
            run.font.size = Pt(9)
    doc.save(str(out))
    return out


def write_report(store_path: Any, year: int, out: str | os.PathLike, fmt: str = "md",
                 department: str | None = None, national_rate: float | None = None, *,
                 municipality: str | None = None,
                 departments: str | os.PathLike | dict[str, str] | None = None) -> Path:
    """Write the chapter for ``year`` to ``out`` as Markdown (charts as PNG files beside
    it), self-contained HTML or DOCX. ``department``: only that department's decisions;
    ``national_rate``: the national omgørelsesprocent in percent (e.g. 38) to compare with;
    ``municipality``: only that municipality (default: all in the store). Returns ``out``."""
    fmt = fmt.lower().lstrip(".")
    if fmt not in ("md", "html", "docx"):
        raise ValueError(f"format {fmt!r}: choose md, html or docx")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    chapter = build_chapter(store_path, year, department=department,
                            national_rate=national_rate, municipality=municipality,
                            departments=departments)
    if fmt == "md":
        return render_markdown(chapter, out)
    if fmt == "html":
        out.write_text(render_html(chapter), encoding="utf-8")
        return out
    return render_docx(chapter, out)
