"""The labelled corpus follows its schema and keeps its coverage (it cannot silently shrink)."""

import pytest

from classifier.corpus.load import load_corpus, load_splits, validate
from classifier.corpus.stats import THRESHOLDS, corpus_stats
from classifier.schema import ERROR_TYPES, FORMATS


@pytest.fixture(scope="module")
def stats():
    return corpus_stats()


def test_every_decision_follows_the_schema():
    problems = {d.id: validate(d) for d in load_corpus()}
    assert {k: v for k, v in problems.items() if v} == {}


def test_size_and_provenance(stats):
    assert stats["decisions"] >= THRESHOLDS["decisions"]
    assert stats["individually_written"] >= THRESHOLDS["individually_written"]


def test_outcome_and_kritik_shares_are_realistic(stats):
    n = stats["decisions"]
    for outcome, (lo, hi) in THRESHOLDS["outcome_share"].items():
        assert lo <= stats["outcomes"][outcome] / n <= hi, (outcome, stats["outcomes"])
    lo, hi = THRESHOLDS["kritik_share"]
    assert lo <= stats["kritik"] / n <= hi


def test_every_error_type_law_area_and_format_is_covered(stats):
    for e in ERROR_TYPES:
        assert stats["errors"][e] >= THRESHOLDS["per_error"], e
    assert not stats["missing_law_areas"]
    assert min(stats["law_areas"].values()) >= THRESHOLDS["per_law_area"], stats["law_areas"]
    assert all(stats["formats"][f] > 0 for f in FORMATS)
    assert stats["traps"]["decisions_with_traps"] >= THRESHOLDS["trap_decisions"]
    assert all(stats["traps"][t] > 0 for t in ("negated_finding", "citizen_claim", "rules_duty", "merits_only"))
    assert set(stats["years"]) >= {str(y) for y in range(2019, 2026)}


def test_splits_fixed_disjoint_complete_and_stratified():
    splits = load_splits()
    ids = [i for v in splits.values() for i in v]
    assert len(ids) == len(set(ids))
    corpus = {d.id: d for d in load_corpus()}
    assert set(ids) == set(corpus)
    assert len(splits["test"]) / len(ids) >= THRESHOLDS["test_share"]
    for name in ("train", "test"):
        share = sum(corpus[i].outcome == "stadfæstet" for i in splits[name]) / len(splits[name])
        overall = sum(d.outcome == "stadfæstet" for d in corpus.values()) / len(corpus)
        assert abs(share - overall) < 0.05


def test_extending_the_split_never_moves_an_assigned_decision():
    from classifier.corpus.splits import extend_splits

    splits = load_splits()
    assert extend_splits(splits) == splits  # the checked-in split covers the whole corpus
    newer = {i for i in splits["train"] + splits["test"] if i.startswith("w")}
    older = {k: [i for i in v if i not in newer] for k, v in splits.items()}
    extended = extend_splits(older)
    for name, ids in older.items():
        assert set(ids) <= set(extended[name])
    assert sorted(i for v in extended.values() for i in v) == sorted(i for v in splits.values() for i in v)
    share = len([i for i in extended["test"] if i in newer]) / len(newer)
    assert 0.15 <= share <= 0.25
