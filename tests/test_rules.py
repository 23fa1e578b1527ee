"""Rules: every pattern's sample sentence, and the polarity/speaker/rules-text traps."""

import pytest

from classifier.rules import apply_rules, compile_pattern, load_rules
from classifier.schema import Sentence


def hits(text: str, section: str = "begrundelse", kind: str | None = None) -> set[str]:
    result = apply_rules([Sentence(text, 1, section, 0)])
    return {h.rule.label for h in result.valid(kind)}


RULES = load_rules()


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_every_rule_matches_its_example(rule):
    assert rule.example, f"{rule.id} has no example sentence"
    section = rule.sections[0] if rule.sections else (
        "afgørelse" if rule.kind in ("outcome", "partial") else "begrundelse")
    assert rule.label in hits(rule.example, section, rule.kind), rule.pattern


UNLESS = [r for r in RULES if r.unless is not None]


@pytest.mark.parametrize("rule", UNLESS, ids=[r.id for r in UNLESS])
def test_a_rules_exception_holds_on_its_counter_example(rule):
    assert rule.counter_example, f"{rule.id} has an exception but no counter_example"
    assert rule.label not in hits(rule.counter_example, "begrundelse", rule.kind)
    # the exception is what stops it: the same sentence, rule by rule, matches the pattern
    result = apply_rules([Sentence(rule.counter_example, 1, "begrundelse", 0)])
    assert any(h.rule.id == rule.id and h.rejected for h in result.hits)


def test_pattern_syntax_compiles_to_matcher_tokens():
    spec = compile_pattern("ikke {0,3} ~oplyse|belyst")
    assert spec[0] == {"NORM": "ikke"}
    assert spec[1] == {"OP": "{0,3}"}
    assert set(spec[2]["NORM"]["IN"]) >= {"oplyse", "belyst"}
    assert compile_pattern("hvorfor !sagen|det")[1] == {"NORM": {"NOT_IN": ["det", "sag", "sagen"]}}


@pytest.mark.parametrize("text,label", [
    ("Vi vurderer, at sagen ikke var tilstrækkeligt oplyst, da kommunen traf afgørelse.", "officialprincip"),
    ("Kommunen burde have indhentet en statusattest fra din egen læge.", "officialprincip"),
    ("Der mangler en beskrivelse af, hvordan din datters epilepsi påvirker familiens hverdag.", "officialprincip"),
    ("Kommunen har ikke partshørt dig over udtalelsen fra arbejdsgiveren.", "partshøring"),
    ("Du fik ikke mulighed for at kommentere rehabiliteringsteamets indstilling.", "partshøring"),
    ("Kommunen har ikke gjort notat om de oplysninger, du gav ved mødet den 4. maj.", "notatpligt"),
    ("Kommunen har ikke vejledt dig om muligheden for at søge om hjælp efter servicelovens § 100.", "vejledning"),
    ("Genvurderingen skete ikke inden for fire uger.", "sagsbehandlingstid"),
    ("Afgørelsen skulle have været truffet efter servicelovens § 83 a.", "retsgrundlag"),
    ("Kommunen har ikke henvist til de bestemmelser, afgørelsen bygger på.", "retsgrundlag"),
    ("Begrundelsen forklarer ikke, hvordan kommunen har beregnet fradraget.", "begrundelse"),
    ("Kommunen har anvendt sit serviceniveau som en fast grænse uden at se på dit behov.", "konkret_vurdering"),
    ("Kommunen har fortolket servicelovens § 100 for snævert.", "retsgrundlag"),
    ("Det er Ankestyrelsens opfattelse, at sagen ikke er tilstrækkeligt oplyst.", "officialprincip"),
    ("Kommunen har stillet et krav, som ikke fremgår af loven.", "retsgrundlag"),
    ("Kommunen har ikke taget stilling til, om du kan få hjælp efter servicelovens § 96.", "retsgrundlag"),
    ("Du fik ikke at vide, at du kunne søge om hjælpen med tilbagevirkende kraft.", "vejledning"),
    ("Kommunen har alene lagt vægt på sit serviceniveau.", "konkret_vurdering"),
    ("Det tog kommunen næsten et år at behandle din ansøgning, og det er for lang tid.", "sagsbehandlingstid"),
])
def test_findings_in_ankestyrelsens_voice(text, label):
    assert label in hits(text, kind="error")


@pytest.mark.parametrize("text,label", [
    # polarity: the duty was met
    ("Vi vurderer, at sagen er tilstrækkeligt oplyst.", "officialprincip"),
    ("Der mangler ikke oplysninger i sagen, som kunne føre til et andet resultat.", "officialprincip"),
    ("Kommunen har ikke tilsidesat notatpligten.", "notatpligt"),
    # the citizen's or representative's claim
    ("Du mener, at kommunen ikke har partshørt dig over lægens udtalelse.", "partshøring"),
    ("Din advokat har anført, at sagen ikke er tilstrækkeligt oplyst.", "officialprincip"),
    ("I klagen er det gjort gældende, at kommunen ikke har vejledt dig.", "vejledning"),
    ("Kommunen har ikke vejledt dig, skriver du i klagen.", "vejledning"),
    # Ankestyrelsen rejects the claim
    ("Vi er ikke enige i, at kommunen burde have indhentet flere oplysninger.", "officialprincip"),
    ("Det er ikke korrekt, at kommunen ikke har partshørt dig.", "partshøring"),
    # first person singular is a quoted party, never Ankestyrelsen ("vi")
    ("Min klient blev heller ikke bedt om at kommentere ergoterapeutens notat.", "partshøring"),
    ("Heller ikke advokatens synspunkt om, at sagen var utilstrækkeligt belyst, kunne tiltrædes.",
     "officialprincip"),
    # the citizen's own complaint deadline is not the municipality's case-handling time
    ("Vi har ikke fundet særlige grunde til at se bort fra, at fristen er overskredet.",
     "sagsbehandlingstid"),
    ("Kommunen har derfor ikke skullet partshøre dig.", "partshøring"),
    ("En forælders indsigelse om, at kommunen ikke havde partshørt familien, blev ikke fulgt.",
     "partshøring"),
    ("Det er af dig ikke oplyst, hvilke yderligere oplysninger en udtalelse fra lægen ville give.",
     "officialprincip"),
    ("Vi har overvejet, om der manglede oplysninger, før kommunen kunne træffe afgørelse.",
     "officialprincip"),
    # an unexplained delay is about time, not about the reasons for the decision
    ("Kommunen har ikke forklaret, hvorfor sagen tog så lang tid.", "begrundelse"),
    # Ankestyrelsen's own omission in a rejected complaint is no error of the kommune
    ("Ankestyrelsen har dermed ikke taget stilling til, om du opfylder betingelserne efter "
     "servicelovens § 112, stk. 1.", "retsgrundlag"),
    # rules text and duties
    ("Kommunen skal sørge for, at sagen er tilstrækkeligt oplyst, før der træffes afgørelse.", "officialprincip"),
])
def test_traps_yield_no_error(text, label):
    assert label not in hits(text, kind="error")


def test_rules_section_never_yields_an_error():
    text = "Det er en fejl, når myndigheden ikke har partshørt parten over væsentlige oplysninger."
    assert "partshøring" in {h.rule.label for h in apply_rules([Sentence(text, 1, "regler", 0)]).hits}
    assert not hits(text, section="regler", kind="error")


def test_agreement_with_the_citizen_is_a_finding():
    text = "Vi er enige med dig i, at kommunen ikke har partshørt dig."
    assert "partshøring" in hits(text, kind="error")


@pytest.mark.parametrize("text,outcome", [
    ("Du får ikke medhold i din klage.", "stadfæstet"),
    ("Du får medhold i din klage.", "ændret"),
    ("Vi sender sagen tilbage til kommunen, som skal behandle den igen.", "hjemvist"),
    ("Vi afviser at behandle din klage, fordi den er indgivet for sent.", "afvist"),
])
def test_outcome_polarity(text, outcome):
    assert hits(text, section="afgørelse", kind="outcome") >= {outcome}
    others = {"stadfæstet", "ændret"} - {outcome}
    assert not (hits(text, section="afgørelse", kind="outcome") & others)


def test_kritik_negated():
    assert "kritik" in hits("Vi kritiserer, at kommunen ikke har overholdt fristen.", kind="kritik")
    assert not hits("Vi finder ikke grundlag for at kritisere kommunens sagsbehandling.", kind="kritik")
    assert not hits("Du mener, at vi bør kritisere kommunen.", kind="kritik")


def quoted_and_errors(letter: str) -> tuple[list[str], set[str]]:
    """The sentences read as a party's words, and the error labels of valid rule hits."""
    from classifier.analysis import analyse
    from classifier.ingest import text_document
    from classifier.segment import parse_document

    [decision] = parse_document(text_document(letter, "x"))
    quoted = [s.text for s in decision.sentences if s.quoted]
    return quoted, {h.rule.label for h in analyse(decision).rules.valid("error")}


def test_a_quoted_paragraph_is_the_partys_voice_until_the_quote_closes():
    letter = """Afgørelse

Du har klaget over kommunens afgørelse af 3. marts 2023 om førtidspension.

Din advokat skriver blandt andet:

"Hun har været i to ressourceforløb. Kommunen har ikke hørt hende over rehabiliteringsteamets indstilling." Kommunen har ikke vejledt dig om muligheden for at søge om fleksjob.
"""
    quoted, labels = quoted_and_errors(letter)
    assert quoted[0].startswith('"Hun har') and quoted[-1].endswith('indstilling."')
    assert labels == {"vejledning"}


def test_a_quotation_over_several_paragraphs_stays_the_partys_voice():
    letter = """Afgørelse

Vi er enige med kommunen i afgørelsen af 6. marts 2023 om tabt arbejdsfortjeneste.

Advokaten har i klagen blandt andet skrevet følgende:

»For det første havde kommunen ikke hjemmel til at nedsætte ydelsen.

For det andet har kommunen brugt et kriterium, som ikke findes i loven, og kommunen har derfor anvendt forkerte regler.«

Vi er ikke enige med advokaten. Kommunen har ikke partshørt dig over skolens udtalelse.
"""
    quoted, labels = quoted_and_errors(letter)
    assert quoted[0].startswith("»For det første") and quoted[-1].endswith("forkerte regler.«")
    assert labels == {"partshøring"}


def test_bullets_after_a_party_introduces_them_are_the_partys_points():
    letter = """Afgørelse

Vi er enige med kommunen i afgørelsen af 2. maj 2021 om sygedagpenge.

Din værge har anført:

- at kommunen har brugt den forkerte regel
- at han ikke fik mulighed for at udtale sig, før kommunen traf afgørelse

Vi er ikke enige. Kommunen har ikke gjort notat af telefonsamtalen den 4. april 2021.

Hvad skal kommunen gøre?

- Kommunen skal indhente en ny lægeerklæring.
"""
    quoted, labels = quoted_and_errors(letter)
    assert len(quoted) == 2 and quoted[0].startswith("at kommunen har brugt")
    assert labels == {"notatpligt", "officialprincip"}


@pytest.mark.parametrize("text,kind,label,expected", [
    # a negated consequence governs its at-clause
    ("Fejlene ændrer ikke ved resultatet, hvorfor de ikke fører til, at sagen skal behandles igen.",
     "outcome", "hjemvist", False),
    # criticism of an omission is not a governed negation
    ("Det er ikke i orden, at kommunen ikke har partshørt dig over lægeerklæringen.",
     "error", "partshøring", True),
    # "efter vores opfattelse" is Ankestyrelsen's own view, not a party's
    ("Kommunen har efter vores opfattelse ladet kvalitetsstandarden afgøre timetallet.",
     "error", "konkret_vurdering", True),
    # "I stedet" is the preposition, not the pronoun of a party's claim
    ("I stedet skrev kommunen, hvad der erfaringsmæssigt gælder for personer med samme sygdom.",
     "error", "konkret_vurdering", True),
    ("Vi følger derfor ikke din advokat i, at du ikke har fået at vide, hvordan du kunne klage.",
     "error", "vejledning", False),
])
def test_scope_of_negation_and_speaker(text, kind, label, expected):
    section = "afgørelse" if kind == "outcome" else "begrundelse"
    assert (label in hits(text, section, kind)) is expected
