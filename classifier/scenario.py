"""The acceptance scenario: Gladsaxe Kommune's 2023 figures, rebuilt from corpus decisions.

    build_scenario(out_dir) -> out_dir     PDFs + manifest.json (the intended labels)
    run_scenario(work_dir) -> dict         build, classify into a fresh store, write chapters
    intended_figures(manifest) -> {...}    the figures the chapter should state
    misreadings(store, manifest) -> [...]  where the classifier disagrees with the manifest

DOMAIN.md ("A real report, as the acceptance scenario") gives what a municipal ombudsman's
report for 2023 says; this module builds a set of decision letters whose labels and metadata
match it, so that the real pipeline (render -> classify -> store -> trends -> report) can be
checked end to end against those figures:

- Social- og Sundhedsforvaltningen: 55 omgjorte (26 ændret, 29 hjemvist: a bit under half
  ændret), most decisions stadfæstet, a few stadfæstet with kritik about wrong or missing
  legal basis (retsgrundlag); hjemvist decisions on sygedagpenge, kontanthjælp,
  merudgifter (voksne), socialpædagogisk støtte, hjælpemidler and botilbud carry
  officialprincip + begrundelse, personlig hjælp officialprincip + retsgrundlag.
- Børne- og Kulturforvaltningen: 19 omgjorte, 10 about tabt arbejdsfortjeneste (a bit over
  half) and 9 about merudgifter (børn); hjemvist ones carry officialprincip + begrundelse;
  stadfæstet with kritik about sagsbehandlingstid and notatpligt.
- A smaller 2022 set with lower omgørelsesprocenter, for the previous-year comparison.

HOW: every slot of the plan takes a labelled corpus decision (``load_corpus()``) whose
format, law area and outcome fit, preferring ones whose error labels and kritik already fit
and that were used least (a decision is reused only when the corpus has too few). It is
then re-stamped: the kommune (all its forms, also the genitive "Xs Kommunes"/"X Kommunes"
and the town name) becomes Gladsaxe, the years move to the scenario year (decision date,
first-instance date and every year in the text, so the letter stays consistent), a fresh
case number, a Gladsaxe postcode. Child-area letters from 2024 on cite barnets lov § 86/§ 87;
for 2022-2023 they are adapted to serviceloven § 41/§ 42. When a slot needs an error type or
a kritik the chosen letter lacks, a finding sentence in Ankestyrelsen's voice is added to the
reasoning (or a "Vi kritiserer ..." paragraph after the result); the manifest records every
such adaptation. The letters are rendered with ``classifier.corpus.render.render_pdf``.
"""

from __future__ import annotations

import dataclasses
import json
import random
import re
import shutil
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from classifier.corpus.load import CorpusDecision, load_corpus, validate
from classifier.corpus.render import render_pdf
from classifier.schema import ERROR_TYPES, OUTCOMES

GLADSAXE = "Gladsaxe Kommune"
GLADSAXE_TOWN = "Gladsaxe"
GLADSAXE_POSTCODE = "2860 Søborg"
SOSU = "Social- og Sundhedsforvaltningen"
BK = "Børne- og Kulturforvaltningen"
YEAR = 2023
PREVIOUS = 2022
CHILD_AREAS = ("merudgifter_børn", "tabt_arbejdsfortjeneste")
EMPLOYMENT_AREAS = ("sygedagpenge", "kontanthjælp", "fleksjob")
CASH_AREAS = ("sygedagpenge", "kontanthjælp")
#: A decision is reused at most this often while the corpus has unused fitting letters;
#: beyond that only when a slot has no other candidate (the manifest reports max_reuse).
PREFERRED_REUSE = 3

OB = ("officialprincip", "begrundelse")
OR = ("officialprincip", "retsgrundlag")


@dataclass(frozen=True)
class Slot:
    """One decision of the scenario: where it belongs and which labels it must carry."""

    year: int
    department: str
    law_area: str
    outcome: str
    need: tuple[str, ...] = ()  # error types it must carry (added when missing)
    kritik: bool = False  # stadfæstet/afvist: with kritik (of the ``need`` types) or clean


def _slots(year: int, department: str, outcome: str, spec: list[tuple], **kw) -> list[Slot]:
    out: list[Slot] = []
    for item in spec:
        area, n, *rest = item
        need = rest[0] if rest else ()
        out += [Slot(year, department, area, outcome, tuple(need), **kw)] * n
    return out


SOSU_AREAS = ("personlig_hjælp", "socialpædagogisk_støtte", "bpa", "ledsageordning",
              "merudgifter_voksne", "botilbud", "hjælpemidler", "støtte_til_bil",
              "kontanthjælp", "sygedagpenge", "førtidspension", "fleksjob")


def plan() -> list[Slot]:
    """The scenario's slots (2023 and 2022), in a fixed order."""
    slots: list[Slot] = []
    # ---- 2023, Social- og Sundhedsforvaltningen: 55 omgjorte = 26 ændret + 29 hjemvist
    slots += _slots(YEAR, SOSU, "hjemvist", [
        ("sygedagpenge", 5, OB), ("kontanthjælp", 5, OB), ("merudgifter_voksne", 4, OB),
        ("socialpædagogisk_støtte", 4, OB), ("hjælpemidler", 4, OB), ("botilbud", 3, OB),
        ("personlig_hjælp", 4, OR)])
    slots += _slots(YEAR, SOSU, "ændret", [
        ("sygedagpenge", 3), ("merudgifter_voksne", 3), ("socialpædagogisk_støtte", 5),
        ("hjælpemidler", 3), ("botilbud", 3), ("ledsageordning", 4), ("støtte_til_bil", 3),
        ("førtidspension", 2)])
    # most decisions upheld; a few upheld with kritik about the legal basis
    slots += [Slot(YEAR, SOSU, "*", "stadfæstet")] * 62
    slots += [Slot(YEAR, SOSU, "*", "stadfæstet", ("retsgrundlag",), kritik=True)] * 4
    slots += [Slot(YEAR, SOSU, "*", "afvist")] * 2
    # ---- 2023, Børne- og Kulturforvaltningen: 19 omgjorte, 10 tabt arbejdsfortjeneste
    slots += _slots(YEAR, BK, "hjemvist", [("tabt_arbejdsfortjeneste", 5, OB),
                                           ("merudgifter_børn", 5, OB)])
    slots += _slots(YEAR, BK, "ændret", [("tabt_arbejdsfortjeneste", 5),
                                         ("merudgifter_børn", 4)])
    slots += [Slot(YEAR, BK, "*", "stadfæstet")] * 10
    slots += [Slot(YEAR, BK, "*", "stadfæstet", ("sagsbehandlingstid",), kritik=True)] * 2
    slots += [Slot(YEAR, BK, "*", "stadfæstet", ("notatpligt",), kritik=True)] * 2
    slots += [Slot(YEAR, BK, "*", "afvist")] * 1
    # ---- 2022: a smaller set with lower rates
    slots += _slots(PREVIOUS, SOSU, "hjemvist", [
        ("bpa", 2, OB), ("fleksjob", 2, OB), ("ledsageordning", 1, OB),
        ("støtte_til_bil", 1, OB), ("førtidspension", 1, OB)])
    slots += _slots(PREVIOUS, SOSU, "ændret", [
        ("ledsageordning", 1), ("støtte_til_bil", 2), ("botilbud", 1), ("førtidspension", 1)])
    slots += [Slot(PREVIOUS, SOSU, "*", "stadfæstet")] * 20
    slots += [Slot(PREVIOUS, SOSU, "*", "afvist")] * 1
    slots += _slots(PREVIOUS, BK, "hjemvist", [("tabt_arbejdsfortjeneste", 1, OB)])
    slots += _slots(PREVIOUS, BK, "ændret", [("tabt_arbejdsfortjeneste", 2)])
    slots += [Slot(PREVIOUS, BK, "*", "stadfæstet")] * 5
    return slots


# --------------------------------------------------------------------------- sentences
# Written for this scenario, in Ankestyrelsen's voice and without pronouns, so that they fit
# letters to the citizen ("du") and letters to the municipality alike.

FINDINGS: dict[str, list[str]] = {
    "officialprincip": [
        "Vi vurderer, at sagen ikke var tilstrækkeligt oplyst, da kommunen traf afgørelse. "
        "Kommunen burde have undersøgt sagen nærmere, jf. retssikkerhedslovens § 10.",
        "Kommunen har ikke indhentet de oplysninger, der var nødvendige for at vurdere sagen. "
        "Sagen er derfor ikke tilstrækkeligt oplyst, jf. retssikkerhedslovens § 10.",
        "Der mangler oplysninger, som er afgørende for sagen, og kommunen har dermed ikke "
        "sørget for, at sagen var tilstrækkeligt oplyst, før den traf afgørelse.",
    ],
    "begrundelse": [
        "Kommunens afgørelse lever heller ikke op til begrundelseskravet i "
        "forvaltningslovens §§ 22-24, fordi det ikke fremgår, hvilke oplysninger kommunen "
        "har lagt vægt på.",
        "Begrundelsen i kommunens afgørelse er ikke dækkende, da kommunen ikke har forklaret, "
        "hvorfor behovet ikke kan dækkes, jf. forvaltningslovens § 24.",
    ],
    "begrundelse_cash": [
        "Kommunens afgørelse lever heller ikke op til begrundelseskravet i "
        "forvaltningslovens §§ 22-24, fordi det ikke fremgår, hvordan kommunen har beregnet "
        "beløbet.",
        "Begrundelsen i kommunens afgørelse er ikke dækkende. Det fremgår ikke, hvilke "
        "indtægter kommunen har lagt til grund for beregningen, jf. forvaltningslovens § 24.",
    ],
    "retsgrundlag": [
        "Kommunen har ikke henvist til de regler, som afgørelsen er truffet efter, og "
        "afgørelsen lever derfor ikke op til forvaltningslovens § 24, stk. 1.",
        "Afgørelsen skulle have været truffet efter en anden bestemmelse end den, kommunen "
        "har henvist til, og kommunen har dermed anvendt et forkert retsgrundlag.",
    ],
}
KRITIK: dict[str, list[str]] = {
    "retsgrundlag": [
        "Vi kritiserer, at kommunens afgørelse ikke henviser til de regler, som afgørelsen er "
        "truffet efter, jf. forvaltningslovens § 24, stk. 1. Det fører dog ikke til et andet "
        "resultat i sagen.",
        "Vi kritiserer, at kommunen har truffet afgørelsen efter en forkert bestemmelse. Det "
        "fører dog ikke til et andet resultat, fordi betingelserne heller ikke er opfyldt "
        "efter den rigtige bestemmelse.",
    ],
    "sagsbehandlingstid": [
        "Vi kritiserer, at kommunen ikke har overholdt sin egen frist på 6 uger for at "
        "behandle ansøgningen, jf. retssikkerhedslovens § 3, stk. 2. Det fører dog ikke til "
        "et andet resultat.",
        "Vi kritiserer, at kommunen ikke har overholdt fristen på 6 uger for sagsbehandlingen "
        "og ikke har givet besked om, hvornår en afgørelse kunne forventes. Det fører dog "
        "ikke til et andet resultat.",
    ],
    "notatpligt": [
        "Vi kritiserer, at kommunen ikke har gjort notat af samtalen med familien, selv om "
        "der kom oplysninger frem, som havde betydning for sagen, jf. offentlighedslovens "
        "§ 13. Det fører dog ikke til et andet resultat.",
        "Vi kritiserer, at der ikke er gjort notat af det møde, hvor kommunen fik oplysninger "
        "om barnets behov, jf. offentlighedslovens § 13. Det fører dog ikke til et andet "
        "resultat.",
    ],
}

_REASONING_END = ("regler", "reglerne", "hvad skal kommunen gøre?", "sagens oplysninger",
                  "du kan ikke klage", "klagevejledning", "klagemulighed", "klageadgang",
                  "kan du klage?", "sagens forløb", "oplysninger i sagen")
_MONTHS = ("januar", "februar", "marts", "april", "maj", "juni", "juli", "august",
           "september", "oktober", "november", "december")


# --------------------------------------------------------------------------- re-stamping

def _kommune_forms(municipality: str) -> tuple[str, str]:
    """'Odder Kommune' -> ('Odder', 'Odder'); 'Københavns Kommune' -> ('Københavns',
    'København'); 'Bornholms Regionskommune' -> ('Bornholms', 'Bornholm')."""
    stem = re.sub(r"\s+(Regionskommune|Kommune)$", "", municipality.strip())
    town = stem[:-1] if stem in ("Københavns", "Bornholms") else stem
    return stem, town


def restamp_kommune(text: str, municipality: str) -> str:
    """Replace every form of ``municipality`` by Gladsaxe: 'X Kommune(s)', 'Xs Kommune(s)',
    'X kommune', 'Regionskommune' and the bare town name (also genitive)."""
    if not text or municipality == GLADSAXE:
        return text
    stem, town = _kommune_forms(municipality)
    for name in dict.fromkeys((stem, town)):
        text = re.sub(rf"(?<![\wæøåÆØÅ-]){re.escape(name)}s?\s+(?:Regions)?[Kk]ommune(s?)\b",
                      lambda m: f"{GLADSAXE}{m.group(1)}", text)
    return re.sub(rf"(?<![\wæøåÆØÅ-]){re.escape(town)}(s?)(?![\wæøåÆØÅ-])",
                  lambda m: f"{GLADSAXE_TOWN}{m.group(1)}", text)


class DateShift:
    """Moves a letter in time: every date by the same number of days (decision date,
    first-instance date, "6. maj 2020", "6. maj", "06-05-2020", "maj 2020"), other years
    (lo..hi: "i efteråret 2019", "født i 2012") by the whole years the decision date moved."""

    _RE = re.compile(
        r"(?P<dm>(?<!\d)(?P<d>[0-3]?\d)\.\s?(?P<m>" + "|".join(_MONTHS) + r")"
        r"(?:\s(?P<y>(?:19|20)\d\d)(?!\d))?)"
        r"|(?P<num>(?<![\d.-])(?P<nd>[0-3]?\d)[-.](?P<nm>[01]?\d)[-.](?P<ny>(?:19|20)\d\d)(?!\d))"
        r"|(?P<my>(?<![\w.])(?P<mm>" + "|".join(_MONTHS) + r")\s(?P<my_y>(?:19|20)\d\d)(?!\d))"
        r"|(?P<year>(?<![\d.,/-])(?:19|20)\d\d(?![\d.,]\d))")

    def __init__(self, original: str, target: str):
        self.orig = date.fromisoformat(original[:10])
        self.target = date.fromisoformat(target[:10])
        self.delta = self.target - self.orig
        self.dy = self.target.year - self.orig.year
        self.lo, self.hi = self.orig.year - 30, self.orig.year + 1

    def iso(self, value: str) -> str:
        return (date.fromisoformat(value[:10]) + self.delta).isoformat()

    def _year_for(self, month: int, day: int) -> int:
        """The year of a date written without one: the last such day on or before the
        decision (letters mention earlier events)."""
        y = self.orig.year
        return y if (month, day) <= (self.orig.month, self.orig.day) else y - 1

    def _shift(self, y: int, m: int, d: int) -> date | None:
        try:
            return date(y, m, d) + self.delta
        except ValueError:
            return None

    def text(self, text: str) -> str:
        if not text or (not self.delta.days and not self.dy):
            return text

        def repl(mt: re.Match) -> str:
            if mt.group("dm"):
                m = _MONTHS.index(mt.group("m")) + 1
                d = int(mt.group("d"))
                y = int(mt.group("y")) if mt.group("y") else self._year_for(m, d)
                new = self._shift(y, m, d)
                if new is None:
                    return mt.group(0)
                out = f"{new.day}. {_MONTHS[new.month - 1]}"
                return f"{out} {new.year}" if mt.group("y") else out
            if mt.group("num"):
                new = self._shift(int(mt.group("ny")), int(mt.group("nm")), int(mt.group("nd")))
                if new is None:
                    return mt.group(0)
                sep = "-" if "-" in mt.group("num") else "."
                return f"{new.day:02d}{sep}{new.month:02d}{sep}{new.year}"
            if mt.group("my"):
                new = self._shift(int(mt.group("my_y")), _MONTHS.index(mt.group("mm")) + 1, 15)
                return mt.group(0) if new is None else f"{_MONTHS[new.month - 1]} {new.year}"
            y = int(mt.group("year"))
            return str(y + self.dy) if self.lo <= y <= self.hi else mt.group(0)
        return self._RE.sub(repl, text)


_BL_PARA = {"86": "41", "87": "42"}


def to_serviceloven(text: str) -> str:
    """Child-area letters citing barnets lov (2024 on) adapted to the rules in force up to
    2023: barnets lov § 86/§ 87 -> serviceloven § 41/§ 42."""
    def para(m: re.Match) -> str:
        return f"{m.group(1)}{_BL_PARA[m.group(2)]}"
    text = re.sub(r"(§§?\s*)(86|87)\b", para, text)
    text = re.sub(r"\bbarnets lovs\b", "servicelovens", text)
    text = re.sub(r"\bBarnets lovs\b", "Servicelovens", text)
    text = re.sub(r"\bbarnets lov\b", "serviceloven", text)
    text = re.sub(r"\bBarnets lov\b", "Serviceloven", text)
    return re.sub(r"\blov om barnets lov\b", "serviceloven", text)


def _blocks(text: str) -> list[str]:
    """The markup text as blocks separated by blank lines (headings are their own block)."""
    out: list[str] = []
    for chunk in re.split(r"\n\s*\n", text.strip("\n")):
        lines = chunk.split("\n")
        cur: list[str] = []
        for line in lines:
            if line.startswith("#"):
                if cur:
                    out.append("\n".join(cur))
                    cur = []
                out.append(line)
            else:
                cur.append(line)
        if cur:
            out.append("\n".join(cur))
    return out


def _heading(block: str) -> str | None:
    m = re.match(r"^#+\s+(.*)$", block.strip())
    return m.group(1).strip().casefold() if m else None


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def insert_finding(text: str, sentence: str, outcome_sentence: str | None) -> str:
    """Add ``sentence`` as a paragraph at the end of the reasoning: before the first
    rules/facts/closing heading that follows the result."""
    blocks = _blocks(text)
    start = 0
    if outcome_sentence:
        flat = _flat(outcome_sentence)
        start = next((i for i, b in enumerate(blocks) if flat in _flat(b)), 0)
    at = next((i for i, b in enumerate(blocks) if i > start
               and (_heading(b) or "") in _REASONING_END), None)
    if at is None:  # no such heading: before the closing "Venlig hilsen"
        at = next((i for i, b in enumerate(blocks) if b.strip().startswith("Venlig hilsen")),
                  len(blocks))
    blocks.insert(at, sentence)
    return "\n\n".join(blocks) + "\n"


def insert_kritik(text: str, sentence: str, outcome_sentence: str | None) -> str:
    """Add a 'Vi kritiserer ...' paragraph right after the paragraph that states the
    result (or after the first heading's paragraph)."""
    blocks = _blocks(text)
    at = None
    if outcome_sentence:
        flat = _flat(outcome_sentence)
        at = next((i for i, b in enumerate(blocks) if flat in _flat(b)), None)
    if at is None:
        at = next((i for i, b in enumerate(blocks) if not _heading(b)), 0)
    # after a bullet list, keep the list together
    while at + 1 < len(blocks) and blocks[at + 1].lstrip().startswith(("- ", "* ")):
        at += 1
    blocks.insert(at + 1, sentence)
    return "\n\n".join(blocks) + "\n"


# --------------------------------------------------------------------------- choosing

def _eligible(d: CorpusDecision) -> bool:
    """Letters a municipality receives about its own decisions."""
    return (d.format != "principle" and bool(d.municipality)
            and d.first_instance == d.municipality)


def _pools() -> dict[tuple[str, str], list[CorpusDecision]]:
    pools: dict[tuple[str, str], list[CorpusDecision]] = defaultdict(list)
    for d in load_corpus():
        if _eligible(d):
            pools[(d.law_area, d.outcome)].append(d)
    return pools


def _department_areas(department: str) -> tuple[str, ...]:
    return CHILD_AREAS if department == BK else SOSU_AREAS


def _fit(d: CorpusDecision, slot: Slot) -> tuple[list[str], int] | None:
    """(missing error types, number of extra error types) of a candidate for a slot, or
    None when it cannot be used."""
    errors = set(d.errors)
    if slot.outcome in ("stadfæstet", "afvist"):
        if slot.kritik:
            if d.kritik and errors == set(slot.need):
                return [], 0
            if not d.kritik and not errors:
                return list(slot.need), 0
            return None
        return ([], 0) if (not d.kritik and not errors) else None
    missing = [e for e in slot.need if e not in errors]
    extras = len(errors - set(slot.need))
    return missing, extras


def choose(slots: list[Slot]) -> list[tuple[Slot, CorpusDecision, list[str]]]:
    """A corpus decision for every slot: fitting law area and outcome, fewest adaptations,
    least used (deterministic). Slots with law area '*' take any area of their department,
    spreading over the areas."""
    pools = _pools()
    uses: Counter[str] = Counter()
    area_uses: Counter[tuple[int, str, str]] = Counter()
    out = []
    for slot in slots:
        best = _best(slot, pools, uses, area_uses)
        if best is None and slot.law_area != "*" and slot.department == SOSU:
            # the corpus has no such letter: take another area of the department
            best = _best(dataclasses.replace(slot, law_area="*"), pools, uses, area_uses)
        if best is None:
            raise LookupError(f"no corpus decision fits {slot}")
        _, d, missing = best
        uses[d.id] += 1
        area_uses[(slot.year, slot.department, d.law_area)] += 1
        out.append((slot, d, missing))
    return out


def _best(slot: Slot, pools, uses: Counter, area_uses: Counter
          ) -> tuple[tuple, CorpusDecision, list[str]] | None:
    """The best candidate for a slot: not yet used PREFERRED_REUSE times, needing no
    adaptation, least used, (for '*' slots) in the least used area, fewest extra errors."""
    areas = _department_areas(slot.department) if slot.law_area == "*" else (slot.law_area,)
    best = None
    for area in areas:
        spread = area_uses[(slot.year, slot.department, area)] if slot.law_area == "*" else 0
        for d in pools.get((area, slot.outcome), []):
            fit = _fit(d, slot)
            if fit is None:
                continue
            missing, extras = fit
            key = (uses[d.id] >= PREFERRED_REUSE, len(missing) > 0, uses[d.id], spread,
                   len(missing), extras, d.id)
            if best is None or key < best[0]:
                best = (key, d, missing)
    return best


# --------------------------------------------------------------------------- building

def restamp(d: CorpusDecision, slot: Slot, missing: list[str], *, new_id: str,
            case_number: str, decision_date: str, rng: random.Random
            ) -> tuple[CorpusDecision, list[str]]:
    """The decision re-stamped for the scenario (decided on ``decision_date``); returns
    (decision, adaptations)."""
    adaptations: list[str] = []
    shift = DateShift(d.decision_date, decision_date)

    def stamp(t: str) -> str:
        return shift.text(restamp_kommune(t, d.municipality))
    text = stamp(d.text)
    evidence = {k: stamp(v) for k, v in d.evidence.items()}
    instructions = [stamp(t) for t in d.instructions]
    citations = list(d.citations)
    if d.law_area in CHILD_AREAS and slot.year <= 2023 and "barnets lov" in text.lower():
        text = to_serviceloven(text)
        evidence = {k: to_serviceloven(v) for k, v in evidence.items()}
        instructions = [to_serviceloven(t) for t in instructions]
        citations = [to_serviceloven(c) for c in citations]
        adaptations.append("barnets lov § 86/§ 87 -> serviceloven § 41/§ 42")
    errors = list(d.errors)
    kritik = d.kritik
    outcome_sentence = evidence.get("outcome")
    for e in missing:
        if slot.kritik:
            sentence = rng.choice(KRITIK[e])
            text = insert_kritik(text, sentence, outcome_sentence)
            evidence.setdefault("kritik", sentence)
            kritik = True
            adaptations.append(f"added kritik: {e}")
        else:
            key = "begrundelse_cash" if (e == "begrundelse" and d.law_area in CASH_AREAS) else e
            sentence = rng.choice(FINDINGS[key])
            text = insert_finding(text, sentence, outcome_sentence)
            adaptations.append(f"added finding: {e}")
        evidence[e] = sentence
        errors.append(e)
    address = d.citizen_address
    if address:
        address = re.sub(r"\b\d{4}\s+[A-ZÆØÅ][\wæøåÆØÅ .-]*$", GLADSAXE_POSTCODE, address.strip())
        address = restamp_kommune(address, d.municipality)
    dept = None if d.law_area in EMPLOYMENT_AREAS else slot.department
    new = dataclasses.replace(
        d, id=new_id, text=text, evidence=evidence, instructions=instructions,
        citations=citations, errors=[e for e in ERROR_TYPES if e in errors], kritik=kritik,
        municipality=GLADSAXE, first_instance=GLADSAXE,
        decision_date=shift.iso(d.decision_date),
        first_instance_date=shift.iso(d.first_instance_date),
        case_number=case_number, citizen_address=address, department=dept)
    return new, adaptations


def _decision_dates(years: list[int], rng: random.Random) -> list[str]:
    """Working days spread evenly over each year, in a shuffled order."""
    out: list[str] = [""] * len(years)
    for year in sorted(set(years)):
        idx = [i for i, y in enumerate(years) if y == year]
        start, n = date(year, 1, 4), len(idx)
        days = []
        for k in range(n):
            day = start + timedelta(days=int((k + 0.5) * 355 / n))
            while day.weekday() >= 5:
                day -= timedelta(days=1)
            days.append(day.isoformat())
        rng.shuffle(days)
        for i, day in zip(idx, days):
            out[i] = day
    return out


def build_scenario(out_dir: str | Path, *, seed: int = 2023) -> Path:
    """Render the scenario's letters into ``out_dir`` (emptied of earlier PDFs) with a
    ``manifest.json`` of the intended labels. Returns ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*.pdf"):
        old.unlink()
    rng = random.Random(seed)
    chosen = choose(plan())
    numbers = rng.sample(range(10000, 99999), len(chosen))
    dates = _decision_dates([slot.year for slot, _, _ in chosen], rng)
    counters: Counter[int] = Counter()
    files = []
    for i, ((slot, d, missing), number) in enumerate(zip(chosen, numbers)):
        counters[slot.year] += 1
        new_id = f"gladsaxe-{slot.year}-{counters[slot.year]:03d}"
        case_number = f"{slot.year % 100:02d}-0{number:05d}"
        new, adaptations = restamp(d, slot, missing, new_id=new_id, case_number=case_number,
                                   decision_date=dates[i], rng=rng)
        problems = [p for p in validate(new) if "words" not in p]
        if problems:
            raise ValueError(f"{new_id} (from {d.id}): {problems}")
        name = f"{new_id}.pdf"
        render_pdf(new, out_dir / name, seed=seed + i)
        files.append({
            "file": name, "source_id": d.id, "year": slot.year,
            "department": slot.department, "law_area": new.law_area,
            "outcome": new.outcome, "kritik": new.kritik, "errors": new.errors,
            "partial": new.partial, "municipality": GLADSAXE,
            "decision_date": new.decision_date, "case_number": new.case_number,
            "format": new.format, "adaptations": adaptations,
        })
    reuse = Counter(f["source_id"] for f in files)
    manifest = {
        "municipality": GLADSAXE, "year": YEAR, "previous_year": PREVIOUS, "seed": seed,
        "files": files, "distinct_sources": len(reuse),
        "max_reuse": max(reuse.values()) if reuse else 0,
        "reuse": dict(sorted(reuse.items())),
        "adapted_files": sum(1 for f in files if f["adaptations"]),
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1),
                                           encoding="utf-8")
    return out_dir


# --------------------------------------------------------------------------- checking

def load_manifest(folder: str | Path) -> dict[str, Any]:
    return json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8"))


def intended_figures(manifest: dict[str, Any]) -> dict[tuple, dict[str, int]]:
    """Counts the chapter should state, by (year, department) and (year, department,
    law_area): count, each outcome, omgjorte, kritik, stadfæstet_med_kritik and, for the
    omgjorte decisions, fejl_<type>."""
    figures: dict[tuple, Counter] = defaultdict(Counter)
    for f in manifest["files"]:
        for key in ((f["year"], f["department"]), (f["year"], f["department"], f["law_area"])):
            c = figures[key]
            c["count"] += 1
            c[f["outcome"]] += 1
            if f["outcome"] in ("ændret", "hjemvist"):
                c["omgjorte"] += 1
                for e in f["errors"]:
                    c[f"omgjorte_fejl_{e}"] += 1
            if f["kritik"]:
                c["kritik"] += 1
                if f["outcome"] == "stadfæstet":
                    c["stadfæstet_med_kritik"] += 1
                    for e in f["errors"]:
                        c[f"kritik_fejl_{e}"] += 1
    out = {}
    for key, c in figures.items():
        row = {m: c.get(m, 0) for m in ("count", *OUTCOMES, "omgjorte", "kritik",
                                        "stadfæstet_med_kritik")}
        row.update({k: v for k, v in c.items() if "_fejl_" in k})
        out[key] = row
    return out


def misreadings(store_path: Any, manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """Every scenario file whose stored classification differs from the manifest
    (outcome, kritik, error types, law area, municipality, decision date), or that is
    missing or failed."""
    from classifier.store import iter_rows

    by_file = {f["file"]: f for f in manifest["files"]}
    seen: set[str] = set()
    out = []
    for r in iter_rows(store_path, include_failed=True):
        name = Path(r["source"] or "").name
        want = by_file.get(name)
        if want is None:
            continue
        seen.add(name)
        diffs = {}
        if r["status"] != "ok":
            diffs["status"] = (r["status"], r.get("error"))
        for key in ("outcome", "kritik", "law_area", "municipality", "decision_date"):
            if r.get(key) != want[key]:
                diffs[key] = {"got": r.get(key), "want": want[key]}
        if sorted(r.get("errors") or []) != sorted(want["errors"]):
            diffs["errors"] = {"got": sorted(r.get("errors") or []),
                               "want": sorted(want["errors"])}
        if diffs:
            out.append({"file": name, "source_id": want["source_id"],
                        "adaptations": want["adaptations"], **diffs})
    for name in sorted(set(by_file) - seen):
        out.append({"file": name, "source_id": by_file[name]["source_id"], "status": "missing"})
    return out


def run_scenario(work_dir: str | Path, *, formats: tuple[str, ...] = ("md", "html", "docx"),
                 national_rate: float | None = 48.0, jobs: int = 1) -> dict[str, Any]:
    """Build the scenario into ``work_dir/pdf``, classify it with the real classifier into a
    fresh ``work_dir/scenario.db`` and write the 2023 chapter in ``formats``. Returns the
    paths, the manifest and the misreadings."""
    from classifier.bulk import classify_paths
    from classifier.report import write_report

    work_dir = Path(work_dir)
    pdf_dir = build_scenario(work_dir / "pdf")
    store = work_dir / "scenario.db"
    for p in work_dir.glob("scenario.db*"):
        p.unlink()
    summary = classify_paths(pdf_dir, store_path=store, jobs=jobs, progress=False)
    reports = {}
    for fmt in formats:
        reports[fmt] = write_report(store, YEAR, work_dir / f"kapitel-{YEAR}.{fmt}", fmt=fmt,
                                    national_rate=national_rate)
    manifest = load_manifest(pdf_dir)
    return {"pdf_dir": pdf_dir, "store": store, "reports": reports, "manifest": manifest,
            "summary": summary, "misreadings": misreadings(store, manifest)}


def main(argv: list[str] | None = None) -> int:
    """python -m classifier.scenario WORK_DIR : build, classify, write the chapters and
    print the misreadings."""
    import sys

    args = argv if argv is not None else sys.argv[1:]
    work = Path(args[0] if args else "scenario-out")
    if work.exists() and "--clean" in args:
        shutil.rmtree(work)
    result = run_scenario(work)
    m = result["manifest"]
    print(f"{len(m['files'])} letters from {m['distinct_sources']} corpus decisions "
          f"(max reuse {m['max_reuse']}, {m['adapted_files']} adapted)")
    for fmt, path in result["reports"].items():
        print(f"{fmt}: {path}")
    print(f"{len(result['misreadings'])} misreadings")
    for r in result["misreadings"]:
        print(json.dumps(r, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
