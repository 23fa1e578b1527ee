"""Mask personal data: CPR numbers, the citizen's (and relatives') names, street addresses.

Names are learned from where a letter puts them — the address block, "Vedr.:"/"Cpr-nr." lines
in the margin, and cue phrases such as "din søn, Magnus," — and then masked everywhere in the
decision. Anything that looks like a CPR number or a street address is masked regardless.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

CPR_RE = re.compile(r"(?<![\d-])(?:[0-3]\d[01]\d\d\d)[- ]?\d{4}(?![\d-])")
_STREET_SUFFIX = (r"(?:vej|vejen|gade|gaden|allé|alle|vænge|vænget|parken|park|stræde|torv|plads|"
                  r"have|haven|høj|højen|bakke|bakken|toften|vang|vangen|sti|stien|dal|lund|lunden|"
                  r"mark|marken|bjerg|bro|engen|eng|hegn|holm|kær|krog|løkke|skov|skoven|strand|"
                  r"stien|tværvej|boulevard|gården|agre|ager|lyst|huse|bo)")
STREET_RE = re.compile(
    r"\b(?:[A-ZÆØÅ][a-zæøåé.]+\s+){0,2}[A-ZÆØÅ][a-zæøåé]+\s(?:Vej|Gade|Allé|Alle|Plads|Torv|Boulevard|Stræde|Have|Park|Vænge)"
    r"\s+\d{1,4}\s?[A-Za-z]?(?:,\s*\d{1,2}\.?\s*(?:sal|tv|th|mf)?\.?)?"
    r"|\b[A-ZÆØÅ][a-zæøåé]+(?:[ -][A-ZÆØÅ]?[a-zæøåé]+)?" + _STREET_SUFFIX +
    r"\s+\d{1,4}\s?[A-Za-z]?(?:,\s*(?:\d{1,2}\.?\s*(?:sal|tv|th|mf)?\.?|st\.?\s*(?:tv|th|mf)?\.?))?"
    r"(?:,?\s*\d{4}\s+[A-ZÆØÅ][a-zæøå]+(?:\s+[A-ZÆØÅ]{1,2}\b)?)?")
POSTCODE_CITY_RE = re.compile(r"\b[1-9]\d{3}\s+[A-ZÆØÅ][a-zæøå]+(?:\s+(?:[A-ZÆØÅ]{1,2}|[A-ZÆØÅ][a-zæøå]+))?\b")
_NAME = r"[A-ZÆØÅ][a-zæøåéü]+(?:-[A-ZÆØÅ][a-zæøå]+)?"
_POSTCODE_LINE = re.compile(r"^(?:DK-)?[1-9]\d{3}\s+[A-ZÆØÅ][\wæøåÆØÅ .-]{1,30}$")
FULL_NAME_RE = re.compile(rf"^{_NAME}(?:\s+{_NAME}){{1,3}}$")
_RELATION_CUE = re.compile(
    r"\b(?i:din|dit|dine|hans|hendes|borgerens|klagers|sin|sit|jeres|jeres)\s+"
    r"(?i:søn|datter|barn|mor|far|ægtefælle|hustru|mand|kone|samlever|bror|søster|advokat|"
    r"partsrepræsentant|repræsentant|værge|bisidder|børn)\s*,?\s+(" + _NAME + r"(?:\s+" + _NAME + r")?)")
_LABEL_CUE = re.compile(
    r"\b(?:Vedr\.?|Vedrørende|Klager|Borger|Navn|Modtager|Sagsbehandler|Barnets navn)\s*:?\s*(" +
    _NAME + r"(?:\s+" + _NAME + r"){0,3})")
_NOT_NAMES = {
    "Ankestyrelsen", "Kommune", "Kommunen", "Afgørelse", "Beskæftigelsesudvalget", "Side",
    "Socialforvaltningen", "Jobcenter", "Borgerservice", "Udbetaling", "Danmark", "Teglholmsgade",
    "Statsservice", "Dato", "Sagsbehandler", "Ankestyrelsens", "Resultatet", "Du", "Vi", "Det",
    "Den", "Der", "Kære", "Familieafdelingen", "Social", "Sundhedsforvaltningen", "Børne",
    "Kulturforvaltningen", "Handicap", "Center", "Myndighed", "Cpr", "CPR", "Tlf", "Postadresse", "Kommunes",
}
CPR_MASK = "[CPR]"
NAME_MASK = "[NAVN]"
ADDRESS_MASK = "[ADRESSE]"


@dataclass
class Masker:
    """Masks one decision's personal data; ``names`` are learned from its header."""

    names: set[str] = field(default_factory=set)
    literals: set[str] = field(default_factory=set)
    #: (sizes of literals and names it was built for, (literals longest first, names pattern))
    _cache: tuple | None = field(default=None, init=False, repr=False, compare=False)

    def learn_from_header(self, lines: list[str]) -> None:
        """Learn names and addresses from the address block and labelled lines of a letter's
        first page. An address block ends in a "4-digit postcode + town" line; its first line
        that looks like a person's name is the name, the lines after it the address."""
        lines = [ln.strip() for ln in lines]
        for i, line in enumerate(lines):
            for m in _LABEL_CUE.finditer(line):
                self._add(m.group(1))
            if _POSTCODE_LINE.match(line) and "Statsservice" not in line:
                block = lines[max(0, i - 3): i]
                for k, candidate in enumerate(block):
                    if FULL_NAME_RE.match(candidate) and not (set(candidate.split()) & _NOT_NAMES):
                        self._add(candidate)
                        self.literals.update(x for x in block[k + 1:] if len(x) > 4)
                        self.literals.add(line)
                        break

    def learn_from_text(self, text: str) -> None:
        for m in _RELATION_CUE.finditer(text):
            self._add(m.group(1))
        for m in _LABEL_CUE.finditer(text):
            self._add(m.group(1))

    def _add(self, name: str) -> None:
        parts = [p for p in name.split() if p not in _NOT_NAMES and len(p) > 1]
        if not parts or any(p in _NOT_NAMES for p in name.split()[:1]):
            return
        self.names.add(" ".join(parts))
        for part in parts:
            if len(part) >= 3:
                self.names.add(part)

    def _compiled(self) -> tuple[list[str], re.Pattern | None]:
        """Literals longest first and one pattern for all names, rebuilt only when the learned
        sets grew (they only ever grow): a decision masks hundreds of sentences."""
        key = (len(self.literals), len(self.names))
        if self._cache is None or self._cache[0] != key:
            alternatives = sorted(self.names, key=len, reverse=True)
            names = re.compile(r"\b(?:" + "|".join(re.escape(n) for n in alternatives) + r")s?\b") \
                if alternatives else None
            self._cache = (key, (sorted(self.literals, key=len, reverse=True), names))
        return self._cache[1]

    def mask(self, text: str) -> str:
        literals, names = self._compiled()
        text = CPR_RE.sub(CPR_MASK, text)
        for literal in literals:
            if literal in text:
                text = text.replace(literal, ADDRESS_MASK)
        text = STREET_RE.sub(ADDRESS_MASK, text)
        if names is not None:
            text = names.sub(NAME_MASK, text)
            if NAME_MASK in text:
                text = _REPEATED_NAME_MASK.sub(NAME_MASK, text)
        return text


_REPEATED_NAME_MASK = re.compile(r"\[NAVN\](?:\s+\[NAVN\])+")


def mask_text(text: str, header_lines: list[str] | None = None) -> str:
    """Mask a free text (e.g. a log line) with what can be learned from it."""
    masker = Masker()
    masker.learn_from_header(header_lines or text.splitlines()[:15])
    masker.learn_from_text(text)
    return masker.mask(text)
