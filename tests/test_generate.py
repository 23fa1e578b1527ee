"""Tests for the seeded corpus generator (classifier/corpus/generate.py)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from classifier.corpus.generate import GENERATOR_DIR, VARIANT_FILES, extract_citations, generate
from classifier.corpus.load import load_file, validate


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> list[Path]:
    return generate(n=300, seed=7, out_dir=tmp_path_factory.mktemp("gen_a"))


def test_deterministic(generated, tmp_path):
    again = generate(n=300, seed=7, out_dir=tmp_path)
    assert [p.name for p in again] == [p.name for p in generated]
    for a, b in zip(generated, again):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_other_seed_differs(generated, tmp_path):
    other = generate(n=20, seed=8, out_dir=tmp_path)
    assert other[0].read_bytes() != generated[0].read_bytes()


def test_cleans_old_files(tmp_path):
    (tmp_path / "g9999.toml").write_text("stale", encoding="utf-8")
    generate(n=5, seed=7, out_dir=tmp_path)
    assert sorted(p.name for p in tmp_path.glob("g*.toml")) == [f"g000{i}.toml" for i in range(1, 6)]


def test_every_decision_validates(generated):
    problems = {p.name: validate(load_file(p)) for p in generated}
    assert {k: v for k, v in problems.items() if v} == {}


def test_label_targets(generated):
    ds = [load_file(p) for p in generated]
    outcomes = {o: sum(d.outcome == o for d in ds) for o in ("stadfæstet", "hjemvist", "ændret", "afvist")}
    assert outcomes == {"stadfæstet": 198, "hjemvist": 52, "ændret": 38, "afvist": 12}
    for e in ("officialprincip", "begrundelse", "retsgrundlag", "partshøring", "sagsbehandlingstid",
              "notatpligt", "vejledning", "konkret_vurdering"):
        assert sum(e in d.errors for d in ds) >= 32, e
    areas = {d.law_area for d in ds}
    for a in areas:
        assert sum(d.law_area == a for d in ds) >= 12, a
    assert len(areas) == 15
    assert sum(bool(d.traps) for d in ds) >= 80
    assert 25 <= sum(d.kritik for d in ds) <= 45
    for d in ds:
        if d.format == "beskaeftigelsesudvalget":
            assert d.law_area in ("sygedagpenge", "kontanthjælp", "fleksjob")
        if d.outcome == "ændret" and "merits_only" in d.traps:
            assert not d.errors


def test_text_expresses_labels(generated):
    for p in generated:
        d = load_file(p)
        assert "<<" not in d.text and ">>" not in d.text and "{" not in d.text, p.name
        assert d.extra == {}
        year = d.decision_date[:4]
        # the first instance's decision date is stated in the text
        y, m, day = d.first_instance_date.split("-")
        assert f"{int(day)}. " in d.text and y in d.text
        if d.format in ("letter_to_municipality", "principle"):
            assert " du " not in d.text and " dig " not in d.text, p.name
        if d.format == "principle":
            assert d.text.startswith("# Ankestyrelsens principafgørelse")
            for sec in ("# Resume", "# Love", "# Sagsfremstilling", "# Afgørelse", "# Begrundelse"):
                assert sec in d.text
        if d.law_area in ("merudgifter_børn", "tabt_arbejdsfortjeneste") and year <= "2023":
            assert "barnets lov" not in d.text.lower()
        for instr in d.instructions:
            assert instr in d.text


def test_citations_extracted():
    text = ("Det følger af servicelovens § 83, stk. 1, nr. 2, og af forvaltningslovens §§ 22-24. "
            "Se også § 19 i forvaltningsloven og barnets lov § 86, stk. 1.")
    assert extract_citations(text) == [
        "serviceloven § 83, stk. 1, nr. 2", "forvaltningsloven § 22", "forvaltningsloven § 23",
        "forvaltningsloven § 24", "forvaltningsloven § 19", "barnets lov § 86, stk. 1"]


def _lists(node, path=""):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _lists(v, f"{path}.{k}" if path else k)
    elif isinstance(node, list) and node and all(isinstance(x, str) for x in node):
        yield path, node


# Lists whose repeated entries are weights (section orders, optional intros, pronoun choices).
WEIGHTED = {"sections", "love_intro", "third", "third_child"}


@pytest.mark.parametrize("name", VARIANT_FILES)
def test_variant_files_have_five_variants(name):
    data = tomllib.loads((GENERATOR_DIR / name).read_text(encoding="utf-8"))
    short = [(path, len(v)) for path, v in _lists(data)
             if len(v) < 5 or (path not in WEIGHTED and len(set(v)) < 5)]
    assert short == []
