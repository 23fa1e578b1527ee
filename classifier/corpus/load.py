"""Load and validate the labelled corpus (one TOML file per decision, see corpus/README.md)."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from classifier.schema import ERROR_TYPES, FORMATS, OUTCOMES, TRAPS

REPO = Path(__file__).resolve().parents[2]
CORPUS_DIR = REPO / "corpus"
DECISIONS_DIR = CORPUS_DIR / "decisions"
SPLITS_FILE = CORPUS_DIR / "splits.json"
DATA_DIR = Path(__file__).resolve().parents[1] / "data"

SOURCES = ("written", "generated")
_DATE = re.compile(r"^(19|20)\d\d-\d\d-\d\d$")
_CASE = re.compile(r"^\d{2}-\d{4,6}$")
_CPR = re.compile(r"^\d{6}-\d{4}$")


@lru_cache(maxsize=1)
def law_area_ids() -> tuple[str, ...]:
    data = tomllib.loads((DATA_DIR / "law_areas.toml").read_text(encoding="utf-8"))
    return tuple(area["id"] for area in data["area"])


@lru_cache(maxsize=1)
def municipalities() -> tuple[str, ...]:
    lines = (DATA_DIR / "kommuner.txt").read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip())


@dataclass
class CorpusDecision:
    """One labelled decision of the corpus."""

    id: str
    source: str  # written | generated
    format: str
    outcome: str
    partial: bool
    kritik: bool
    errors: list[str]
    law_area: str
    citations: list[str]
    municipality: str | None
    first_instance: str
    first_instance_date: str
    decision_date: str
    case_number: str
    instructions: list[str]
    traps: list[str]
    evidence: dict[str, str]
    text: str
    citizen_name: str = ""
    citizen_address: str = ""
    cpr: str = ""
    case_officer: str = ""
    department: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def words(self) -> int:
        return len(re.findall(r"\w+", self.text))

    @classmethod
    def from_dict(cls, data: dict, source: str) -> CorpusDecision:
        known = set(cls.__dataclass_fields__) - {"source", "extra"}
        values = {k: v for k, v in data.items() if k in known}
        extra = {k: v for k, v in data.items() if k not in known}
        values.setdefault("partial", False)
        values.setdefault("kritik", False)
        values.setdefault("errors", [])
        values.setdefault("citations", [])
        values.setdefault("instructions", [])
        values.setdefault("traps", [])
        values.setdefault("evidence", {})
        values.setdefault("municipality", None)
        return cls(source=source, extra=extra, **values)


def validate(decision: CorpusDecision) -> list[str]:
    """Return a list of problems (empty when the decision follows the schema)."""
    problems: list[str] = []
    d = decision
    if d.format not in FORMATS:
        problems.append(f"format {d.format!r} not in {FORMATS}")
    if d.outcome not in OUTCOMES:
        problems.append(f"outcome {d.outcome!r} not in {OUTCOMES}")
    for e in d.errors:
        if e not in ERROR_TYPES:
            problems.append(f"error {e!r} not in {ERROR_TYPES}")
    if len(set(d.errors)) != len(d.errors):
        problems.append("errors repeated")
    for t in d.traps:
        if t not in TRAPS:
            problems.append(f"trap {t!r} not in {TRAPS}")
    if d.law_area not in law_area_ids():
        problems.append(f"law_area {d.law_area!r} not in law_areas.toml")
    if d.municipality is not None and d.municipality not in municipalities():
        problems.append(f"municipality {d.municipality!r} is not an official kommune name")
    if d.format == "principle" and d.municipality and d.municipality not in _named_kommuner(d.text):
        problems.append("principle decision names no kommune in its text: leave municipality out")
    for name in ("decision_date", "first_instance_date"):
        if not _DATE.match(str(getattr(d, name))):
            problems.append(f"{name} {getattr(d, name)!r} is not YYYY-MM-DD")
    if str(d.first_instance_date) > str(d.decision_date):
        problems.append("first_instance_date after decision_date")
    if not _CASE.match(d.case_number):
        problems.append(f"case_number {d.case_number!r} is not like 24-012345")
    if d.cpr and not _CPR.match(d.cpr):
        problems.append(f"cpr {d.cpr!r} is not DDMMYY-XXXX")
    if not (300 <= d.words <= 1300):
        problems.append(f"{d.words} words (want 300-1200)")
    if "outcome" not in d.evidence:
        problems.append("evidence.outcome missing")
    if d.kritik and "kritik" not in d.evidence:
        problems.append("evidence.kritik missing")
    for e in d.errors:
        if e not in d.evidence:
            problems.append(f"evidence.{e} missing")
    flat = _flat(d.text)
    for label, sentence in d.evidence.items():
        if label not in ("outcome", "kritik", *ERROR_TYPES):
            problems.append(f"evidence label {label!r} unknown")
        elif _flat(sentence) not in flat:
            problems.append(f"evidence.{label} not found verbatim in text: {sentence[:60]!r}")
    if d.outcome == "hjemvist" and d.format != "principle" and not d.instructions:
        problems.append("hjemvist without instructions")
    if d.law_area in ("merudgifter_børn", "tabt_arbejdsfortjeneste"):
        year = int(str(d.decision_date)[:4])
        text = d.text.lower()
        if year >= 2024 and "barnets lov" not in text:
            problems.append("child-area decision from 2024 on should cite barnets lov")
        if year <= 2023 and "barnets lov" in text:
            problems.append("barnets lov cited before 2024")
    return problems


def _named_kommuner(text: str) -> list[str]:
    from classifier.metadata import find_kommuner

    return find_kommuner(text)


def _flat(text: str) -> str:
    text = re.sub(r"^\s*(#+|-|\*)\s+", "", text, flags=re.M)
    return re.sub(r"\s+", " ", text).strip()


def load_file(path: Path) -> CorpusDecision:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    source = path.parent.name
    return CorpusDecision.from_dict(data, source=source)


@lru_cache(maxsize=1)
def _load_all_cached() -> tuple[CorpusDecision, ...]:
    out = []
    for source in SOURCES:
        for path in sorted((DECISIONS_DIR / source).glob("*.toml")):
            out.append(load_file(path))
    return tuple(out)


def load_corpus(split: str | None = None) -> list[CorpusDecision]:
    """All corpus decisions (``split``: train/dev/test/None for all, or ``challenge``,
    ``challenge2`` ... for the sets written by other hands), sorted by id."""
    if split is not None and split.startswith("challenge"):
        # letters by other hands (corpus/challenge*/): never trained on
        return [load_file(p) for p in sorted((CORPUS_DIR / split).glob("*.toml"))]
    decisions = list(_load_all_cached())
    if split is not None:
        ids = set(load_splits()[split])
        decisions = [d for d in decisions if d.id in ids]
    return decisions


def load_splits() -> dict[str, list[str]]:
    return json.loads(SPLITS_FILE.read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    """python -m classifier.corpus.load FILE... : validate corpus files, print problems."""
    import sys

    paths = [Path(p) for p in (argv if argv is not None else sys.argv[1:])]
    bad = 0
    for path in paths:
        try:
            problems = validate(load_file(path))
        except Exception as exc:  # report parse errors per file
            problems = [f"cannot load: {exc}"]
        for p in problems:
            print(f"{path}: {p}")
        bad += bool(problems)
    print(f"{len(paths) - bad}/{len(paths)} files valid")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
