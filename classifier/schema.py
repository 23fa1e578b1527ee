"""Typed records that flow through the pipeline, and the one spelling of every label.

PDF --ingest--> Document(pages) --split--> RawDecision --segment--> ParsedDecision
    --label--> Classification --store--> SQLite

Every stage takes and returns these dataclasses; no stage reaches back into an earlier one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

OUTCOMES: tuple[str, ...] = ("stadfæstet", "ændret", "hjemvist", "afvist")
#: Ankestyrelsen's statistics record the most far-reaching part of a multi-part decision.
OUTCOME_PRECEDENCE: tuple[str, ...] = ("ændret", "hjemvist", "stadfæstet", "afvist")
ERROR_TYPES: tuple[str, ...] = (
    "officialprincip",
    "begrundelse",
    "retsgrundlag",
    "partshøring",
    "sagsbehandlingstid",
    "notatpligt",
    "vejledning",
    "konkret_vurdering",
)
FORMATS: tuple[str, ...] = (
    "modern_letter",
    "beskaeftigelsesudvalget",
    "principle",
    "letter_to_municipality",
)
TRAPS: tuple[str, ...] = ("negated_finding", "citizen_claim", "rules_duty", "merits_only")

#: Canonical section names produced by segmentation.
SECTIONS: tuple[str, ...] = (
    "header",
    "afgørelse",
    "hvad_skal_kommunen_gøre",
    "begrundelse",
    "kritik",
    "regler",
    "sagens_oplysninger",
    "klagevejledning",
    "resume",
    "love",
    "sagsfremstilling",
    "andet",
)


def resolve_outcome(parts: list[str]) -> str | None:
    """Most far-reaching outcome of several parts: ændret > hjemvist > stadfæstet > afvist."""
    for outcome in OUTCOME_PRECEDENCE:
        if outcome in parts:
            return outcome
    return None


@dataclass(frozen=True)
class Citation:
    """A normalised reference to a rule: ``law`` is the unified law name."""

    law: str
    paragraph: str
    stk: str | None = None

    def __str__(self) -> str:
        text = f"{self.law} § {self.paragraph}"
        return f"{text}, stk. {self.stk}" if self.stk else text


@dataclass
class Line:
    """One visual line of main-column text on a page."""

    text: str
    page: int
    bold: bool = False
    size: float = 0.0
    heading: bool = False
    bullet: bool = False
    top: float = 0.0
    #: First line of a new paragraph (vertical gap before it).
    para_start: bool = False


@dataclass
class Page:
    number: int  # 1-based page number within the file
    lines: list[Line] = field(default_factory=list)
    margin_text: str = ""
    ocr: bool = False
    width: float = 0.0
    height: float = 0.0
    #: Footer's own numbering ("Side 2 af 4") when found: (x, y).
    footer_page: tuple[int, int] | None = None


@dataclass
class Document:
    """A parsed file: its pages in order."""

    source: str
    sha256: str
    pages: list[Page]
    engine: str = ""


@dataclass
class Sentence:
    text: str  # masked text
    page: int
    section: str
    index: int = 0
    quoted: bool = False  # inside a quotation of the citizen or a representative


@dataclass
class Section:
    name: str  # one of SECTIONS
    heading: str
    page: int
    text: str = ""


@dataclass
class Metadata:
    case_number: str | None = None
    decision_date: str | None = None  # YYYY-MM-DD
    first_instance: str | None = None
    first_instance_date: str | None = None
    municipality: str | None = None
    citations: list[Citation] = field(default_factory=list)
    law_area: str | None = None
    instructions: list[str] = field(default_factory=list)
    format: str | None = None


@dataclass
class ParsedDecision:
    """One decision letter, segmented, with masked sentences and metadata."""

    source: str
    sha256: str
    index: int
    pages: tuple[int, int]
    sections: list[Section]
    sentences: list[Sentence]
    metadata: Metadata
    text: str = ""  # masked full text (main column)
    #: spaCy spans of ``sentences`` (same order), kept so later stages need not tokenize again
    spans: list | None = field(default=None, repr=False, compare=False)


@dataclass
class Evidence:
    label: str
    text: str
    page: int | None
    section: str | None
    probability: float | None = None


@dataclass
class Classification:
    """The stable per-decision output (see README, "Output format")."""

    source: str
    sha256: str
    decision_index: int = 0
    pages: tuple[int, int] | list[int] | None = None
    status: str = "ok"  # ok | failed
    error: str | None = None
    outcome: str | None = None
    partial: bool = False
    kritik: bool = False
    errors: list[str] = field(default_factory=list)
    law_area: str | None = None
    citations: list[str] = field(default_factory=list)
    municipality: str | None = None
    first_instance: str | None = None
    decision_date: str | None = None
    case_number: str | None = None
    format: str | None = None
    confidence: float | None = None
    needs_review: bool = False
    review_reasons: list[str] = field(default_factory=list)
    probabilities: dict[str, float] = field(default_factory=dict)
    evidence: list[Evidence] = field(default_factory=list)
    instructions: list[str] = field(default_factory=list)
    #: The masked body text, kept for the store (not part of the JSON output; --no-text drops it).
    text: str | None = field(default=None, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("text", None)
        data["pages"] = list(self.pages) if self.pages else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Classification:
        data = dict(data)
        data["evidence"] = [Evidence(**e) for e in data.get("evidence") or []]
        if data.get("pages"):
            data["pages"] = tuple(data["pages"])
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


class AnkeError(Exception):
    """A clear, per-file error: ``kind`` is a short machine-readable tag."""

    def __init__(self, kind: str, reason: str):
        super().__init__(f"{kind}: {reason}")
        self.kind = kind
        self.reason = reason
