"""Rules: outcome, kritik and error patterns from data files, with polarity and speaker.

Patterns live in ``classifier/data/patterns/*.toml``; each rule has a label, a kind
(outcome | kritik | error | partial), a pattern in a small token syntax compiled to a spaCy
``Matcher`` pattern, a strength and an example sentence (a test runs every example):

    word      the lower-case word          ~word     any form of the lemma
    a|b|~c    one of several               *         any one token, optional
    =word     exactly this form            !a|b      any token except these
    {0,4}     up to four tokens of anything but a citation marker (jf.)

Every match is read in its sentence context (``SentenceContext``):
- *negation*: a negator in the clause before the match, or inside the match but not written in
  the pattern, flips it ("der mangler ikke oplysninger");
- *speaker*: the citizen's or a representative's claim ("Du mener, at ...", "I klagen er det
  gjort gældende ...") is not a finding unless Ankestyrelsen agrees ("Vi er enige med dig i ...");
- *rejection*: "Vi er ikke enige i, at ...", "Det er ikke korrekt, at ..." cancel what follows;
- *rules text*: sentences of the Regler/Love sections and present-tense duties ("Kommunen skal
  sørge for ...") describe duties, not findings, and never yield an error or kritik on their own.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from spacy.attrs import LOWER, NORM
from spacy.matcher import Matcher
from spacy.tokens import Doc

from classifier.nlp import get_nlp

PATTERN_DIR = Path(__file__).parent / "data" / "patterns"
NEGATORS = {"ikke", "ingen", "intet", "aldrig", "hverken", "ej", "ikkе"}
CLAUSE_BREAKS = {",", ";", ":", "men", "fordi", "selvom", "hvorimod", "–", "-"}
#: Sections whose sentences describe rules, facts or parties' claims, not Ankestyrelsen's findings.
NON_FINDING_SECTIONS = {"regler", "love", "klagevejledning", "sagens_oplysninger", "sagsfremstilling"}

def _cue(pattern: str) -> re.Pattern:
    """A sentence-cue pattern, written in lower case and searched in ``text.lower()``:
    ``re.IGNORECASE`` defeats the regex engine's literal scan and made the cues ~3x slower."""
    if re.search(r"[A-ZÆØÅ]", re.sub(r"\\[A-Za-z]", "", pattern)):
        raise ValueError(f"cue pattern must be lower-case: {pattern[:60]!r}")
    return re.compile(pattern)


_CLAIM_RE = _cue(
    # "i" only as the pronoun ("I har anført"), not the preposition ("I stedet skrev kommunen")
    r"(?<![\wæøå])(du|i(?=\s+(?:har|havde|mener|mente|anfører|anførte|skriver|skrev|gør|gjorde|påstår|"
    r"påstod|finder|fandt|synes|er|var|henviser|henviste|fremhæver|peger|bemærker|klager|klagede)\b)|"
    r"din\s+\w+|jeres\s+\w+|(?:borgerens|klagers|hans|hendes)\s+\w+|klager(?:en)?|borgeren|partsrepræsentanten|advokaten|"
    r"repræsentanten|værgen|forældrene|moren|faren|han|hun|\[navn\]|advokat\s+\[navn\])"
    r"(?:\s+(?!at\b|men\b)[\wæøå\[\]]+){0,5}?\s+"
    r"(mener|mente|anfører|anførte|anført|skriver|skrev|skrevet|oplyser|oplyste|oplyst|gør\s+gældende|"
    r"gjorde\s+(?:\w+\s+)?gældende|gjort\s+(?:\w+\s+)?gældende|påstår|påstod|klager\s+over|klaget\s+over|klagede\s+over|"
    r"finder|fandt|synes|er\s+uenig|var\s+uenig|henviser|henviste|fremhæver|fremhævede|"
    r"peger\s+på|pegede\s+på|bemærker|bemærkede|argumenterer)"
    r"|\bi\s+(?:din\s+klage|jeres\s+klage|klagen(?:\s+til\s+(?:os|ankestyrelsen))?|høringssvaret|"
    r"bemærkningerne)\s+(?:er\s+det|har\s+\w+|blev\s+det|skriver|anfører|gøres\s+det|mener)"
    r"|\bdet\s+(?:er|blev)\s+(?:\w+\s+)?(?:i\s+klagen\s+)?(?:gjort\s+gældende|anført|oplyst|skrevet)"
    r"|\b(?:anført|anfører|gjort\s+gældende|skrevet|oplyst)\s+i\s+(?:klagen|din\s+klage|høringssvaret|"
    r"bemærkningerne|mailen|brevet)"
    r"|\b(?:efter|ifølge)\s+(?:din|dit|jeres|klagers|borgerens|"
    r"(?!vores\b|ankestyrelsens\b|udvalgets\b|beskæftigelsesudvalgets\b)\w+s)\s+(?:opfattelse|mening|advokat|"
    r"partsrepræsentant|repræsentant)"
    r"|\bdin\s+(?:klage|advokat|partsrepræsentant|repræsentant|værge)\b.*\b(?:anfører|anført|mener|skriver)"
    r"|\b(?:(?!ankestyrelsens\b|udvalgets\b|beskæftigelsesudvalgets\b)\w+s|dit|dine|jeres|hans|hendes)"
    r"\s+(?:synspunkt|opfattelse|argument|indsigelse|indvending|klagepunkt|påstand|"
    r"anbringende)\w*"
    r"\s*(?:om\b|,?\s*at\b|går\s+ud\s+på)")
#: First person singular is never Ankestyrelsen's voice ("vi"): a quoted party or representative.
_FIRST_PERSON_RE = _cue(r"\b(?:jeg|mig|min\s+klient|mine\s+klienter)\b")
_INVERTED_CLAIM_RE = _cue(
    r",\s*(?:mener|skriver|anfører|oplyser|påstår|siger|fremhæver)\s+(?:du|i|klager(?:en)?|borgeren|"
    r"din\s+\w+|advokaten|repræsentanten|partsrepræsentanten|han|hun)\b")
_AGREE_RE = _cue(
    r"\b(vi|ankestyrelsen|beskæftigelsesudvalget|udvalget)\s+(?:er|var)\s+enig(?:e)?\s+(?:med\s+\w+\s+)?i|"
    r"\b(?:du|i|klager|borgeren)\s+har\s+ret\s+i|\bvi\s+giver\s+(?:dig|jer)\s+ret\s+i|"
    r"\bdet\s+er\s+(?:vi|ankestyrelsen)\s+enig(?:e)?\s+i")
#: "Vi mener ikke, at ..." negates the clause that follows: a rule reading that clause is off.
_RAISED_RE = _cue(
    r"\b(vi|ankestyrelsen|beskæftigelsesudvalget|udvalget)\s+(?:vurderer|vurderede|finder|fandt|mener|"
    r"mente)\s+(?:\w+\s+)?ikke\b"
    # "Vi kan ikke se, at kommunen har anvendt forkerte regler": what follows is not found
    r"|\b(?:vi|ankestyrelsen|udvalget)\s+(?:kan|kunne)\s+(?:\w+\s+)?ikke\s+se\s*,?\s*at\b")
#: Word-initial alternatives share one \b(?:...) group: the regex engine then scans for their
#: possible first letters instead of trying every alternative at every position (7x faster).
_REJECT_RE = _cue(
    r"\b(?:"
    r"(?:vi|ankestyrelsen|beskæftigelsesudvalget|udvalget)\s+(?:er|var)\s+ikke\s+enig(?:e)?|"
    r"(?:vi|ankestyrelsen|beskæftigelsesudvalget|udvalget)\s+(?:kan|kunne|har|havde|ser|så|finder|fandt)\s+"
    r"(?:\w+\s+)?ikke\s+(?:fundet\s+|set\s+|haft\s+)?(?:noget\s+|tilstrækkeligt\s+)?(?:grundlag|anledning|grund|holdepunkt\w*|følge|"
    r"give\s+(?:\w+\s+){0,2}(?:medhold|ret))|"
    r"det\s+er\s+ikke\s+(?:korrekt|rigtigt|tilfældet|vores\s+vurdering)|"
    r"der\s+er\s+ikke\s+(?:grundlag|holdepunkter|noget\s+grundlag)\s+for\s+at\s+(?:antage|mene|sige|konkludere|fastslå|"
    r"give\s+(?:\w+\s+){0,2}ret)|"
    r"(?:vi|ankestyrelsen)\s+(?:er|var)\s+uenig|ikke\s+enige\s+i|"
    # "Vi følger derfor ikke din advokat i, at ...", "Vi kan ikke følge værgen i ..."
    r"(?:vi|ankestyrelsen|beskæftigelsesudvalget|udvalget)\s+(?:(?:følger|fulgte)\s+(?:\w+\s+)?ikke|"
    r"(?:kan|kunne)\s+(?:\w+\s+)?ikke\s+følge)\s+(?:dig|jer|din|dit|jeres|klager\w*|borgeren|"
    r"advokaten|repræsentanten|partsrepræsentanten|værgen|moren|faren|forældrene)\b|"
    # agreeing with the municipality: what follows is its (right) position, not an error
    r"(?:vi|ankestyrelsen|beskæftigelsesudvalget|udvalget)\s+(?:er|var)\s+(?:\w+\s+)?enig(?:e)?\s+med\s+"
    r"(?:kommunen|jobcentret|jobcenteret|forvaltningen)\s+i\b|ikke\s+grundlag\s+for\s+at\s+(?:antage|mene|konkludere)|"
    r"uanset\s+(?:om|at)\b|hvis\b|såfremt\b|i\s+fald\b|om\s+kommunen\s+har\b|"
    r"(?:kan|kunne)\s+(?:dog\s+)?se\s+bort\s+fra\b|"
    r"ikke\s+(?:pligt|krav|nødvendigt|påkrævet)\s+(?:til|om|at)\b|"
    r"ikke\s+(?:\w+\s+){0,2}(?:nødvendigt|påkrævet)\b|"
    r"ikke\s+(?:nogen\s+|andre\s+)?bemærkninger\s+til\b|"
    r"ikke\s+(?:kan\s+|kunne\s+)?tiltræde[sr]?\b|kan\s+ikke\s+tiltrædes\b|kunne\s+ikke\s+tiltrædes\b|"
    r"se\s+bort\s+fra\b|særlige\s+grunde\b|klagefrist\w*|realitetsbehandl\w*|"
    r"(?:blev|bliver|kan|kunne)\s+ikke\s+(?:fulgt|følges|tiltrådt|imødekommet|imødekommes)\b|"
    # hypotheses: "Vi har overvejet, om ..."
    r"(?:vi|ankestyrelsen|udvalget)\s+(?:har\s+)?(?:også\s+)?(?:overvejet|overvejer|vurderet|undersøgt)"
    r"\s*,?\s+om\b|"
    # no duty in this case: "Kommunen har derfor ikke skullet partshøre dig"
    r"ikke\s+(?:skullet|behøvet|haft\s+pligt|været\s+forpligtet)\b|"
    # the citizen is the one who has not informed: "Det er af dig ikke oplyst, hvilke ..."
    r"af\s+(?:dig|jer|borgeren|klager(?:en)?|advokaten|partsrepræsentanten)\s+(?:ikke\s+)?"
    r"(?:oplyst|anført|dokumenteret|godtgjort|sandsynliggjort)\b)|"
    # general statements: "Når en læge forventer ...", a rule that admits no exception: "Den kan
    # ikke fraviges efter en konkret vurdering"
    r"^\s*(?:når\s+(?:en|et|man|der|borgeren|en\s+borger)\b|"
    r"(?:den|det|reglen|grænsen|kravet|beløbet|fristen|betingelsen)\s+kan\s+ikke\s+fraviges\b)")
#: A contrast that opens a new clause ends a rejection's reach.
_CONTRAST_RE = _cue(r"\bmen\b|,\s*og\s+(?:kommunen|jobcentret|jobcenteret|forvaltningen|vi|det|der)\b")
_REPORTED_RE = _cue(
    r"\b(?:kommunen|jobcentret|udbetaling\s+danmark|forvaltningen|[a-zæøå][\wæøå-]+\s+kommune)\s+"
    r"(?:har\s+|havde\s+)?(?:\w+\s+){0,2}?(?:ændret|ændrede|givet|gav|genvurderet|genvurderede|"
    r"fastholdt|fastholder|omgjort|omgjorde|bevilget|bevilgede|truffet|traf)\b"
    r"|\b(?:har|havde)\s+kommunen\s+(?:\w+\s+)?(?:ændret|givet|truffet|genvurderet|fastholdt|omgjort)\b")
_DUTY_RE = _cue(
    r"^\s*(?:kommunen|myndigheden|myndighederne|forvaltningen|jobcentret|udbetaling\s+danmark|man|"
    r"en\s+myndighed|ankestyrelsen|der|det|afgørelsen|en\s+afgørelse|begrundelsen)\s+(?:skal|må|bør)\s"
    r"(?!have\b|ikke\s+have\b)"
    r"|^\s*(?:det\s+følger\s+af|efter|ifølge)\s+[^,]{0,60}(?:§|loven|reglerne|princippet)[^,]{0,40},\s*at\b"
    r"|^\s*(?:det\s+er\s+et\s+krav|kravet)\b"
    r"|\bsom\s+udgangspunkt\s+skal\b|\bskal\s+(?:altid|som\s+hovedregel)\b")


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str  # outcome | kritik | error | partial
    label: str
    pattern: str
    strength: float = 1.0
    example: str = ""
    #: "finding": needs Ankestyrelsen's voice; "any": counts wherever it stands (outcomes).
    voice: str = "finding"
    #: sections the rule is limited to (empty: all)
    sections: tuple[str, ...] = ()
    negatable: bool = True
    #: outcome rules: the label this hit belongs to when the letter also remits the case
    with_remittal: str | None = None
    #: a lower-case cue that, found in the sentence, makes the hit no finding (e.g. "ikke hjemmel
    #: til at give hjælp" states the law against the citizen; "ikke hjemmel til at standse
    #: udbetalingen" finds the municipality without authority); tested on ``counter_example``
    unless: re.Pattern | None = None
    counter_example: str = ""


@dataclass
class Hit:
    rule: Rule
    sentence_index: int
    text: str
    page: int | None
    section: str | None
    negated: bool = False
    claim: bool = False
    rejected: bool = False
    duty: bool = False

    @property
    def valid(self) -> bool:
        """True when the hit asserts its label as Ankestyrelsen's own finding."""
        if self.negated or self.rejected:
            return False
        if self.rule.kind in ("error", "kritik"):
            if self.claim or self.duty or self.section in NON_FINDING_SECTIONS:
                return False
        elif self.rule.kind in ("outcome", "partial") and (
                self.claim or self.section in ("regler", "love", "klagevejledning")):
            return False
        return True


@dataclass
class RuleResult:
    hits: list[Hit] = field(default_factory=list)

    def valid(self, kind: str | None = None, label: str | None = None) -> list[Hit]:
        return [h for h in self.hits if h.valid and (kind is None or h.rule.kind == kind)
                and (label is None or h.rule.label == label)]


def _token_spec(tok: str) -> dict:
    """A token matches when its lower-case form or its lemma is one of the alternatives.

    Lemmas are a function of the lower-case form, so matching the token's lemma against the
    alternatives *and* their lemmas covers both (and uses spaCy's fast built-in attribute)."""
    from classifier.nlp import lemma_of

    if tok.startswith("!"):  # any token but these (and their lemmas): "hvorfor !sagen|det"
        alts = {a.lstrip("!~") for a in tok.split("|")}
        return {"NORM": {"NOT_IN": sorted(alts | {lemma_of(a) for a in alts})}}
    if tok.startswith("="):  # exact lower-case forms only: "=begrundet" is not "begrunde"
        forms = sorted(a.lstrip("=") for a in tok.split("|"))
        return {"LOWER": {"IN": forms}} if len(forms) > 1 else {"LOWER": forms[0]}
    alts = {a.lstrip("~") for a in tok.split("|")}
    # a number may carry the sentence's full stop ("§ 22."): match both forms
    keys = sorted(alts | {lemma_of(a) for a in alts} | {a + "." for a in alts if a.isdigit()})
    return {"NORM": {"IN": keys}} if len(keys) > 1 else {"NORM": keys[0]}


_GAP_STOPS = ("jf", "jf.", "jævnfør")


def compile_pattern(pattern: str) -> list[dict]:
    spec: list[dict] = []
    for tok in pattern.split():
        if tok == "*":
            spec.append({"OP": "?"})
        elif re.fullmatch(r"\{\d+,\d+\}", tok):
            spec.append({"OP": tok})
        else:
            spec.append(_token_spec(tok))
    return spec


def _unless_cue(value: str | None, cues: dict[str, str], path: Path) -> re.Pattern | None:
    """A rule's exception: the name of a cue in the file's [cues] table, or a regex."""
    if not value:
        return None
    if re.fullmatch(r"[a-z_]+", value):
        if value not in cues:
            raise ValueError(f"{path.name}: unknown cue {value!r} in a rule's unless")
        value = cues[value]
    return _cue(value)


@lru_cache(maxsize=1)
def load_rules() -> tuple[Rule, ...]:
    rules: list[Rule] = []
    for path in sorted(PATTERN_DIR.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        cues = data.get("cues", {})  # named `unless` cues of this file
        defaults = {k: v for k, v in data.items() if k not in ("rule", "cues")}
        for k, entry in enumerate(data.get("rule", [])):
            merged = {**defaults, **entry}
            rules.append(Rule(
                id=f"{path.stem}:{k}", kind=merged["kind"], label=merged["label"],
                pattern=merged["pattern"], strength=float(merged.get("strength", 1.0)),
                example=merged.get("example", ""), voice=merged.get("voice", "finding"),
                sections=tuple(merged.get("sections", ())),
                negatable=bool(merged.get("negatable", True)),
                with_remittal=merged.get("with_remittal"),
                unless=_unless_cue(merged.get("unless"), cues, path),
                counter_example=merged.get("counter_example", ""),
            ))
    return tuple(rules)


@dataclass
class _Compiled:
    rule: Rule
    required: list[frozenset[str]]  # every non-optional token: the keys one of which must occur
    matcher: Matcher


_COMMON_WORDS = frozenset(
    "ikke kommune kommunen have har havde være er var at og i på til om af for den det de en et "
    "sig dig du vi skal kan kunne med der som sag sagen afgørelse afgørelsen , . ud fra efter "
    "ingen intet hvordan hvorfor hvad hvilke".split())


@lru_cache(maxsize=1)
def _compiled() -> tuple[list[_Compiled], dict[str, list[int]]]:
    """One small Matcher per rule, plus an index from a key word to the rules that need it.

    spaCy evaluates set predicates ("NORM IN [...]") in Python, so running all rules on every
    sentence is slow; a rule is only run on a sentence that holds a word of each of its
    required tokens (a set test), which skips almost all (sentence, rule) pairs."""
    nlp = get_nlp()
    compiled: list[_Compiled] = []
    index: dict[str, list[int]] = {}
    for rule in load_rules():
        spec = compile_pattern(rule.pattern)
        required = []
        for tok in spec:
            if "OP" in tok and len(tok) == 1:
                continue
            attr = tok.get("NORM", tok.get("LOWER"))
            if isinstance(attr, dict) and "NOT_IN" in attr:
                continue  # a negative token requires no particular word
            keys = attr["IN"] if isinstance(attr, dict) else [attr]
            required.append(frozenset(keys))
        matcher = Matcher(nlp.vocab, validate=True)
        matcher.add(rule.id, [spec])
        compiled.append(_Compiled(rule, required, matcher))
        # index the rule under its rarest required token: a set holding a very common word
        # ("ikke", "kommunen") would make it a candidate for most sentences
        anchor = min(required, key=lambda keys: (bool(keys & _COMMON_WORDS), len(keys)))
        for key in anchor:
            index.setdefault(key, []).append(len(compiled) - 1)
    return compiled, index


def _literal_negators(rule: Rule) -> int:
    """Pattern tokens that match a negator ("ikke|ingen|uden" is one token: one negator)."""
    return sum(1 for t in rule.pattern.split()
               if any(a.lstrip("~=") in NEGATORS for a in t.split("|")))


_GOVERNORS = frozenset("fører førte føre ført medfører medførte betyder betød betyde indebærer "
                       "indebar anledning".split())


def _clause_negated(doc: Doc, start: int, end: int, rule: Rule) -> bool:
    """Odd number of negators in the clause before the match plus inside it (beyond the ones
    the pattern itself spells out)."""
    k = start - 1
    before = 0
    while k >= 0 and doc[k].lower_ not in CLAUSE_BREAKS and start - k <= 8:
        if doc[k].lower_ in NEGATORS:
            before += 1
        k -= 1
    if k >= 1 and doc[k].lower_ == "," and k + 1 < start and doc[k + 1].lower_ == "at":
        # a negated consequence governs its at-clause: "..., hvorfor de ikke fører til, at
        # sagen skal behandles igen"; "Det betyder ikke, at kommunen skal ..."
        matrix = [t.lower_ for t in doc[max(k - 8, 0):k]]
        if any(w in NEGATORS for w in matrix) and any(w in _GOVERNORS for w in matrix):
            before += 1
    inside = sum(1 for t in doc[start:end] if t.lower_ in NEGATORS) - _literal_negators(rule)
    return (before + max(inside, 0)) % 2 == 1


#: Words that mark a statement of deficiency; a sentence without any of them does not state a
#: case-handling error (e.g. "Kommunen har foretaget en konkret og individuel vurdering"; "ikke
#: blot/kun/alene" is "not only", no deficiency).
DEFICIENCY_RE = _cue(
    r"\b(?:ikke(?!\s+(?:blot|bare|kun|alene)\b)|ingen|intet|uden|mangle\w*|manglende|mangelfuld\w*|utilstrækkelig\w*|"
    r"burde|skulle\s+have|skulle\s+være|fejl\w*|forkert\w*|urigtig\w*|fejlagtig\w*|kritik\w*|"
    r"kritiser\w*|strid|tilsidesat\w*|tilsidesætte\w*|overtrådt|overtræde\w*|overskre\w*|"
    r"for\s+lang\w*|for\s+sent|urimelig\w*|savne\w*|ufuldstændig\w*|fast\w*\s+(?:grænse|regel|loft)|"
    r"under\s+regel|skematisk\w*|loft|beklage\w*|uheldig\w*|ulovlig\w*|ugyldig\w*|"
    r"forsømt|forsømme\w*|undladt|undlod|kortfattet|generel\w*\s+(?:begrundelse|vurdering))\b")


class SentenceContext:
    """Speaker, rejection and duty cues of one sentence, computed once. ``reported``: the
    sentence tells what the municipality did ("Kommunen har givet dig medhold")."""

    __slots__ = ("text", "low", "claim_end", "agree", "reject_end", "raised_end", "duty",
                 "reported", "deficiency")

    def __init__(self, text: str, quoted: bool = False):
        self.text = text
        self.low = text = text.lower()  # the cue patterns are lower-case (see _cue)
        m = _CLAIM_RE.search(text)
        self.claim_end = m.end() if m else -1
        if quoted or _INVERTED_CLAIM_RE.search(text) or _FIRST_PERSON_RE.search(text):
            self.claim_end = 0  # the whole sentence is someone else's
        self.agree = bool(_AGREE_RE.search(text))
        r = _REJECT_RE.search(text)
        self.reject_end = r.end() if r else -1
        r = _RAISED_RE.search(text)
        self.raised_end = r.end() if r else -1
        self.reported = bool(_REPORTED_RE.search(text))
        self.deficiency = bool(DEFICIENCY_RE.search(text))
        self.duty = bool(_DUTY_RE.search(text)) and not re.search(
            r"\b(skulle|burde|havde)\s+(?:\w+\s+){0,3}have\b|\bhar\s+ikke\b|\bikke\s+har\b|"
            r"lægges\s+til\s+grund|\bkonstatere|\bfastslå|\bikke\s+(?:er\s+)?sket\b|"
            r"\bdet\s+har\s+kommunen\s+ikke\b", text)

    def rejected_to_end(self) -> bool:
        """A rejection cue reaches the end of the sentence (no contrast after it)."""
        return self.reject_end >= 0 and not _CONTRAST_RE.search(self.low, self.reject_end)

    def rejects(self, start: int, end: int) -> bool:
        """A rejection or "Vi mener ikke, at" cue governs the span [start, end) of the text: it
        stands before it (or inside it) and no contrast ("..., men kommunen burde have ...")
        opens a new clause between them."""
        for cue_end, limit in ((self.reject_end, end), (self.raised_end, start)):
            if 0 <= cue_end <= limit and not (
                    cue_end < start and _CONTRAST_RE.search(self.low, cue_end, start)):
                return True
        return False


def _keys(doclike) -> set[str]:
    """Lemmas and lower-case forms of a sentence (read as arrays: no Token objects)."""
    strings = doclike.doc.vocab.strings
    arr = doclike.to_array([NORM, LOWER]) if hasattr(doclike, "to_array") else None
    if arr is None:
        return {t.norm_ for t in doclike} | {t.lower_ for t in doclike}
    return {strings[int(x)] for x in set(arr.ravel().tolist())}


def apply_rules(sentences, docs: list[Doc] | None = None,
                contexts: list[SentenceContext] | None = None) -> RuleResult:
    """Run every rule over ``sentences`` (objects with text/page/section/index)."""
    compiled, index = _compiled()
    if docs is None:
        docs = list(get_nlp().pipe(s.text for s in sentences))
    result = RuleResult()
    for k, (sent, doc) in enumerate(zip(sentences, docs)):
        keys = _keys(doc)
        candidates = sorted({i for key in keys for i in index.get(key, ())})
        ctx = None
        for i in candidates:
            c = compiled[i]
            rule = c.rule
            if rule.sections and sent.section not in rule.sections:
                continue
            if not all(req & keys for req in c.required):
                continue
            # a match never spans a citation marker: in "sagen var ikke oplyst, jf. § 10" the
            # cited paragraph is not the object of the words before it (checked here, not in
            # the gap tokens, where a set predicate on every token would slow all rules)
            matches = [m for m in c.matcher(doc)
                       if not any(t.lower_ in _GAP_STOPS for t in doc[m[1]:m[2]])]
            if not matches:
                continue
            if ctx is None:
                ctx = contexts[k] if contexts is not None else SentenceContext(
                    sent.text, getattr(sent, "quoted", False))
            _, start, end = matches[0]
            offset = getattr(doc, "start_char", 0)  # a sentence Span inside a paragraph Doc
            char_start = doc[start].idx - offset
            char_end = doc[end - 1].idx + len(doc[end - 1].text) - offset
            claim = ctx.claim_end >= 0 and ctx.claim_end <= char_start + 1 and not ctx.agree
            if rule.kind == "outcome" and ctx.reported:
                claim = True  # "Kommunen har givet dig medhold": not our result
            # a rejection cue before (or inside) the match: "ikke pligt til at partshøre"
            rejected = rule.kind != "outcome" and (
                ctx.rejects(char_start, char_end)
                or (rule.unless is not None and rule.unless.search(ctx.low) is not None))
            negated = rule.negatable and _clause_negated(doc, start, end, rule)
            duty = ctx.duty and rule.kind in ("error", "kritik") and rule.voice != "instruction"
            result.hits.append(Hit(rule, sent.index, sent.text, sent.page, sent.section,
                                   negated=negated, claim=claim, rejected=rejected, duty=duty))
    return result

