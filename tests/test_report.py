"""Danish report chapters: quantifiers at their boundaries, number formatting and plurals,
every number in the prose recomputed from the trends query, the three output formats, and no
personal data. Stores are built by writing Classification objects through classifier.store."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest

from classifier.report import (TITLE, antal, build_chapter, fmt_int, fmt_pct, fmt_pp, kvantor,
                               kvantor_af, write_report)
from classifier.schema import ERROR_TYPES, Classification, Evidence
from classifier.store import open_store
from classifier.trends import total, trends

MV = "test-model-1"
SOSU = "Social- og Sundhedsforvaltningen"
BK = "Børne- og Kulturforvaltningen"
PERSONAL = ["Karen Marie Sørensen", "Vibevej 17", "140386-2316", "Oscar"]


# --------------------------------------------------------------------------- Danish words

@pytest.mark.parametrize("share, word", [
    (0, "ingen"),
    (Fraction(1, 1000), "enkelte"),
    (Fraction(99, 1000), "enkelte"),
    (Fraction(1, 10), "en mindre del"),
    (0.1, "en mindre del"),
    (Fraction(199, 1000), "en mindre del"),
    (Fraction(2, 10), "omkring en fjerdedel"),
    (Fraction(299, 1000), "omkring en fjerdedel"),
    (Fraction(3, 10), "omkring en tredjedel"),
    (Fraction(399, 1000), "omkring en tredjedel"),
    (Fraction(4, 10), "lidt under halvdelen"),
    (Fraction(26, 55), "lidt under halvdelen"),
    (Fraction(499, 1000), "lidt under halvdelen"),
    (Fraction(1, 2), "halvdelen"),
    (0.5, "halvdelen"),
    (Fraction(501, 1000), "lidt over halvdelen"),
    (Fraction(10, 19), "lidt over halvdelen"),
    (Fraction(599, 1000), "lidt over halvdelen"),
    (Fraction(6, 10), "hovedparten"),
    (Fraction(749, 1000), "hovedparten"),
    (Fraction(3, 4), "langt de fleste"),
    (Fraction(899, 1000), "langt de fleste"),
    (Fraction(9, 10), "næsten alle"),
    (Fraction(999, 1000), "næsten alle"),
    (1, "alle"),
    (1.0, "alle"),
])
def test_kvantor_boundaries(share, word):
    assert kvantor(share) == word


def test_kvantor_rejects_shares_outside_0_1():
    with pytest.raises(ValueError):
        kvantor(1.2)
    with pytest.raises(ValueError):
        kvantor(-0.1)


def test_kvantor_af_reads_as_danish():
    assert kvantor_af(Fraction(26, 55), "de omgjorte afgørelser") == \
        "lidt under halvdelen af de omgjorte afgørelser"
    assert kvantor_af(1, "sagerne") == "alle sagerne"
    assert kvantor_af(Fraction(95, 100), "sagerne") == "næsten alle sagerne"
    assert kvantor_af(0, "sagerne") == "ingen af sagerne"


def test_number_formatting_and_plurals():
    assert fmt_int(1234) == "1.234"
    assert fmt_int(1234567) == "1.234.567"
    assert fmt_int(999) == "999"
    assert fmt_pct(19.2) == "19,2 %"
    assert fmt_pct(100 * 24 / 129) == "18,6 %"
    assert fmt_pct(1234.5) == "1.234,5 %"
    assert fmt_pct(38, None) == "38 %" and fmt_pct(38.5, None) == "38,5 %"
    assert fmt_pct(None) == "–"
    assert fmt_pp(-7.64) == "7,6 procentpoint"
    assert antal(1, "afgørelse", "afgørelser") == "1 afgørelse"
    assert antal(2, "afgørelse", "afgørelser") == "2 afgørelser"
    assert antal(0, "afgørelse", "afgørelser") == "0 afgørelser"
    assert antal(1, "sag", "sager") == "1 sag" and antal(1234, "sag", "sager") == "1.234 sager"


# --------------------------------------------------------------------------- stores

def decision(n: int, **kw) -> Classification:
    base = dict(source=f"/indbakke/{PERSONAL[0]} {n:04d}.pdf", sha256=f"{n:064x}",
                outcome="stadfæstet", kritik=False, errors=[], law_area="sygedagpenge",
                municipality="Gladsaxe Kommune", decision_date="2023-03-15",
                case_number=f"23-{n:06d}", format="modern_letter")
    base.update(kw)
    return Classification(**base)


class Builder:
    def __init__(self):
        self.items: list[Classification] = []

    def add(self, count: int, **kw):
        for _ in range(count):
            n = len(self.items) + 1
            d = dict(kw)
            year = d.pop("year", 2023)
            d.setdefault("decision_date", f"{year}-{(n % 12) + 1:02d}-{(n % 27) + 1:02d}")
            self.items.append(decision(n, **d))
        return self

    def write(self, path):
        store = open_store(path)
        for d in self.items:
            store.write_file(d.sha256, d.source, [d], run_id=None, model_version=MV)
        store.close()
        return path


OB = ["officialprincip", "begrundelse"]


@pytest.fixture(scope="module")
def gladsaxe(tmp_path_factory):
    """A small Gladsaxe-like store: two departments, several law areas, two years."""
    b = Builder()
    instr = ["Kommunen skal indhente oplysninger om din arbejdsevne fra din egen læge.",
             "Kommunen skal træffe en ny afgørelse."]
    b.add(6, outcome="hjemvist", errors=OB, law_area="sygedagpenge", instructions=instr)
    b.add(2, outcome="hjemvist", errors=["officialprincip"], law_area="sygedagpenge",
          instructions=instr)
    b.add(5, outcome="ændret", errors=["begrundelse"], law_area="sygedagpenge")
    b.add(4, outcome="hjemvist", errors=OB, law_area="kontanthjælp",
          instructions=["Kommunen skal beregne fradraget igen og forklare beregningen."])
    b.add(4, outcome="ændret", law_area="botilbud")
    b.add(30, outcome="stadfæstet", law_area="sygedagpenge")
    b.add(10, outcome="stadfæstet", law_area="botilbud")
    b.add(3, outcome="stadfæstet", kritik=True, errors=["retsgrundlag"], law_area="botilbud")
    b.add(2, outcome="afvist", law_area="kontanthjælp")
    b.add(5, outcome="hjemvist", errors=OB, law_area="tabt_arbejdsfortjeneste",
          instructions=["Kommunen skal opgøre din arbejdstid i de seneste tre måneder."])
    b.add(5, outcome="ændret", law_area="tabt_arbejdsfortjeneste")
    b.add(9, outcome="ændret", law_area="merudgifter_børn")
    b.add(8, outcome="stadfæstet", law_area="merudgifter_børn")
    b.add(1, outcome="stadfæstet", kritik=True, errors=["sagsbehandlingstid"],
          law_area="merudgifter_børn")
    b.add(1, outcome="stadfæstet", kritik=True, errors=["notatpligt"],
          law_area="tabt_arbejdsfortjeneste")
    # personal data in fields a report must never print
    b.items[0].evidence = [Evidence("officialprincip", f"{PERSONAL[3]} er ikke undersøgt.", 2,
                                    "begrundelse")]
    b.items[0].text = f"{PERSONAL[0]}, {PERSONAL[1]}, cpr-nr. {PERSONAL[2]}"  # type: ignore
    # the year before
    b.add(5, year=2022, outcome="hjemvist", errors=OB, law_area="sygedagpenge")
    b.add(15, year=2022, outcome="stadfæstet", law_area="botilbud")
    b.add(2, year=2022, outcome="ændret", law_area="tabt_arbejdsfortjeneste")
    b.add(6, year=2022, outcome="stadfæstet", law_area="merudgifter_børn")
    return b.write(tmp_path_factory.mktemp("report") / "anke.db")


# --------------------------------------------------------------------------- the chapter

NUMBER = re.compile(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+(?:,\d+)?")


def _allowed_numbers(store, year: int, national_rate=None) -> set[str]:
    """Every figure the prose may state, recomputed here from the trends query alone."""
    y, p = str(year), str(year - 1)
    rows = []
    for span in ((y, y), (p, p), (p, y)):
        for by in ([], ["department"], ["department", "law_area"],
                   ["department", "law_area", "outcome"], ["department", "outcome"],
                   ["department", "outcome", "kritik"], ["municipality"], ["law_area"],
                   ["quarter"]):
            rows += trends(store, by, since=span[0], until=span[1])
    # omgjorte per law area / department (ændret + hjemvist rows added up)
    for by in (["department", "law_area", "outcome"], ["department", "outcome"]):
        groups: dict = {}
        for r in trends(store, by, since=y, until=y):
            if r["outcome"] in ("ændret", "hjemvist"):
                key = tuple(r[b] for b in by if b != "outcome")
                groups.setdefault(key, []).append(r)
        rows += [total(g) for g in groups.values()]
    allowed = {str(year), str(year - 1)}
    for r in rows:
        for k, v in r.items():
            if isinstance(v, bool) or v is None:
                continue
            if isinstance(v, int):
                allowed.add(fmt_int(v))
            elif isinstance(v, float):
                allowed.add(fmt_pct(v).split()[0])
    a, b = trends(store, [], since=y, until=y)[0], trends(store, [], since=p, until=p)[0]
    pairs = [(a, b)]
    now_d = {r["department"]: r for r in trends(store, ["department"], since=y, until=y)}
    prev_d = {r["department"]: r for r in trends(store, ["department"], since=p, until=p)}
    pairs += [(now_d[k], prev_d[k]) for k in now_d if k in prev_d]
    for x, z in pairs:
        if x["omgørelsesprocent"] is not None and z["omgørelsesprocent"] is not None:
            allowed.add(fmt_pp(x["omgørelsesprocent"] - z["omgørelsesprocent"]).split()[0])
    if national_rate is not None:
        allowed.add(fmt_pct(national_rate, None).split()[0])
        allowed.add(fmt_pp(a["omgørelsesprocent"] - national_rate).split()[0])
    # counts of groups ("fordeler sig på 6 andre sagsområder", "fra 2 kommuner") are at most
    # the number of law areas of the year
    n_areas = len(trends(store, ["law_area"], since=y, until=y))
    allowed |= {str(i) for i in range(n_areas + 1)}
    return allowed


def test_every_number_in_the_prose_comes_from_the_trends_query(gladsaxe):
    chapter = build_chapter(gladsaxe, 2023, national_rate=38, charts=False)
    allowed = _allowed_numbers(gladsaxe, 2023, national_rate=38)
    prose = chapter.prose()
    found = NUMBER.findall(prose)
    assert len(found) > 40
    assert sum("," in n for n in found) >= 8  # the percentages are checked too
    stray = sorted({n for n in found if n not in allowed})
    assert not stray, f"numbers not from the trends query: {stray}\n{prose}"


def test_key_sentences_recomputed(gladsaxe):
    chapter = build_chapter(gladsaxe, 2023, national_rate=38, charts=False)
    prose = chapter.prose()
    t = trends(gladsaxe, [], since="2023", until="2023")[0]
    p = trends(gladsaxe, [], since="2022", until="2022")[0]
    assert f"truffet {fmt_int(t['count'])} afgørelser i klagesager fra Gladsaxe Kommune" in prose
    assert (f"Heraf er {fmt_int(t['omgjorte'])} afgørelser omgjort, dvs. ændret eller "
            f"hjemvist, hvilket giver en omgørelsesprocent på {fmt_pct(t['omgørelsesprocent'])}."
            ) in prose
    assert (f"({fmt_int(t['ændret'])} af {fmt_int(t['omgjorte'])}) er ændret, og "
            f"{fmt_int(t['hjemvist'])} er hjemvist") in prose
    assert f"({fmt_int(t['stadfæstet'])} af {fmt_int(t['count'])}) er stadfæstet" in prose
    assert f"omgørelsesprocenten var {fmt_pct(p['omgørelsesprocent'])}" in prose
    diff = t["omgørelsesprocent"] - p["omgørelsesprocent"]
    assert f"{'steget' if diff > 0 else 'faldet'} med {fmt_pp(diff)}" in prose
    assert "på landsplan 38 %" in prose
    assert f"{fmt_pp(t['omgørelsesprocent'] - 38)} over landsgennemsnittet" in prose
    assert f"afvist at behandle {antal(t['afvist'], 'klage', 'klager')}" in prose

    by_dept = {r["department"]: r for r in trends(gladsaxe, ["department"], since="2023",
                                                 until="2023")}
    sosu, bk = by_dept[SOSU], by_dept[BK]
    assert sosu["omgjorte"] == 21 and sosu["ændret"] == 9  # the fixture's own figures
    assert ("Lidt under halvdelen af de omgjorte afgørelser (9 af 21) er ændret, og 12 er "
            "hjemvist") in prose
    assert bk["omgjorte"] == 19
    assert ("Lidt over halvdelen af de omgjorte afgørelser (10 af 19) handler om tabt "
            "arbejdsfortjeneste, og de øvrige 9 handler om merudgifter til børn.") in prose
    # dominant errors per law area, recomputed from ændret + hjemvist rows
    rows = [r for r in trends(gladsaxe, ["law_area", "outcome"], since="2023", until="2023")
            if r["law_area"] == "sygedagpenge" and r["outcome"] in ("ændret", "hjemvist")]
    om = total(rows)
    assert (om["omgjorte"], om["fejl_begrundelse"], om["fejl_officialprincip"]) == (13, 11, 8)
    assert ("Sygedagpenge: 13 af 43 afgørelser er omgjort. I langt de fleste af afgørelserne "
            "(11 af 13) levede begrundelsen ikke op til forvaltningslovens krav (begrundelse), "
            "og i 8 af dem var sagen ikke tilstrækkeligt oplyst (officialprincippet).") in prose
    assert "forkert eller manglende retsgrundlag i 3 sager" in prose
    assert re.search(r"Kritikken i de stadfæstede afgørelser handler om [^.]*"
                     r"sagsbehandlingstid[^.]* i 1 sag[^.]*notatpligt\) i 1 sag\.", prose)


def test_plurals_and_singulars_in_a_tiny_store(tmp_path):
    path = Builder().add(1, outcome="hjemvist", errors=["officialprincip"]).add(
        1, outcome="stadfæstet", kritik=True, errors=["partshøring"]).add(
        1, outcome="afvist").write(tmp_path / "tiny.db")
    prose = build_chapter(path, 2023, charts=False).prose()
    assert "truffet 3 afgørelser" in prose
    assert "Heraf er 1 afgørelse omgjort" in prose
    assert "Den omgjorte afgørelse er hjemvist" in prose
    assert "I den stadfæstede afgørelse har Ankestyrelsen dog kritiseret" in prose
    assert "manglende partshøring i 1 sag." in prose
    assert "afvist at behandle 1 klage;" in prose
    assert "1 afgørelser" not in prose and "1 sager" not in prose
    assert "Opgørelsen indeholder ingen afgørelser fra 2022" in prose
    assert "I den hjemviste sag skal kommunen" in prose


def test_thousands_separator_in_prose_and_tables(tmp_path):
    b = Builder().add(1_190, outcome="stadfæstet").add(44, outcome="hjemvist", errors=OB)
    path = b.write(tmp_path / "big.db")
    chapter = build_chapter(path, 2023, charts=False)
    assert "truffet 1.234 afgørelser" in chapter.prose()
    assert "(1.190 af 1.234) er stadfæstet" in chapter.prose()
    tables = [row for blk in chapter.blocks if blk.kind == "table" for row in blk.rows]
    assert any("1.234" in row for row in tables)


def test_no_decisions_in_the_year(gladsaxe):
    chapter = build_chapter(gladsaxe, 2019, charts=False)
    assert "Opgørelsen indeholder ingen afgørelser fra 2019" in chapter.prose()


def test_department_chapter(gladsaxe):
    chapter = build_chapter(gladsaxe, 2023, department="Børne- og Kulturforvaltningen",
                            charts=False)
    assert chapter.title == f"{TITLE} – {BK}"
    prose = chapter.prose()
    bk = trends(gladsaxe, [], since="2023", until="2023", department=BK)[0]
    assert f"truffet {fmt_int(bk['count'])} afgørelser i klagesager fra Gladsaxe Kommune på " \
           f"Børne- og Kulturforvaltningens område" in prose
    assert SOSU not in prose and "Sygedagpenge" not in prose


def _no_personal_data(text: str):
    for item in PERSONAL + ["23-000001", "/indbakke/", ".pdf"]:
        assert item not in text, item


def test_markdown_with_chart_files(gladsaxe, tmp_path):
    out = write_report(gladsaxe, 2023, tmp_path / "kapitel.md", fmt="md", national_rate=38)
    text = out.read_text(encoding="utf-8")
    assert text.startswith(f"# {TITLE}\n")
    assert "## Social- og Sundhedsforvaltningen" in text
    assert "## Hvad skal kommunen gøre?" in text
    assert "indhente oplysninger om borgerens arbejdsevne fra borgerens egen læge" in text
    followups = [line for line in text.split("## Hvad skal kommunen gøre?")[1].splitlines()
                 if line.startswith("- ")]
    assert len(followups) == 3  # one per law area; the bare "træffe en ny afgørelse" left out
    assert not any("træffe en ny afgørelse." in line for line in followups)
    for name in ("kapitel-udfald.png", "kapitel-fejltyper.png"):
        assert f"]({name})" in text
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"
    assert "| Forvaltning | Afgørelser |" in text
    _no_personal_data(text)


def test_html_is_self_contained(gladsaxe, tmp_path):
    out = write_report(gladsaxe, 2023, tmp_path / "kapitel.html", fmt="html")
    text = out.read_text(encoding="utf-8")
    assert '<html lang="da">' in text and f"<h1>{TITLE}</h1>" in text
    srcs = re.findall(r'src="([^"]*)"', text)
    assert len(srcs) == 2 and all(s.startswith("data:image/png;base64,") for s in srcs)
    assert "http://" not in text and "https://" not in text and "<link" not in text
    assert "&nbsp;%" in text  # '48,0 %' never breaks across lines
    _no_personal_data(text)


def test_docx(gladsaxe, tmp_path):
    from docx import Document

    out = write_report(gladsaxe, 2023, tmp_path / "kapitel.docx", fmt="docx",
                       department=None, national_rate=38)
    doc = Document(str(out))
    paragraphs = [p.text for p in doc.paragraphs]
    assert paragraphs[0] == TITLE
    assert "Overblik" in paragraphs and SOSU in paragraphs
    assert len(doc.inline_shapes) == 2
    assert len(doc.tables) == 3  # departments, and one per department
    assert doc.tables[0].cell(0, 0).text == "Forvaltning"
    text = "\n".join(paragraphs + [c.text for t in doc.tables for r in t.rows for c in r.cells])
    _no_personal_data(text)


def test_write_report_rejects_bad_arguments(gladsaxe, tmp_path):
    with pytest.raises(ValueError):
        write_report(gladsaxe, 2023, tmp_path / "x.pdf", fmt="pdf")
    with pytest.raises(ValueError):
        write_report(gladsaxe, 2023, tmp_path / "x.md", national_rate=380)
    with pytest.raises(FileNotFoundError):
        write_report(tmp_path / "missing.db", 2023, tmp_path / "x.md")
    assert not (tmp_path / "missing.db").exists()


def test_error_labels_have_danish_prose():
    from classifier.report import ERROR_FINDING, ERROR_NOUN

    assert set(ERROR_FINDING) == set(ERROR_NOUN) == set(ERROR_TYPES)
