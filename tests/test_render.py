"""Tests for classifier.corpus.render: born-digital letters, bundles, scans, broken files.

The decisions are built here (never written under corpus/decisions/)."""

from __future__ import annotations

import json
import re

import pdfplumber
import pypdfium2 as pdfium
import pytest

from classifier.corpus import render
from classifier.corpus.load import CorpusDecision

MODERN = """# Afgørelse

Du har klaget over Odder Kommunes afgørelse om dækning af merudgifter til din søn. Kommunen \
afgjorde sagen den 14. august 2023.

# Resultatet er

- Du får ikke dækket udgifterne til glutenfri kost efter servicelovens § 41.
- Kommunen skal ikke betale for den ekstra vask af sengetøj.

Det betyder, at vi stadfæster kommunens afgørelse. Vi er enige med kommunen i, at \
sagsbehandlingen har været tilstrækkelig, og at der ikke er grundlag for at give dig medhold.

Vi kritiserer dog, at kommunen ikke har overholdt fristen for genvurdering af sagen. Det fører \
dog ikke til et andet resultat.

# Begrundelse for afgørelsen

Vi lægger vægt på, at de merudgifter, du har dokumenteret, ikke overstiger \
minimumsbeløbet for et helt kalenderår. Kommunen har beregnet udgifterne til glutenfri kost \
ud fra de priser, som Fødevarestyrelsen har oplyst, og vi finder ikke grundlag for at \
tilsidesætte beregningen. Du har oplyst, at du køber specialprodukter i en bestemt \
helsekostbutik, men det fremgår ikke af sagens oplysninger, at det er nødvendigt af hensyn \
til din søns helbred. Vi vurderer derfor, at der er tale om en udgift, der skyldes et \
forbrugsvalg, og ikke en nødvendig merudgift som følge af funktionsnedsættelsen.

Vi lægger også vægt på, at vask af sengetøj i det omfang, du har beskrevet, ikke adskiller \
sig væsentligt fra det, andre familier med børn på samme alder har. Kommunen har indhentet \
udtalelser fra børneafdelingen på hospitalet og fra din søns egen læge. Vi vurderer, at sagen \
er tilstrækkeligt oplyst til, at der kan træffes afgørelse.

Kommunen genvurderede ikke afgørelsen inden for fire uger efter, at klagen var modtaget, og \
du fik ikke besked om, hvornår du kunne forvente svar. Kommunen har dermed ikke overholdt \
retssikkerhedslovens § 3, stk. 2.

# Regler

Efter servicelovens § 41, stk. 1, skal kommunen yde dækning af nødvendige merudgifter ved \
forsørgelsen i hjemmet af et barn under 18 år med betydelig og varigt nedsat fysisk eller \
psykisk funktionsevne eller indgribende kronisk eller langvarig lidelse. Det er en betingelse, \
at merudgiften er en konsekvens af den nedsatte funktionsevne, og at udgiften ikke kan dækkes \
efter anden lovgivning.

# Sagens oplysninger

Din søn er født i 2015 og har cøliaki. Du søgte den 3. maj 2023 om dækning af merudgifter \
til glutenfri kost, særlige bageprodukter og ekstra vask. Kommunen indhentede oplysninger fra \
hospitalet og fra egen læge og gav afslag den 14. august 2023. Du klagede den 1. september \
2023.

Du kan ikke klage over vores afgørelse til en anden administrativ myndighed. Hvis du mener, \
at afgørelsen er forkert, kan du indbringe den for domstolene inden for seks måneder.
"""

MUNICIPALITY = """# Afgørelse i sagen om tabt arbejdsfortjeneste

Ankestyrelsen har behandlet klagen fra borgeren over Randers Kommunes afgørelse af \
2. februar 2022 om tabt arbejdsfortjeneste efter servicelovens § 42.

Vi hjemviser sagen til kommunen. Kommunen skal behandle sagen igen og træffe en ny afgørelse.

# Hvad skal kommunen gøre?

- Kommunen skal indhente en opdateret lægelig vurdering af barnets behov for pasning i \
hjemmet.
- Kommunen skal foretage en konkret beregning af borgerens tidligere bruttoindtægt og \
begrunde beregningen.

# Begrundelse

Sagen er ikke tilstrækkeligt oplyst. Kommunen har lagt vægt på en udtalelse fra 2019, som \
ikke beskriver barnets aktuelle situation, og kommunen har ikke undersøgt, om barnets \
behandlingsforløb er blevet mere omfattende. Kommunen har dermed ikke levet op til \
officialprincippet i retssikkerhedslovens § 10.

Afgørelsen lever heller ikke op til begrundelseskravet i forvaltningslovens § 24. Det fremgår \
ikke, hvordan kommunen er nået frem til det månedlige beløb, og klager har derfor ikke \
kunnet forstå beregningen. Borgeren har gjort gældende, at kommunen ikke har partshørt hende, \
men Ankestyrelsen finder, at kommunen har sendt partshøring den 12. januar 2022.

Hjemvisningen betyder ikke, at borgeren nødvendigvis får ret til en højere ydelse. Det er \
kommunen, der skal vurdere sagen på et fuldstændigt grundlag. Ankestyrelsen har ved \
vurderingen af sagen lagt vægt på de oplysninger, der forelå på tidspunktet for kommunens \
afgørelse, herunder journalnotater fra sundhedsplejen, udtalelser fra daginstitutionen og \
borgerens egne oplysninger om arbejdstid og fravær.

# Regler

Efter servicelovens § 42 skal kommunen yde hjælp til dækning af tabt arbejdsfortjeneste til \
personer, der i hjemmet forsørger et barn under 18 år med betydelig og varigt nedsat fysisk \
eller psykisk funktionsevne, når det er en nødvendig konsekvens af funktionsnedsættelsen, at \
barnet passes i hjemmet, og det er mest hensigtsmæssigt, at det er moderen eller faderen, der \
passer barnet. Kommunen skal sørge for, at sagen er tilstrækkeligt oplyst, før der træffes \
afgørelse.

Afgørelsen kan ikke indbringes for anden administrativ myndighed.
"""

PRINCIPLE = """# Ankestyrelsens principafgørelse 41-22 om sygedagpenge – forlængelse – jobafklaringsforløb

# Resume

En kommune havde standset udbetalingen af sygedagpenge uden at have vurderet, om borgeren \
opfyldte betingelserne for forlængelse. Ankestyrelsen ophævede kommunens afgørelse, fordi \
kommunen havde anvendt en forkert bestemmelse som grundlag for ophøret.

# Love

Sygedagpengelovens § 24 og § 27, stk. 1, nr. 1-7.

# Sagsfremstilling

Borgeren var sygemeldt fra sit arbejde som lagerarbejder efter en diskusprolaps. Kommunen \
traf den 4. april 2022 afgørelse om, at sygedagpengene skulle ophøre efter udløbet af \
varighedsbegrænsningen. Kommunen henviste i afgørelsen alene til den generelle regel om \
varighed og tog ikke stilling til forlængelsesreglerne. Borgeren klagede og oplyste, at \
behandlingen på sygehuset endnu ikke var afsluttet, og at hun havde en planlagt operation.

Af sagens lægelige oplysninger fremgik, at der var en forventning om, at borgeren ville kunne \
vende tilbage til arbejdsmarkedet efter operationen og en efterfølgende genoptræning på cirka \
tre måneder.

# Afgørelse

Ankestyrelsen ophævede kommunens afgørelse. Borgeren var berettiget til forlængelse af \
sygedagpengene efter sygedagpengelovens § 27, stk. 1, nr. 2.

# Begrundelse

Ankestyrelsen lagde vægt på, at kommunen skulle have vurderet, om en af \
forlængelsesbestemmelserne var opfyldt, før udbetalingen blev standset. Afgørelsen skulle \
have været truffet efter reglerne om forlængelse, og kommunen havde ikke hjemmel til at \
standse udbetalingen alene med henvisning til varighedsbegrænsningen. Det var ubestridt, at \
borgeren var under lægelig behandling, og at behandlingen efter en lægelig vurdering kunne \
forventes at føre til, at hun blev i stand til at genoptage arbejdet. Betingelserne for \
forlængelse var derfor opfyldt på tidspunktet for kommunens afgørelse. Ankestyrelsen fandt \
på den baggrund, at der var grundlag for at ændre afgørelsen.
"""

EMPLOYMENT = """# Afgørelse

Du har klaget over, at Aalborg Kommune den 9. november 2023 har afvist at give dig fleksjob. \
Vi har modtaget din klage den 20. december 2023.

Beskæftigelsesudvalget afviser at behandle din klage, fordi den er indgivet for sent.

# Begrundelse for afgørelsen

Fristen for at klage over kommunens afgørelse er fire uger fra den dag, du fik afgørelsen. \
Det fremgår af sagen, at kommunen sendte afgørelsen til din digitale postkasse den \
9. november 2023, og at du åbnede den samme dag. Klagefristen udløb derfor den \
7. december 2023.

Du har oplyst, at du var syg i perioden og derfor ikke kunne nå at klage. Vi har vurderet, om \
der er grund til at se bort fra fristen, men du har ikke dokumenteret, at sygdommen \
forhindrede dig i at klage i hele perioden. Du har i samme periode haft kontakt med \
jobcentret om andre forhold. Vi vurderer derfor, at der ikke er særlige grunde til at \
behandle klagen, selv om den er kommet for sent.

Kommunen har i afgørelsen givet korrekt klagevejledning, hvor fristen tydeligt fremgik. Det \
er derfor ikke kommunens forhold, der har ført til, at klagen kom for sent.

# Regler

Det fremgår af retssikkerhedslovens § 67, at klagefristen er fire uger fra den dag, hvor \
afgørelsen er modtaget. Ankestyrelsen kan se bort fra fristen, hvis der er særlige grunde \
til det. Beskæftigelsesudvalget træffer afgørelse i sager på beskæftigelsesområdet, når \
sagen er af principiel eller generel betydning.

# Sagens oplysninger

Du har været ansat i fleksjob hos en tidligere arbejdsgiver og blev afskediget i foråret \
2023. Kommunen vurderede herefter, at din arbejdsevne var forbedret, og at du ikke længere \
opfyldte betingelserne for fleksjob. Du har i klagen anført, at kommunen ikke har inddraget \
de seneste oplysninger fra din speciallæge.

Du kan ikke klage over denne afgørelse til en anden administrativ myndighed.
"""


def make(id_, fmt, text, **kw) -> CorpusDecision:
    base = dict(
        id=id_, source="written", format=fmt, outcome="stadfæstet", partial=False, kritik=False,
        errors=[], law_area="merudgifter_børn", citations=[], municipality="Odder Kommune",
        first_instance="Odder Kommune", first_instance_date="2023-08-14",
        decision_date="2024-03-12", case_number="24-012345", instructions=[], traps=[],
        evidence={}, text=text, citizen_name="Mette Kjærgaard Holm",
        citizen_address="Skovvej 12, 8300 Odder", cpr="120385-1234",
        case_officer="Rasmus Brink Sørensen",
    )
    base.update(kw)
    return CorpusDecision(**base)


DECISIONS = {
    "modern_letter": make("t001", "modern_letter", MODERN, kritik=True),
    "letter_to_municipality": make(
        "t002", "letter_to_municipality", MUNICIPALITY, outcome="hjemvist",
        law_area="tabt_arbejdsfortjeneste", municipality="Randers Kommune",
        first_instance="Randers Kommune", decision_date="2022-06-30", case_number="22-004711",
        citizen_name="Sofie Lund Abildgaard", citizen_address="Mejlgade 4, 2. tv., 8900 Randers C",
        cpr="030790-2468"),
    "principle": make(
        "t003", "principle", PRINCIPLE, outcome="ændret", law_area="sygedagpenge",
        municipality=None, first_instance="kommunen", decision_date="2022-11-01",
        case_number="22-019876"),
    "beskaeftigelsesudvalget": make(
        "t004", "beskaeftigelsesudvalget", EMPLOYMENT, outcome="afvist", law_area="fleksjob",
        municipality="Aalborg Kommune", first_instance="Aalborg Kommune",
        decision_date="2024-01-22", case_number="24-000815", citizen_name="Jonas Østergaard",
        citizen_address="Vesterbro 101, 9000 Aalborg", cpr="241172-3579"),
}
LONG = make("t005", "modern_letter", MODERN + "\n" + MODERN.replace("# Afgørelse", "# Bilag")
            + "\n" + MUNICIPALITY.replace("# ", "## "), case_number="24-099999")


def _norm_words(text: str) -> list[str]:
    text = text.replace("-", "").replace("–", "")
    return re.findall(r"\w+", text.lower())


def _read(path) -> tuple[list[str], list]:
    with pdfplumber.open(str(path)) as pdf:
        texts = [p.extract_text() or "" for p in pdf.pages]
        words = [p.extract_words() for p in pdf.pages]
    return texts, words


def _main_text(path) -> str:
    """Main-column text: page 1 cropped left of the margin column; headers, footers dropped."""
    out = []
    with pdfplumber.open(str(path)) as pdf:
        for i, p in enumerate(pdf.pages):
            if i == 0:
                p = p.crop((0, 0, 415, p.height))
            out.append(p.crop((0, 50, p.width, p.height - 50)).extract_text() or "")
    return "\n".join(out)


def _join_hyphens(text: str) -> str:
    return re.sub(r"(\w)-\n(\w)", r"\1\2", text)


@pytest.mark.parametrize("fmt", list(DECISIONS))
def test_render_each_format(tmp_path, fmt):
    d = DECISIONS[fmt]
    path = tmp_path / f"{d.id}.pdf"
    n = render.render_pdf(d, path)
    assert 1 <= n <= 6
    texts, words = _read(path)
    assert len(texts) == n
    for i, t in enumerate(texts, start=1):
        assert f"Side {i} af {n}" in t
    full = _join_hyphens(_main_text(path))
    # every body word is in the PDF, in order, once hyphenated line breaks are joined
    body = _norm_words(render.plain_body(d.text))
    got = _norm_words(full)
    it = iter(got)
    missing = [w for w in body if w not in it]
    assert not missing, missing[:10]
    # margin fields at x > 400 on page 1
    page1 = words[0]
    margin = " ".join(w["text"] for w in page1 if w["x0"] > 400)
    main = [w for w in page1 if w["x0"] <= 400 and 60 < w["top"] < 800]
    assert main and max(w["x1"] for w in main) <= 402
    assert "Statsservice" in margin and "33" in margin
    if fmt != "principle":
        assert f"J.nr. {d.case_number}" in margin
        assert "Sagsbehandler:" in margin
        assert d.cpr in margin
        assert render.format_date(d.decision_date, True) in margin or \
            render.format_date(d.decision_date, False) in margin
    else:
        head = texts[0].splitlines()[:4]
        assert any(d.case_number in line for line in head)
        assert d.citizen_name not in texts[0]
    if fmt == "letter_to_municipality":
        assert "Vedr.:" in margin
        assert _main_text(path).splitlines()[1] == d.municipality
    if fmt == "beskaeftigelsesudvalget":
        assert _main_text(path).splitlines()[1] == "Beskæftigelsesudvalget"
    if fmt in ("modern_letter", "beskaeftigelsesudvalget"):
        assert d.citizen_name in texts[0]
    # plain text has the same fields and the body without markup
    plain = render.plain_text(d)
    assert "#" not in plain and "\n- " not in plain
    assert f"J.nr. {d.case_number}" in plain
    assert _norm_words(plain)[-len(body):] == body


def test_long_letter_pages_hyphenation_and_widths(tmp_path):
    path = tmp_path / "long.pdf"
    n = render.render_pdf(LONG, path)
    assert n >= 3
    texts, words = _read(path)
    assert any(re.search(r"\w-\n\w", t) for t in texts), "expected hyphenated line breaks"
    for i, page in enumerate(words[1:], start=2):
        assert "Ankestyrelsen" in texts[i - 1].splitlines()[0]
        assert LONG.case_number in texts[i - 1].splitlines()[0]
        body = [w for w in page if 50 < w["top"] < 780]
        assert max(w["x1"] for w in body) > 450  # wider main column on later pages
    # justified: most non-final lines of page 2 end at the right edge
    with pdfplumber.open(str(path)) as pdf:
        lines = pdf.pages[1].extract_text_lines()
    body = [ln for ln in lines if 60 < ln["top"] < 780]
    right = [ln["x1"] for ln in body]
    assert sum(abs(x - 525) < 1.5 for x in right) > len(right) / 2


def test_hyphenation_points():
    pts = [i for i, add in render.hyphenation_points("sagsbehandlingen")]
    word = "sagsbehandlingen"
    assert all(i >= 3 and len(word) - i >= 3 for i in pts)
    assert 4 in pts  # sags-behandlingen
    assert render.hyphenation_points("24-012345") == []
    assert render.hyphenation_points("kort") == []
    assert (9, False) in render.hyphenation_points("fleksjob-ordningen")


def test_deterministic(tmp_path):
    d = DECISIONS["modern_letter"]
    render.render_pdf(d, tmp_path / "a.pdf")
    render.render_pdf(d, tmp_path / "b.pdf")
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()
    assert render.plain_text(d) == render.plain_text(d)


def test_bundle_page_ranges(tmp_path):
    ds = [DECISIONS["modern_letter"], DECISIONS["letter_to_municipality"], LONG,
          DECISIONS["principle"]]
    path = tmp_path / "bundle.pdf"
    ranges = render.render_bundle(ds, path, seed=3)
    assert [r[0] for r in ranges] == [d.id for d in ds]
    assert ranges[0][1] == 1
    for (_, a, b), (_, c, _) in zip(ranges, ranges[1:]):
        assert c == b + 1 and a <= b
    texts, _ = _read(path)
    assert len(texts) == ranges[-1][2]
    for (id_, a, b), d in zip(ranges, ds):
        n = b - a + 1
        assert f"Side 1 af {n}" in texts[a - 1]
        assert f"Side {n} af {n}" in texts[b - 1]
        assert d.case_number in texts[a - 1]


def test_scan_has_no_text_and_redacts(tmp_path):
    d = DECISIONS["letter_to_municipality"]
    src, dst = tmp_path / "src.pdf", tmp_path / "src.scan.pdf"
    n = render.render_pdf(d, src)
    boxes = render._redaction_boxes(src, render._redact_strings(d))
    assert len(boxes[0]) >= 2  # name + cpr in the margin "Vedr.:" line
    assert render.scan_pdf(src, dst, seed=1, redact=render._redact_strings(d), dpi=100) == n
    with pdfplumber.open(str(dst)) as pdf:
        assert len(pdf.pages) == n
        assert all(not (p.extract_text() or "").strip() for p in pdf.pages)
        assert all(p.images for p in pdf.pages)
        assert abs(pdf.pages[0].width - render.PAGE_W) < 2
    # the redaction bar is black where the CPR was
    doc = pdfium.PdfDocument(str(dst))
    img = doc[0].render(scale=100 / 72).to_pil().convert("L")
    doc.close()
    # a long black run where the CPR was (rotation/shift move it by a few pixels only)
    x0, top, x1, bottom = next(b for b in boxes[0] if b[0] > 400 and b[2] - b[0] > 20)
    k = 100 / 72
    win = img.crop((int(x0 * k) - 25, int(top * k) - 25, int(x1 * k) + 25, int(bottom * k) + 25))
    longest = 0
    for y in range(win.height):
        run = 0
        for x in range(win.width):
            run = run + 1 if win.getpixel((x, y)) < 80 else 0
            longest = max(longest, run)
    assert longest >= (x1 - x0) * k * 0.9


def test_auto_redaction_finds_address_block(tmp_path):
    d = DECISIONS["modern_letter"]
    src = tmp_path / "src.pdf"
    render.render_pdf(d, src)
    auto = render._redaction_boxes(src, None)[0]
    explicit = render._redaction_boxes(src, render._redact_strings(d))[0]
    assert len(auto) >= 4 and len(explicit) >= 4
    assert all(bottom < render.PAGE_H - 600 for _, _, _, bottom in auto)  # not the body
    assert sorted(auto) == sorted(explicit)
    d = DECISIONS["letter_to_municipality"]  # the kommune's address is not personal data
    render.render_pdf(d, src)
    auto = render._redaction_boxes(src, None)[0]
    assert sorted(auto) == sorted(render._redaction_boxes(src, render._redact_strings(d))[0])


def test_broken_files(tmp_path):
    d = DECISIONS["modern_letter"]
    src = tmp_path / "src.pdf"
    render.render_pdf(d, src)
    files = render.broken_files(tmp_path / "broken", src, dpi=72)
    assert set(files) == set(render.BROKEN_KINDS)
    assert files["zero_bytes"].stat().st_size == 0
    assert not files["not_a_pdf"].read_bytes().startswith(b"%PDF")
    assert files["truncated"].stat().st_size == int(src.stat().st_size * 0.4)
    with pytest.raises(Exception):
        with pdfplumber.open(str(files["truncated"])) as pdf:
            [p.extract_text() for p in pdf.pages]
    with pytest.raises(pdfium.PdfiumError):
        pdfium.PdfDocument(str(files["encrypted"]))
    with pytest.raises(Exception):
        with pdfplumber.open(str(files["encrypted"])) as pdf:
            pdf.pages[0].extract_text()
    doc = pdfium.PdfDocument(str(files["encrypted"]), password="aktindsigt-2024")
    assert "Statsservice" in doc[0].get_textpage().get_text_range()
    doc.close()
    doc = pdfium.PdfDocument(str(files["huge"]))
    assert len(doc) == 300
    doc.close()
    with pdfplumber.open(str(files["image_only"])) as pdf:
        assert len(pdf.pages) == 1
        assert not (pdf.pages[0].extract_text() or "").strip()
        assert pdf.pages[0].images


def test_render_corpus_manifest(tmp_path):
    ds = list(DECISIONS.values())
    out = render.render_corpus(tmp_path / "pdf", decisions=ds, text=True)
    manifest = json.loads((out / "manifest.json").read_text())
    names = {f["file"] for f in manifest["files"]}
    assert names == {f"{d.id}.pdf" for d in ds} | {f"{d.id}.txt" for d in ds}
    for f in manifest["files"]:
        assert (out / f["file"]).exists()
    txt = (out / "t001.txt").read_text()
    assert txt == render.plain_text(DECISIONS["modern_letter"])
    out = render.render_corpus(tmp_path / "b", decisions=ds * 2 and
                               [make(f"b{i:02d}", d.format, d.text) for i, d in
                                enumerate(ds * 2)], bundles=True, seed=5)
    manifest = json.loads((out / "manifest.json").read_text())
    ids = [x["id"] for f in manifest["files"] for x in f["decisions"]]
    assert sorted(ids) == [f"b{i:02d}" for i in range(8)]
    for f in manifest["files"]:
        assert re.match(r"bundle_\d\d\.pdf$", f["file"])
        assert 3 <= len(f["decisions"]) <= 10
        doc = pdfium.PdfDocument(str(out / f["file"]))
        assert len(doc) == f["pages"] == f["decisions"][-1]["last_page"]
        doc.close()


def test_bundle_groups_sizes():
    ds = [make(f"x{i:03d}", "modern_letter", MODERN) for i in range(47)]
    for seed in range(5):
        groups = render._bundle_groups(ds, seed)
        assert sum(len(g) for g in groups) == 47
        assert all(3 <= len(g) <= 10 for g in groups)


def test_build_examples_small(tmp_path):
    ds = [make(f"e{i:02d}", fmt, d.text, outcome=d.outcome)
          for i, (fmt, d) in enumerate(list(DECISIONS.items()) * 6)]
    files = render.build_examples(tmp_path / "ex", decisions=ds, dpi=72)
    names = {p.name for p in files}
    assert {"broken_zero_bytes.pdf", "broken_not_a_pdf.pdf", "broken_truncated.pdf",
            "broken_encrypted.pdf", "image_only.pdf", "bundle_01.pdf",
            "bundle_02.scan.pdf", "manifest.json"} <= names
    assert 18 <= len(files) <= 24
    assert sum(p.stat().st_size for p in files) < 4 * 1024 * 1024


def test_scan_deterministic(tmp_path):
    d = DECISIONS["principle"]
    src = tmp_path / "src.pdf"
    render.render_pdf(d, src)
    render.scan_pdf(src, tmp_path / "a.pdf", seed=2, dpi=72)
    render.scan_pdf(src, tmp_path / "b.pdf", seed=2, dpi=72)
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()


def test_cached_corpus_dir(tmp_path, monkeypatch):
    import classifier.corpus.load as load

    ddir = tmp_path / "decisions"
    (ddir / "written").mkdir(parents=True)
    (ddir / "generated").mkdir()
    for d in DECISIONS.values():
        (ddir / "written" / f"{d.id}.toml").write_text(f'id = "{d.id}"\n')
    monkeypatch.setattr(render, "DECISIONS_DIR", ddir)
    monkeypatch.setattr(render, "CACHE_DIR", tmp_path / "cache")
    monkeypatch.setattr(load, "load_corpus", lambda split=None: list(DECISIONS.values()))
    calls = []
    real = render.render_corpus
    monkeypatch.setattr(render, "render_corpus", lambda *a, **k: calls.append(1) or real(*a, **k))
    out = render.cached_corpus_dir("text")
    assert out == tmp_path / "cache" / "text-all"
    assert sorted(p.name for p in out.glob("*.txt")) == sorted(f"{d}.txt" for d in
                                                                 ["t001", "t002", "t003", "t004"])
    assert render.cached_corpus_dir("text") == out and len(calls) == 1  # reused
    (ddir / "written" / "t001.toml").write_text('id = "t001"\n# changed\n')
    assert render.cached_corpus_dir("text") == out and len(calls) == 2  # re-rendered
    assert not list((tmp_path / "cache").glob("*.tmp-*"))
    pdf_dir = render.cached_corpus_dir("pdf")
    assert len(list(pdf_dir.glob("*.pdf"))) == 4 and (pdf_dir / "manifest.json").exists()


def test_love_og_regler_appendix_is_read_as_rules(tmp_path):
    """Real letters end with the cited provisions; the appendix adds pages and law text with
    duties ("Kommunen skal ...") but must change no label."""
    from classifier.corpus.load import load_corpus
    from classifier.pipeline import classify_pdf

    decision = next(d for d in load_corpus("dev") if d.errors and len(d.citations) >= 3)
    plain, long = tmp_path / "plain.pdf", tmp_path / "bilag.pdf"
    n_plain = render.render_pdf(decision, plain, seed=1)
    n_long = render.render_pdf(decision, long, seed=1, appendix=True)
    assert n_long > n_plain
    text, _ = _read(long)
    assert "Love og regler" in "\n".join(text) and "Stk. 2." in "\n".join(text)
    [a], [b] = classify_pdf(plain), classify_pdf(long)
    assert (a.outcome, a.kritik, a.errors, a.law_area) == (b.outcome, b.kritik, b.errors, b.law_area)
