"""Trends over the store: group fields, measures (omgørelsesprocent by Ankestyrelsen's
definition), filters, current rows only, departments data file, output forms and charts.
Stores are built by writing Classification objects through classifier.store directly."""

from __future__ import annotations

import csv
import io
import json
import tomllib

import pytest
from rich.console import Console

from classifier.schema import ERROR_TYPES, Classification
from classifier.store import open_store
from classifier.trends import (DEPARTMENTS_FILE, GROUP_FIELDS, LAW_AREAS_FILE, chart,
                               department_names, load_departments, total, trends,
                               trends_cli_table, trends_csv, trends_json)

MV = "test-model-1"
SOSU = "Social- og Sundhedsforvaltningen"
BK = "Børne- og Kulturforvaltningen"


def decision(n: int, **kw) -> Classification:
    base = dict(source=f"/indbakke/{n:04d}.pdf", sha256=f"{n:064x}", outcome="stadfæstet",
                kritik=False, errors=[], law_area="sygedagpenge",
                municipality="Gladsaxe Kommune", decision_date="2023-03-15",
                case_number=f"23-{n:06d}", format="modern_letter")
    base.update(kw)
    return Classification(**base)


def build(path, decisions: list[Classification]):
    store = open_store(path)
    for d in decisions:
        store.write_file(d.sha256, d.source, [d], run_id=None, model_version=MV)
    store.close()
    return path


@pytest.fixture
def store(tmp_path):
    """2023: 19 hjemvist + 5 ændret + 105 stadfæstet (3 with kritik) + 10 afvist, spread
    over months, two law areas and two municipalities; plus 2022 and a failed file."""
    ds: list[Classification] = []
    n = 0

    def add(count, **kw):
        nonlocal n
        for _ in range(count):
            n += 1
            month = (n % 12) + 1
            kw.setdefault("decision_date", None)
            d = dict(kw)
            d["decision_date"] = kw["decision_date"] or f"2023-{month:02d}-10"
            ds.append(decision(n, **d))

    add(12, outcome="hjemvist", errors=["officialprincip", "begrundelse"])
    add(7, outcome="hjemvist", errors=["officialprincip"], law_area="tabt_arbejdsfortjeneste")
    add(5, outcome="ændret", errors=[], law_area="tabt_arbejdsfortjeneste")
    add(102, outcome="stadfæstet")
    add(3, outcome="stadfæstet", kritik=True, errors=["retsgrundlag"])
    add(10, outcome="afvist")
    add(4, outcome="hjemvist", decision_date="2022-06-01", errors=["partshøring"])
    add(6, outcome="stadfæstet", decision_date="2022-11-30", municipality="Aarhus Kommune")
    path = build(tmp_path / "anke.db", ds)
    s = open_store(path)
    s.write_file("f" * 64, "/indbakke/broken.pdf",
                 [Classification(source="/indbakke/broken.pdf", sha256="f" * 64,
                                 status="failed", error="unreadable: x")],
                 run_id=None, model_version=MV)
    s.close()
    return path


def row(rows, **where):
    found = [r for r in rows if all(r[k] == v for k, v in where.items())]
    assert len(found) == 1, (where, found)
    return found[0]


def test_omgoerelsesprocent_by_ankestyrelsens_definition(store):
    (r,) = trends(store, [], since="2023", until="2023")
    assert r["count"] == 139
    assert (r["hjemvist"], r["ændret"], r["stadfæstet"], r["afvist"]) == (19, 5, 105, 10)
    assert r["omgjorte"] == 24
    assert r["realitetsbehandlede"] == 129  # afviste count in neither part
    assert r["omgørelsesprocent"] == pytest.approx(100 * 24 / 129)
    assert round(r["omgørelsesprocent"]) == 19  # DOMAIN.md's example: 19 %
    assert r["kritik"] == 3 and r["stadfæstet_med_kritik"] == 3
    assert r["fejl_officialprincip"] == 19 and r["fejl_begrundelse"] == 12
    assert r["andel_officialprincip"] == pytest.approx(100 * 19 / 139)
    assert r["fejl_retsgrundlag"] == 3 and r["fejl_partshøring"] == 0


def test_group_by_year_and_outcome(store):
    rows = trends(store, ["year", "outcome"])
    assert [(r["year"], r["outcome"]) for r in rows] == [
        (2022, "stadfæstet"), (2022, "hjemvist"), (2023, "stadfæstet"), (2023, "ændret"),
        (2023, "hjemvist"), (2023, "afvist")]
    assert row(rows, year=2023, outcome="hjemvist")["count"] == 19
    assert row(rows, year=2023, outcome="hjemvist")["omgørelsesprocent"] == 100.0
    assert row(rows, year=2023, outcome="afvist")["omgørelsesprocent"] is None
    # group fields by name ("kritik" is also the name of the kritik measure)
    assert all(set(GROUP_FIELDS) & set(r) - {"kritik"} == {"year", "outcome"} for r in rows)


def test_time_fields_come_from_decision_date(store):
    halves = trends(store, "half", since="2023")
    assert [r["half"] for r in halves] == ["2023-H1", "2023-H2"]
    quarters = trends(store, ["quarter"], since="2023")
    assert [r["quarter"] for r in quarters] == [f"2023-Q{q}" for q in (1, 2, 3, 4)]
    months = trends(store, ["month"], since="2023")
    assert [r["month"] for r in months] == [f"2023-{m:02d}" for m in range(1, 13)]
    assert sum(r["count"] for r in months) == 139
    assert sum(r["count"] for r in quarters) == sum(r["count"] for r in halves) == 139


def test_group_by_error_counts_a_decision_once_per_error_type(store):
    rows = trends(store, ["error"], since="2023")
    assert [r["error"] for r in rows] == ["officialprincip", "begrundelse", "retsgrundlag",
                                          None]
    assert row(rows, error="officialprincip")["count"] == 19
    assert row(rows, error="begrundelse")["count"] == 12
    assert row(rows, error=None)["count"] == 139 - 19 - 3  # decisions without any error


def test_group_by_law_area_department_municipality_kritik(store):
    rows = trends(store, ["department", "law_area"], since="2023")
    assert [(r["department"], r["law_area"]) for r in rows] == [
        (SOSU, "sygedagpenge"), (BK, "tabt_arbejdsfortjeneste")]
    bk = row(rows, law_area="tabt_arbejdsfortjeneste")
    assert (bk["count"], bk["omgjorte"], bk["omgørelsesprocent"]) == (12, 12, 100.0)
    by_kommune = trends(store, ["municipality"])
    assert [r["municipality"] for r in by_kommune] == ["Aarhus Kommune", "Gladsaxe Kommune"]
    kritik = trends(store, ["outcome", "kritik"], since="2023")
    upheld = row(kritik, outcome="stadfæstet", kritik=True)
    assert upheld["count"] == 3 and upheld["fejl_retsgrundlag"] == 3
    assert "kritik_count" not in upheld


def test_filters(store):
    def count(**kw):
        return trends(store, [], **kw)[0]["count"]

    assert count() == 149  # failed file left out
    assert count(since="2023-01-01") == 139
    assert count(until="2022") == 10
    assert count(since="2022-06", until="2022-06") == 4
    assert count(since="2023-12-10", until="2023-12-10") == count(since="2023-12")
    assert count(municipality="gladsaxe") == count(municipality="Gladsaxe Kommune") == 143
    assert count(municipality="Aarhus") == 6
    assert count(municipality="Ukendt Kommune") == 0
    assert count(department="Børne- og Kulturforvaltningen") == 12
    assert count(department="børne") == 12  # unique prefix, case-insensitive
    assert count(law_area="tabt_arbejdsfortjeneste") == 12
    assert count(law_area="Tabt arbejdsfortjeneste") == 12  # display name
    assert count(law_area="sygedagpenge", since="2023") == 127
    with pytest.raises(ValueError):
        trends(store, ["år"])
    with pytest.raises(ValueError):
        trends(store, [], since="marts 2023")


def test_only_current_rows(tmp_path):
    path = build(tmp_path / "s.db", [decision(1, outcome="stadfæstet")])
    s = open_store(path)  # reclassified: the old row becomes history
    s.write_file(f"{1:064x}", "/indbakke/0001.pdf", [decision(1, outcome="hjemvist")],
                 run_id=None, model_version="test-model-2")
    s.close()
    rows = trends(path, ["outcome"])
    assert [(r["outcome"], r["count"]) for r in rows] == [("hjemvist", 1)]


def test_missing_values_and_empty_store(tmp_path):
    path = build(tmp_path / "s.db", [decision(1, decision_date=None, law_area=None,
                                              outcome=None)])
    (r,) = trends(path, ["year", "department"])
    assert r["year"] is None and r["department"] is None
    assert r["uden_udfald"] == 1 and r["omgørelsesprocent"] is None
    empty = build(tmp_path / "e.db", [])
    assert trends(empty, ["year"]) == []
    (t,) = trends(empty, [])
    assert t["count"] == 0 and t["omgørelsesprocent"] is None
    with pytest.raises(FileNotFoundError):
        trends(tmp_path / "nope.db", [])


def test_departments_file_maps_every_law_area_once():
    areas = [a["id"] for a in tomllib.loads(LAW_AREAS_FILE.read_text("utf-8"))["area"]]
    mapping = load_departments()
    assert set(mapping) == set(areas)
    assert department_names() == [SOSU, BK, "By- og Miljøforvaltningen"]
    data = tomllib.loads(DEPARTMENTS_FILE.read_text("utf-8"))
    listed = [a for d in data["department"] for a in d["law_areas"]]
    assert len(listed) == len(set(listed))


def test_departments_can_be_replaced_without_code(tmp_path, store):
    alt = tmp_path / "departments.toml"
    alt.write_text('[[department]]\nname = "Beskæftigelse"\nlaw_areas = ["sygedagpenge"]\n',
                   encoding="utf-8")
    rows = trends(store, ["department"], since="2023", departments=alt)
    assert [(r["department"], r["count"]) for r in rows] == [("Beskæftigelse", 127),
                                                             (None, 12)]
    rows = trends(store, ["department"], since="2023",
                  departments={"tabt_arbejdsfortjeneste": "Familie"})
    assert row(rows, department="Familie")["count"] == 12
    dup = tmp_path / "dup.toml"
    dup.write_text('[[department]]\nname = "A"\nlaw_areas = ["botilbud"]\n'
                   '[[department]]\nname = "B"\nlaw_areas = ["botilbud"]\n', encoding="utf-8")
    with pytest.raises(ValueError):
        load_departments(dup)


def test_total_adds_disjoint_rows(store):
    rows = trends(store, ["outcome"], since="2023")
    t = total(r for r in rows if r["outcome"] in ("ændret", "hjemvist"))
    assert t["count"] == t["omgjorte"] == 24 and t["omgørelsesprocent"] == 100.0
    assert total(rows)["omgørelsesprocent"] == pytest.approx(100 * 24 / 129)
    kritik_rows = trends(store, ["kritik"], since="2023")
    assert total(kritik_rows)["kritik"] == 3


def test_json_csv_and_table(store):
    rows = trends(store, ["year", "outcome"])
    data = json.loads(trends_json(rows))
    assert isinstance(data, list) and len(data) == len(rows)
    first = data[0]
    assert list(first)[:2] == ["year", "outcome"]
    for key in ("count", "omgjorte", "omgørelsesprocent", "kritik",
                *(f"andel_{e}" for e in ERROR_TYPES)):
        assert key in first
    hjemvist_2023 = next(d for d in data if d["year"] == 2023 and d["outcome"] == "hjemvist")
    assert hjemvist_2023["count"] == 19

    parsed = list(csv.DictReader(io.StringIO(trends_csv(rows))))
    assert parsed[0]["year"] == "2022" and parsed[0]["outcome"] == "stadfæstet"
    (tot,) = trends(store, [], since="2023")
    assert trends_csv([tot]).splitlines()[1].split(",")[list(tot).index("omgørelsesprocent")] \
        == "18.6"

    table = trends_cli_table(trends(store, ["year"]))
    headers = [c.header for c in table.columns]
    assert headers[:3] == ["År", "Afgørelser", "Stadf."]
    assert "Omgørelses-%" in headers
    console = Console(record=True, width=220)
    console.print(table)
    text = console.export_text()
    assert "18,6" in text  # Danish decimal comma
    assert "1.234" not in text
    big = trends_cli_table([{**tot, "count": 1234}])
    console = Console(record=True, width=220)
    console.print(big)
    assert "1.234" in console.export_text()


def test_charts_are_png(store, tmp_path):
    for by, name in ((["quarter"], "udfald.png"), (["law_area"], "fejl.png"),
                     (["law_area", "error"], "fejl2.png"), ([], "aar.png")):
        out = chart(store, tmp_path / name, by)
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert out.stat().st_size > 5000
    with pytest.raises(ValueError):
        chart(store, tmp_path / "x.png", ["year"], kind="pie")
    # an empty selection still draws
    assert chart(store, tmp_path / "tom.png", ["law_area"], since="2030").exists()
