"""Coverage counts of the corpus (``anke corpus stats``) and the thresholds a test enforces."""

from __future__ import annotations

from collections import Counter

from classifier.corpus.load import law_area_ids, load_corpus, load_splits
from classifier.schema import ERROR_TYPES, FORMATS, OUTCOMES, TRAPS

#: Minimum coverage the corpus must keep (issue: corpus foundation).
THRESHOLDS = {
    "decisions": 400,
    "individually_written": 150,
    "per_error": 30,
    "per_law_area": 10,
    "trap_decisions": 60,
    "test_share": 0.20,
    "outcome_share": {"stadfæstet": (0.55, 0.65), "hjemvist": (0.15, 0.20),
                      "ændret": (0.10, 0.15), "afvist": (0.03, 0.08)},
    "kritik_share": (0.12, 0.20),
}


def corpus_stats() -> dict:
    decisions = load_corpus()
    splits = load_splits()
    outcomes = Counter(d.outcome for d in decisions)
    return {
        "decisions": len(decisions),
        "individually_written": sum(d.source == "written" for d in decisions),
        "generated": sum(d.source == "generated" for d in decisions),
        "outcomes": {o: outcomes.get(o, 0) for o in OUTCOMES},
        "partial": sum(d.partial for d in decisions),
        "kritik": sum(d.kritik for d in decisions),
        "errors": {e: sum(e in d.errors for d in decisions) for e in ERROR_TYPES},
        "no_errors": sum(not d.errors for d in decisions),
        "law_areas": dict(sorted(Counter(d.law_area for d in decisions).items())),
        "formats": {f: sum(d.format == f for d in decisions) for f in FORMATS},
        "splits": {k: len(v) for k, v in splits.items()},
        "traps": {**{t: sum(t in d.traps for d in decisions) for t in TRAPS},
                  "decisions_with_traps": sum(bool(d.traps) for d in decisions)},
        "years": dict(sorted(Counter(d.decision_date[:4] for d in decisions).items())),
        "municipalities": len({d.municipality for d in decisions if d.municipality}),
        "words": {"min": min(d.words for d in decisions), "max": max(d.words for d in decisions),
                  "mean": round(sum(d.words for d in decisions) / len(decisions))},
        "missing_law_areas": [a for a in law_area_ids()
                              if a not in {d.law_area for d in decisions}],
    }
