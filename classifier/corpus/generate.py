"""Seeded generator of Ankestyrelsen-style decision letters for the corpus.

The generator first DRAWS the labels of every letter (outcome, partial, kritik, errors, traps,
format, law area, municipality, dates), then COMPOSES a letter that expresses exactly those
labels from the independently written variants in ``corpus/generator/*.toml``, and finally
writes ``g0001.toml`` ... in the schema of ``corpus/README.md``.

Variant strings use ``{slot}`` placeholders and mark the evidence sentence with ``<<...>>``;
the markers are removed from the letter and the sentence goes to the ``[evidence]`` table.

    python -m classifier.corpus.generate [N] [--seed S] [--out DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from classifier.corpus.load import CORPUS_DIR, DECISIONS_DIR, municipalities
from classifier.schema import ERROR_TYPES

GENERATOR_DIR = CORPUS_DIR / "generator"
VARIANT_FILES = ("letter.toml", "errors.toml", "principle.toml", "areas.toml", "people.toml")

ERRORS = ERROR_TYPES
# Keys in errors.toml are ASCII.
EKEY = {e: e.replace("ø", "oe") for e in ERRORS}
MINOR = ("sagsbehandlingstid", "partshøring", "notatpligt", "vejledning", "begrundelse", "retsgrundlag")
EMPLOYMENT = ("sygedagpenge", "kontanthjælp", "fleksjob")
CHILD = ("merudgifter_børn", "tabt_arbejdsfortjeneste")

TARGET_OUTCOMES = {"stadfæstet": 198, "hjemvist": 52, "ændret": 38, "afvist": 12}
FORMAT_SHARE = {"beskaeftigelsesudvalget": 0.12, "principle": 0.10, "letter_to_municipality": 0.18}
MIN_PER_ERROR = 34
MONTHS = ("januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september",
          "oktober", "november", "december")

TOWNS = {
    "Bornholms Regionskommune": "Rønne", "Egedal Kommune": "Ølstykke",
    "Faaborg-Midtfyn Kommune": "Ringe", "Furesø Kommune": "Farum", "Gribskov Kommune": "Helsinge",
    "Guldborgsund Kommune": "Nykøbing F", "Halsnæs Kommune": "Frederiksværk",
    "Ikast-Brande Kommune": "Ikast", "Jammerbugt Kommune": "Aabybro",
    "Københavns Kommune": "København NV", "Langeland Kommune": "Rudkøbing",
    "Lolland Kommune": "Nakskov", "Lyngby-Taarbæk Kommune": "Kongens Lyngby",
    "Læsø Kommune": "Byrum", "Mariagerfjord Kommune": "Hobro", "Morsø Kommune": "Nykøbing M",
    "Norddjurs Kommune": "Grenaa", "Nordfyns Kommune": "Bogense",
    "Odsherred Kommune": "Nykøbing Sj", "Rebild Kommune": "Støvring",
    "Ringkøbing-Skjern Kommune": "Ringkøbing", "Rudersdal Kommune": "Holte",
    "Samsø Kommune": "Tranebjerg", "Stevns Kommune": "Store Heddinge",
    "Syddjurs Kommune": "Ebeltoft", "Vesthimmerlands Kommune": "Aars", "Ærø Kommune": "Ærøskøbing",
    "Høje-Taastrup Kommune": "Taastrup", "Tårnby Kommune": "Kastrup", "Fanø Kommune": "Nordby",
}

# Laws that count as citations (classifier/data/laws.toml), as written in letters.
_LAWNAMES = {
    "serviceloven": "serviceloven", "barnets lov": "barnets lov", "aktivloven": "aktivloven",
    "sygedagpengeloven": "sygedagpengeloven", "pensionsloven": "pensionsloven",
    "beskæftigelsesindsatsloven": "beskæftigelsesindsatsloven",
    "forvaltningsloven": "forvaltningsloven", "retssikkerhedsloven": "retssikkerhedsloven",
    "offentlighedsloven": "offentlighedsloven",
    "lov om retssikkerhed og administration på det sociale område": "retssikkerhedsloven",
}
_FORMAL = {
    "serviceloven": "Lov om social service (serviceloven)",
    "barnets lov": "Barnets lov",
    "aktivloven": "Lov om aktiv socialpolitik (aktivloven)",
    "sygedagpengeloven": "Lov om sygedagpenge (sygedagpengeloven)",
    "pensionsloven": "Lov om social pension (pensionsloven)",
    "beskæftigelsesindsatsloven": "Lov om en aktiv beskæftigelsesindsats (beskæftigelsesindsatsloven)",
    "forvaltningsloven": "Forvaltningsloven",
    "retssikkerhedsloven": "Lov om retssikkerhed og administration på det sociale område (retssikkerhedsloven)",
    "offentlighedsloven": "Offentlighedsloven",
}
_NUM = r"\d+(?: [a-h](?![\wæøå]))?"
_TAIL = r"((?:, stk\. \d+)?)((?:, nr\. \d+)?)"
_CIT_A = re.compile(
    r"\b(servicelov|aktivlov|sygedagpengelov|pensionslov|beskæftigelsesindsatslov|forvaltningslov"
    r"|retssikkerhedslov|offentlighedslov)ens? (§§?) (" + _NUM + r")"
    r"(?:(-| og )(" + _NUM + r"))?" + _TAIL
)
_CIT_A2 = re.compile(r"\b(barnets lov) (§) (" + _NUM + r")" + _TAIL)
_CIT_B = re.compile(
    r"§ (" + _NUM + r")" + _TAIL + r",? i (forvaltningsloven|offentlighedsloven|barnets lov|serviceloven"
    r"|lov om retssikkerhed og administration på det sociale område)"
)


def extract_citations(text: str) -> list[str]:
    """Normalised citations of the laws in laws.toml, in order of first appearance."""
    flat = re.sub(r"\s+", " ", text)
    found: list[tuple[int, str]] = []
    for m in _CIT_A.finditer(flat):
        law = m.group(1) + "en"
        first, sep, second, stk, nr = m.group(3), m.group(4), m.group(5), m.group(6), m.group(7)
        if second:
            if sep == "-" and first.isdigit() and second.isdigit():
                nums = [str(n) for n in range(int(first), int(second) + 1)]
            else:
                nums = [first, second]
            for n in nums:
                found.append((m.start(), f"{law} § {n}"))
        else:
            found.append((m.start(), f"{law} § {first}{stk}{nr}"))
    for m in _CIT_A2.finditer(flat):
        found.append((m.start(), f"barnets lov § {m.group(3)}{m.group(4)}{m.group(5)}"))
    for m in _CIT_B.finditer(flat):
        law = _LAWNAMES[m.group(4)]
        found.append((m.start(), f"{law} § {m.group(1)}{m.group(2)}{m.group(3)}"))
    out: list[str] = []
    for _, c in sorted(found, key=lambda x: x[0]):
        if c not in out:
            out.append(c)
    return out


def load_variants() -> dict[str, dict]:
    return {name: tomllib.loads((GENERATOR_DIR / name).read_text(encoding="utf-8")) for name in VARIANT_FILES}


def fmt_date(d: dt.date) -> str:
    return f"{d.day}. {MONTHS[d.month - 1]} {d.year}"


def cap(s: str) -> str:
    return s[:1].upper() + s[1:] if s else s


def _cap_lines(text: str) -> str:
    def fix(line: str) -> str:
        m = re.match(r"^(#\s+|-\s+)?(<<)?(.*)$", line)
        pre, mark, rest = m.group(1) or "", m.group(2) or "", m.group(3)
        return pre + mark + cap(rest)

    return "\n".join(fix(line) for line in text.split("\n"))


# ----------------------------------------------------------------------------------------------
# Labels


@dataclass
class Plan:
    idx: int
    outcome: str
    law_area: str
    format: str = "modern_letter"
    partial: bool = False
    kritik: bool = False
    errors: list[str] = field(default_factory=list)
    traps: list[str] = field(default_factory=list)
    trap_types: dict[str, str] = field(default_factory=dict)  # trap -> error type it is about
    afvist_reason: str = ""
    repr: bool = False


def draw_plans(n: int, rng: random.Random) -> list[Plan]:
    scale = n / 300
    counts = {k: round(v * scale) for k, v in TARGET_OUTCOMES.items()}
    counts["stadfæstet"] += n - sum(counts.values())
    outcomes = [o for o, c in sorted(counts.items()) for _ in range(c)]
    rng.shuffle(outcomes)

    areas_all = sorted(tomllib.loads((GENERATOR_DIR / "areas.toml").read_text("utf-8"))["area"])
    emp_n = round(n * 0.26 / 3)
    others = [a for a in areas_all if a not in EMPLOYMENT]
    area_list = [a for a in EMPLOYMENT for _ in range(emp_n)]
    i = 0
    while len(area_list) < n:
        area_list.append(others[i % len(others)])
        i += 1
    rng.shuffle(area_list)
    plans = [Plan(idx=k, outcome=o, law_area=a) for k, (o, a) in enumerate(zip(outcomes, area_list))]

    # Formats.
    free = list(range(n))
    rng.shuffle(free)
    taken: set[int] = set()
    want = {f: round(share * n) for f, share in FORMAT_SHARE.items()}
    for k in free:
        p = plans[k]
        if want["beskaeftigelsesudvalget"] and p.law_area in EMPLOYMENT and p.outcome != "afvist":
            p.format = "beskaeftigelsesudvalget"
            want["beskaeftigelsesudvalget"] -= 1
            taken.add(k)
    for k in free:
        p = plans[k]
        if k in taken:
            continue
        if want["principle"] and p.outcome != "afvist":
            p.format = "principle"
            want["principle"] -= 1
        elif want["letter_to_municipality"]:
            p.format = "letter_to_municipality"
            want["letter_to_municipality"] -= 1
        else:
            continue
        taken.add(k)

    by = {o: [p for p in plans if p.outcome == o] for o in TARGET_OUTCOMES}
    # Partial: about 15 % of ændret + hjemvist.
    for o in ("ændret", "hjemvist"):
        for p in rng.sample(by[o], round(len(by[o]) * 0.16)):
            p.partial = True

    def pick(pool: tuple[str, ...], weights: tuple[float, ...], exclude: list[str]) -> str:
        choices = [(e, w) for e, w in zip(pool, weights) if e not in exclude]
        return rng.choices([c[0] for c in choices], [c[1] for c in choices])[0]

    # Hjemvist: mostly officialprincip, plus begrundelse, sometimes retsgrundlag.
    for p in by["hjemvist"]:
        first = pick(("officialprincip", "begrundelse", "retsgrundlag", "konkret_vurdering"),
                     (0.78, 0.08, 0.07, 0.07), [])
        p.errors = [first]
        for e, prob in (("begrundelse", 0.45), ("retsgrundlag", 0.15), ("konkret_vurdering", 0.15),
                        ("partshøring", 0.15), ("vejledning", 0.12), ("notatpligt", 0.1),
                        ("sagsbehandlingstid", 0.1)):
            if e not in p.errors and rng.random() < prob and len(p.errors) < 3:
                p.errors.append(e)
    # Ændret: a third merits only, the rest retsgrundlag/konkret_vurdering (+ a minor one).
    aendret = list(by["ændret"])
    rng.shuffle(aendret)
    for j, p in enumerate(aendret):
        if j < round(len(aendret) / 3):
            p.traps.append("merits_only")
            continue
        p.errors = [pick(("retsgrundlag", "konkret_vurdering", "begrundelse"), (0.45, 0.4, 0.15), [])]
        if rng.random() < 0.35:
            p.errors.append(pick(MINOR, (1, 1, 1, 1, 1, 1), p.errors))
    # Stadfæstet: some with kritik, some with a noted error without kritik.
    st = list(by["stadfæstet"])
    rng.shuffle(st)
    n_kritik_st = round(27 * scale)
    n_note = round(36 * scale)
    for j, p in enumerate(st[: n_kritik_st + n_note]):
        p.kritik = j < n_kritik_st
        p.errors = [pick(MINOR, (1.3, 1.1, 1.2, 1.2, 0.8, 0.6), [])]
        if rng.random() < (0.45 if p.kritik else 0.15):
            p.errors.append(pick(MINOR + ("konkret_vurdering",), (1.3, 1.1, 1.2, 1.2, 0.8, 0.6, 0.3), p.errors))
    # A few hjemvist/ændret letters with kritik.
    with_err = [p for p in by["hjemvist"] + by["ændret"] if p.errors]
    for p in rng.sample(with_err, min(len(with_err), round(8 * scale))):
        p.kritik = True
    # Repair: every error type in at least MIN_PER_ERROR letters.
    min_per = max(1, round(MIN_PER_ERROR * scale))
    while True:
        tally = {e: sum(e in p.errors for p in plans) for e in ERRORS}
        low = sorted((c, e) for e, c in tally.items() if c < min_per)
        if not low:
            break
        e = low[0][1]
        cands = [p for p in plans if p.errors and e not in p.errors and len(p.errors) < 3
                 and (e != "officialprincip" or p.outcome == "hjemvist")]
        if not cands:
            break
        rng.choice(cands).errors.append(e)
    for p in plans:
        p.errors = [e for e in ERRORS if e in p.errors]  # canonical order

    # Afvist reasons.
    reasons = ["for_sent", "ingen_kompetence", "tilbagekaldt", "videresendt", "ikke_afgoerelse"]
    for j, p in enumerate(by["afvist"]):
        p.afvist_reason = reasons[j % len(reasons)] if j < 10 else rng.choice(reasons)

    # Traps (never about an error type that is found in the letter).
    for p in plans:
        if p.outcome == "afvist":
            continue
        allowed = [e for e in ERRORS if e not in p.errors]
        if p.outcome == "hjemvist":
            allowed = [e for e in allowed if e != "officialprincip"]
        for trap, prob in (("negated_finding", 0.2), ("citizen_claim", 0.24), ("rules_duty", 0.15)):
            if rng.random() < prob and allowed:
                p.traps.append(trap)
                p.trap_types[trap] = rng.choice(allowed)
        p.traps = [t for t in ("negated_finding", "citizen_claim", "rules_duty", "merits_only") if t in p.traps]
        p.repr = p.format == "modern_letter" and rng.random() < 0.25
    return plans


# ----------------------------------------------------------------------------------------------
# Composition


class Composer:
    def __init__(self, plan: Plan, V: dict[str, dict], rng: random.Random):
        self.p = plan
        self.V = V
        self.rng = rng
        self.L = V["letter.toml"]
        self.E = V["errors.toml"]
        self.P = V["principle.toml"]
        self.A = V["areas.toml"]["area"][plan.law_area]
        self.C = V["areas.toml"]["common"]
        self.people = V["people.toml"]
        self.evidence: dict[str, str] = {}
        self.used: set[str] = set()
        self.slots: dict[str, str] = {}

    # -- helpers ----------------------------------------------------------------------------
    def choice(self, items: list[str], key: str | None = None) -> str:
        """Pick a variant; avoid repeating a variant already used in this letter."""
        fresh = [x for x in items if x not in self.used]
        item = self.rng.choice(fresh or items)
        self.used.add(item)
        return item

    def fill(self, template: str, extra: dict[str, str] | None = None) -> str:
        slots = dict(self.slots)
        if extra:
            slots.update(extra)
        text = template
        for _ in range(5):
            new = re.sub(r"\{(\w+)\}", lambda m: slots[m.group(1)], text)
            if new == text:
                break
            text = new
        if re.search(r"\{\w+\}", text):
            raise KeyError(f"unfilled slot in {text!r}")
        return text

    def piece(self, template: str, label: str | None = None, extra: dict[str, str] | None = None) -> str:
        """Fill a variant, record the <<evidence>> sentence under ``label`` and strip markers."""
        text = _cap_lines(self.fill(template, extra))
        for m in re.finditer(r"<<(.+?)>>", text, flags=re.S):
            if label and label not in self.evidence:
                self.evidence[label] = re.sub(r"\s+", " ", m.group(1)).strip()
        return text.replace("<<", "").replace(">>", "")

    # -- slots ------------------------------------------------------------------------------
    def setup(self, meta: dict) -> None:
        p, rng = self.p, self.rng
        third = p.format in ("letter_to_municipality", "principle")
        kommune = meta["municipality"]
        s = self.slots
        if third:
            noun = rng.choice(self.people["third_child"] if p.law_area in CHILD else self.people["third"])
            if p.law_area in CHILD:
                noun = "moren" if meta["female"] else "faren"
                if rng.random() < 0.3:
                    noun = "borgeren"
            gen = noun + "s"
            s.update(du=noun, Du=cap(noun), dig=noun, Dig=cap(noun), din=gen, Din=cap(gen), dit=gen,
                     Dit=cap(gen), dine=gen, Dine=cap(gen), sig="sig", sin="sin", sine="sine")
            repr_ = rng.choice(self.people["repr_3"])
        else:
            s.update(du="du", Du="Du", dig="dig", Dig="Dig", din="din", Din="Din", dit="dit", Dit="Dit",
                     dine="dine", Dine="Dine", sig="dig", sin="din", sine="dine")
            repr_ = rng.choice(self.people["repr"])
        s.update(repr=repr_, Repr=cap(repr_), repr_gen=repr_ + "s")
        s.update(kommune=kommune, Kommune=kommune, kommune_gen=kommune + "s", Kommune_gen_cap=kommune + "s", kommunen="kommunen",
                 Kommunen="Kommunen", kommunens="kommunens", Kommunens="Kommunens", navn=meta["citizen_name"])
        # child
        boy = rng.random() < 0.5
        s.update(barn="{din} " + ("søn" if boy else "datter"), Barn="{Din} " + ("søn" if boy else "datter"),
                 han="han" if boy else "hun", ham="ham" if boy else "hende", hans="hans" if boy else "hendes",
                 alder_barn=str(rng.randint(2, 16)), alder=str(meta["age"]))
        # One scenario per letter: the facts paragraph is drawn first, and the ydelse, the
        # reasoning paragraphs and the grounds are the variants that best fit it.
        self.fact_tpl = rng.choice(self.A["facts"])
        yd = [y.split("|") for y in self.A["ydelse"]]
        ranked = self.rank(yd, self.fact_tpl, key=lambda y: y[0] + " " + y[1])
        first = ranked[0]
        second = rng.choice(ranked[1:])
        s.update(ydelse=first[0], ydelse_ret=first[1], hjemmel=first[2], ydelse2=second[0])
        s["forkert_hjemmel"] = rng.choice([f for f in self.A["forkert"] if f != first[2]])
        m1, m2 = rng.sample(self.A["mangler"], 2)
        s.update(mangler=m1, mangler2=m2, vurdering=rng.choice(self.A["vurdering"]),
                 alternativ=rng.choice(self.A["alternativ"]), kilde=rng.choice(self.C["kilde"]),
                 diagnose=rng.choice(self.C["diagnose"]))
        d = meta["dates"]
        s.update(fi_dato=fmt_date(d["fi"]), klage_dato=fmt_date(d["klage"]), soeg_dato=fmt_date(d["soeg"]),
                 dato_b=fmt_date(d["dato_b"]), genv_dato=fmt_date(d["oversendt"]),
                 oversendt_dato=fmt_date(d["oversendt"]),
                 uger=str(max(5, (d["oversendt"] - d["klage"]).days // 7)), maaneder=str(rng.randint(5, 11)),
                 beloeb=f"{rng.randint(4, 60) * 100:,} kr. om måneden".replace(",", "."))
        s["h_resultat"] = rng.choice(self.L["heading"]["resultat"])
        yy = str(meta["decision_date"].year)[2:]
        emne_by_error = {"officialprincip": "sagens oplysning", "begrundelse": "begrundelse",
                         "konkret_vurdering": "konkret og individuel vurdering", "retsgrundlag": "hjemmel",
                         "partshøring": "partshøring"}
        emner = [emne_by_error[e] for e in p.errors if e in emne_by_error]
        emne = emner[0] if emner else rng.choice(["personkreds", "funktionsevne", "udmåling", "betingelser"])
        s.update(nr=f"{rng.randint(1, 48)}-{yy}", emne=emne)
        if p.format == "principle":
            s["Anfoerer_past"] = rng.choice(self.people["anfoerer_past"])
        if p.errors:
            s["hjemvist_grund"] = self.fill(rng.choice(self.E["kritik_kort"][EKEY[p.errors[0]]]))
        s["grund_afslag"] = self.rank(self.A["grund_afslag"], self.fact_tpl)[0]
        s["grund_medhold"] = self.rank(self.A["grund_medhold"], self.fact_tpl)[0]

    def rank(self, items: list, ref: str, key=lambda x: x) -> list:
        """Items ordered by word overlap with ``ref`` (ties broken by the letter's rng)."""
        ref_t = _toks(ref)
        scored = [(-len(_toks(key(x)) & ref_t), self.rng.random(), i) for i, x in enumerate(items)]
        return [items[i] for _, _, i in sorted(scored)]

    def anfoerer(self) -> str:
        if self.p.format == "letter_to_municipality":
            return self.rng.choice(self.people["anfoerer_3"])
        pool = list(self.people["anfoerer_du"])
        if self.p.repr:
            pool += self.people["anfoerer_repr"]
        return self.rng.choice(pool)

    # -- building blocks --------------------------------------------------------------------
    def findings(self, past: bool = False) -> list[str]:
        table = self.E["finding_past" if past else "finding"]
        return [self.piece(self.choice(table[EKEY[e]]), label=e) for e in self.p.errors]

    def kritik_block(self, past: bool = False) -> list[str]:
        e = self.rng.choice(self.p.errors)
        kort = self.fill(self.choice(self.E["kritik_kort"][EKEY[e]]))
        lead = self.piece(self.choice(self.E["kritik"]["lead_past" if past else "lead"]), label="kritik",
                          extra={"kritik_kort": kort})
        out = [lead]
        if self.p.outcome == "stadfæstet":
            out.append(self.piece(self.choice(self.E["kritik"]["no_change_past" if past else "no_change"])))
        if not past and self.rng.random() < 0.6:
            out.append(self.piece(self.choice(self.E["kritik"]["future"])))
        return [" ".join(out)]

    def trap_pieces(self, past: bool = False) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {"negated": [], "claim": [], "rule": []}
        tt = self.p.trap_types
        if "negated_finding" in tt:
            out["negated"].append(self.piece(self.choice(self.E["negated_past" if past else "negated"][EKEY[tt["negated_finding"]]])))
        if "citizen_claim" in tt:
            tbl = self.E["claim_past" if past else "claim"][EKEY[tt["citizen_claim"]]]
            out["claim"].append(self.piece(self.choice(tbl), extra={"Anfoerer": self.anfoerer()}))
        if "rules_duty" in tt:
            out["rule"].append(self.piece(self.choice(self.E["rule"][EKEY[tt["rules_duty"]]])))
        return out

    # -- letters ----------------------------------------------------------------------------
    def compose(self) -> tuple[str, list[str]]:
        if self.p.format == "principle":
            return self.compose_principle(), []
        return self.compose_letter()

    def compose_letter(self) -> tuple[str, list[str]]:
        p, rng, L = self.p, self.rng, self.L
        fmt = p.format
        ltm = fmt == "letter_to_municipality"
        H = L["heading"]
        # Opening.
        if fmt == "beskaeftigelsesudvalget":
            opening = [self.piece(self.choice(L["opening"]["bu"]))]
            if rng.random() < 0.7:
                opening.append(self.piece(self.choice(L["opening"]["bu_extra"])))
        elif ltm:
            opening = [self.piece(self.choice(L["opening"]["ltm"]))]
        else:
            key = "modern_repr" if p.repr else "modern"
            opening = [self.piece(self.choice(L["opening"][key]))]
        meta_pool = [self.piece(x) for x in L["meta"]["ltm" if ltm else "modern"]]
        rng.shuffle(meta_pool)
        if rng.random() < 0.35:
            opening.append(meta_pool.pop())

        # Result.
        o = p.outcome
        rkey = {"stadfæstet": "stadfaestet", "ændret": "aendret", "hjemvist": "hjemvist", "afvist": "afvist"}[o]
        if p.partial:
            rkey += "_delvis"
        result = [self.piece(self.choice(L["result"][rkey]), label="outcome")]

        instructions: list[str] = []
        hvad: list[str] = []
        if o == "hjemvist":
            for e in p.errors:
                instructions.append(self.fill(self.choice(self.E["instruction"][EKEY[e]])))
            instructions.append(self.fill(self.choice(self.E["instruction"]["final"])))
            instructions = [_cap_lines(x) for x in instructions]
            hvad = ["# " + self.choice(H["hvad_skal"]), "\n".join("- " + x for x in instructions)]

        traps = self.trap_pieces()
        facts_pool = [self.piece(self.fact_tpl)]
        regler_pool = self.area_rules()
        reason_pool: list[str] = []

        begr: list[str] = []
        kritik_sec: list[str] = []
        regler: list[str] = []
        if o == "afvist":
            r = L["afvist"][p.afvist_reason]
            begr.append(self.piece(self.choice(r["reason"])))
            facts_pool[0] = facts_pool[0] + " " + self.piece(self.choice(L["afvist_hjemmel"]["all"]))
            reg_pool = [self.piece(x) for x in r["regler"]]
            rng.shuffle(reg_pool)
            regler.append(reg_pool.pop())
            regler_pool = reg_pool  # padding with procedural rules only
            if rng.random() < 0.7:
                begr.append(self.piece(self.choice(L["afvist_extra"]["ltm" if ltm else "modern"])))
        elif o == "stadfæstet":
            reason_pool = [self.piece(x) for x in self.rank(self.A["afslag"], self.fact_tpl)][::-1]
            begr += traps["negated"]
            begr.append(reason_pool.pop())
            begr += traps["claim"]
            if p.errors and p.kritik:
                kritik_sec = ["# " + self.choice(H["kritik"])] + self.findings() + self.kritik_block()
            elif p.errors:
                kritik_sec = ["# " + self.choice(H["bemaerk"]), self.piece(self.choice(self.E["kritik"]["bemaerk_pre"]))]
                kritik_sec += self.findings()
                kritik_sec.append(self.piece(self.choice(self.E["kritik"]["bemaerk_post"])))
        elif o == "ændret":
            reason_pool = [self.piece(x) for x in self.rank(self.A["medhold"], self.fact_tpl)][::-1]
            if "merits_only" in p.traps:
                begr.append(self.piece(self.choice(self.E["frame"]["merits"])))
            else:
                begr += self.findings()
                if rng.random() < 0.6:
                    begr.append(self.piece(self.choice(self.E["frame"]["aendret_intro"])))
            begr += traps["negated"]
            if p.partial:
                begr.append(self.piece(self.choice(self.C["part1_intro"])) + " " + reason_pool.pop())
                afs = self.rank(self.A["afslag"], self.slots["ydelse2"] + " " + self.slots["ydelse2"])
                begr.append(self.piece(self.choice(self.C["part2_intro"])) + " " + self.piece(afs[0]))
            else:
                begr.append(reason_pool.pop())
            begr += traps["claim"]
            if p.kritik:
                kritik_sec = ["# " + self.choice(H["kritik"])] + self.kritik_block()
            begr.append(self.piece(self.choice(self.E["instruction"]["aendret_follow"])))
        else:  # hjemvist
            begr.append(self.piece(self.choice(self.E["frame"]["hjemvist_intro"])))
            f = self.findings()
            if len(f) > 1 and rng.random() < 0.5:
                begr.append(self.piece(self.choice(self.E["frame"]["findings_intro"])))
            begr += f
            if p.partial:
                afs = self.rank(self.A["afslag"], self.slots["ydelse2"] + " " + self.slots["ydelse2"])
                begr.append(self.piece(self.choice(self.C["part2_intro"])) + " " + self.piece(afs[0]))
            begr += traps["negated"] + traps["claim"]
            if p.kritik:
                kritik_sec = ["# " + self.choice(H["kritik"])] + self.kritik_block()

        if o != "afvist":
            regler.append(regler_pool.pop())
            for e in p.errors:
                if rng.random() < 0.55:
                    regler.append(self.piece(self.choice(self.E["rule"][EKEY[e]])))
            regler += traps["rule"]
        facts = [facts_pool.pop()]
        facts_pool = self.neutral_facts()

        closing = ["# " + self.choice(H["klage_ltm" if ltm else "klage"]),
                   self.piece(self.choice(L["closing"]["ltm" if ltm else "modern"]))]
        if not ltm and rng.random() < 0.5:
            closing.append(self.piece(self.choice(L["closing"]["kopi"])))
        if rng.random() < 0.4:
            closing.append(self.choice(L["closing"]["hilsen"]))

        # Padding to a drawn target length, never repeating a paragraph.
        target = rng.randint(330, 720)

        def assemble() -> str:
            h_begr = "# " + self.slots.setdefault("_h_begr", rng.choice(H["begrundelse"]))
            h_reg = "# " + self.slots.setdefault("_h_reg", rng.choice(H["regler"]))
            h_opl = "# " + self.slots.setdefault(
                "_h_opl", rng.choice(H["oplysninger_afvist" if o == "afvist" else "oplysninger"]))
            order = self.slots.setdefault("_order", str(rng.randint(0, 3)))
            head = []
            if self.slots.setdefault("_afg_first", str(rng.random() < 0.35)) == "True":
                head = ["# " + self.slots.setdefault("_h_afg", rng.choice(H["afgoerelse"]))]
            parts = head + opening + result + hvad
            sec_begr = [h_begr] + begr
            sec_reg = [h_reg] + regler
            sec_opl = [h_opl] + facts
            if order == "0":
                parts += sec_begr + kritik_sec + sec_reg + sec_opl
            elif order == "1":
                parts += sec_begr + kritik_sec + sec_opl + sec_reg
            elif order == "2":
                parts += sec_opl + sec_begr + kritik_sec + sec_reg
            else:
                parts += sec_reg + sec_begr + kritik_sec + sec_opl
            return "\n\n".join(parts + closing)

        text = assemble()
        guard = 0
        while _words(text) < target and guard < 12:
            guard += 1
            opts = []
            if facts_pool:
                opts.append("facts")
            if regler_pool and len(regler) < 3:
                opts.append("regler")
            if meta_pool and len(opening) < 3:
                opts.append("meta")
            if not opts:
                break
            k = rng.choice(opts)
            if k == "facts":
                facts.append(facts_pool.pop(0))
            elif k == "regler":
                regler.insert(1, regler_pool.pop())
            elif k == "reason":
                pos = len(begr) - (1 if o == "ændret" else 0)
                begr.insert(pos, reason_pool.pop())
            else:
                opening.append(meta_pool.pop())
            text = assemble()
        while _words(text) < 310 and regler_pool:  # last resort for short letters
            regler.insert(1, regler_pool.pop())
            text = assemble()
        while _words(text) < 310 and meta_pool:
            opening.append(meta_pool.pop())
            text = assemble()
        while _words(text) > 1150 and len(regler) > 1:
            regler.pop()
            text = assemble()
        while _words(text) > 1150 and len(facts) > 1:
            facts.pop()
            text = assemble()
        return text, instructions

    def compose_principle(self) -> str:
        p, rng, P = self.p, self.rng, self.P
        o = p.outcome
        title = "# " + self.fill(self.choice(P["title"]))
        rkey = {"stadfæstet": "stadfaestet", "ændret": "aendret", "hjemvist": "hjemvist"}[o]
        resume = [self.piece(self.choice(P["resume"][rkey]))]
        traps = self.trap_pieces(past=True)
        sags = [self.piece(self.choice(P["sagsfremstilling"]["intro"]))]
        facts_pool = [_past(self.piece(self.fact_tpl))]
        sags.append(facts_pool.pop())
        sags_end = [self.piece(self.choice(P["sagsfremstilling"]["klage"]))] + traps["claim"]
        res_key = rkey + ("_delvis" if p.partial else "")
        afg = [self.piece(self.choice(P["result_past"][res_key]), label="outcome")]
        regler_pool = self.area_rules()
        begr_rules = [regler_pool.pop()] + [self.piece(self.choice(self.E["rule"][EKEY[e]]))
                                           for e in p.errors if rng.random() < 0.4] + traps["rule"]
        begr: list[str] = []
        if o == "stadfæstet":
            begr.append(self.piece(self.choice(P["begrundelse"]["afslag"])))
        elif o == "ændret":
            if "merits_only" in p.traps:
                begr.append(self.piece(self.choice(self.E["frame"]["merits_past"])))
            begr.append(self.piece(self.choice(P["begrundelse"]["medhold"])))
        else:
            pass
        begr += self.findings(past=True)
        if o == "hjemvist":
            begr.append(self.piece(self.choice(P["begrundelse"]["hjemvist"])))
        begr += traps["negated"]
        if p.kritik:
            begr += self.kritik_block(past=True)

        target = rng.randint(320, 560)
        order = rng.choice(P["sections"]).split("|")
        love_intro = self.choice(P["love_intro"])

        def assemble() -> str:
            body = {
                "Resume": ["# Resume"] + resume,
                "Sagsfremstilling": ["# Sagsfremstilling"] + sags + sags_end,
                "Afgørelse": ["# Afgørelse"] + afg,
                "Begrundelse": ["# Begrundelse"] + begr_rules + begr,
            }
            cits = extract_citations(self._child_law("\n\n".join(sum(body.values(), []))))
            laws: dict[str, list[str]] = {}
            for c in cits:
                law, para = c.split(" § ", 1)
                laws.setdefault(law, []).append("§ " + para)
            def num(x: str) -> tuple:
                m = re.match(r"§ (\d+)", x)
                return (int(m.group(1)) if m else 0, x)

            bullets = "\n".join(f"- {_FORMAL[law]} – {', '.join(sorted(ps, key=num))}" for law, ps in laws.items())
            body["Love"] = ["# Love"] + ([love_intro] if love_intro else []) + [bullets]
            parts = [title]
            for sec in order:
                parts += body[sec]
            return "\n\n".join(parts)

        text = assemble()
        guard = 0
        facts_pool = self.neutral_facts(past=True)
        while _words(text) < target and guard < 10:
            guard += 1
            if len(resume) == 1 and rng.random() < 0.5:
                resume.append(self.piece(self.choice(P["resume_extra"]["all"])))
            elif facts_pool and (rng.random() < 0.6 or not regler_pool):
                sags.append(facts_pool.pop(0))
            elif regler_pool:
                begr_rules.append(regler_pool.pop())
            elif len(resume) == 1:
                resume.append(self.piece(self.choice(P["resume_extra"]["all"])))
            else:
                break
            text = assemble()
        return text

    def area_rules(self) -> list[str]:
        """Area rules paragraphs; the one citing the main section of {hjemmel} comes out first
        (the pool is consumed with pop())."""
        m = re.search(r"§ (\d+(?: [a-h]\b)?)", self.slots["hjemmel"])
        main = f"§ {m.group(1)}" if m else ""
        pool = [self.piece(x) for x in self.A["regler"]]
        self.rng.shuffle(pool)
        hits = [x for x in pool if re.search(r"(?:lovens|lov) " + re.escape(main) + r"(?![\d])(?! [a-h]\b)", x)]
        rest = [x for x in pool if x not in hits]
        return rest + hits[1:] + hits[:1]

    def neutral_facts(self, past: bool = False) -> list[str]:
        """Padding for Sagens oplysninger that fits any scenario: timeline and document list."""
        L, rng = self.L, self.rng
        out = [self.piece(self.choice(L["timeline"]["past" if past else "present"]))]
        if past:
            extra = [self.piece(x) for x in self.P["sagsfremstilling"]["klage"] if x not in self.used]
            rng.shuffle(extra)
            return out + extra[:2]
        items = [x for x in L["docs"]["item"]
                 if not ("lægelige" in x and "officialprincip" in self.p.errors)]
        if "notatpligt" not in self.p.errors:
            items += rng.sample(L["docs"]["item_notat"], 1)
        if "partshøring" not in self.p.errors:
            items += rng.sample(L["docs"]["item_hoering"], 1)
        picked = rng.sample(items, rng.randint(3, min(6, len(items))))
        bullets = "\n".join("- " + cap(self.fill(x)) for x in picked)
        out.append(self.piece(self.choice(L["docs"]["intro"])) + "\n" + bullets)
        rng.shuffle(out)
        return out

    def _child_law(self, text: str) -> str:
        if self.slots.get("_year", "0") >= "2024":
            text = re.sub(r"servicelovens? § 41\b", "barnets lov § 86", text)
            text = re.sub(r"servicelovens? § 42\b", "barnets lov § 87", text)
        return text


_PAST = {
    "er": "var", "har": "havde", "bor": "boede", "kan": "kunne", "bruger": "brugte", "går": "gik",
    "arbejder": "arbejdede", "ligger": "lå", "skal": "skulle", "kommer": "kom", "sveder": "svedte",
    "spilder": "spildte", "kører": "kørte", "oplever": "oplevede", "hjælper": "hjalp", "ønsker": "ønskede",
    "passer": "passede", "fungerer": "fungerede", "bliver": "blev", "vil": "ville", "kræver": "krævede",
    "gør": "gjorde", "mener": "mente",
}


def _past(text: str) -> str:
    """Present -> past tense for the facts of a principle decision (third person narrative)."""
    return re.sub(r"\b(" + "|".join(_PAST) + r")\b", lambda m: _PAST[m.group(1)], text)


_STOP = set("""
efter derfor ikke eller også være været have havde skal skulle kunne kommunen kommunens
ankestyrelsen fordi hvis over under andre anden andet der det den som til fra med for
mere meget dette denne disse deres hans hendes borgeren sagen sagens afgørelsen afgørelse
oplysningerne oplysninger behov hjælp vurderer vurdering lægger vægt betyder afgørende
kan har der som til den det var blev end men hvor når alle kun vil får fik
sig dig din dit dine han hun ham hos ved ugen året dag
""".split())


def _toks(text: str) -> set[str]:
    text = re.sub(r"\{\w+\}", " ", text.lower())
    return {w[:5] for w in re.findall(r"[a-zæøå]+", text) if len(w) >= 3 and w not in _STOP}


def _words(text: str) -> int:
    return len(re.findall(r"\w+", text))


# ----------------------------------------------------------------------------------------------
# Personal data and dates


def draw_meta(plan: Plan, rng: random.Random, people: dict, kommuner: tuple[str, ...]) -> dict:
    female = rng.random() < 0.55
    first = rng.choice(people["first_f"] if female else people["first_m"])
    name = f"{first} {rng.choice(people['last'])}"
    if rng.random() < 0.25:
        name = f"{first} {rng.choice(people['last'])} {rng.choice(people['last'])}"
        if len(set(name.split()[1:])) < 2:
            name = " ".join(name.split()[:2])
    kommune = rng.choice(kommuner)
    town = TOWNS.get(kommune, kommune.replace(" Kommune", ""))
    address = f"{rng.choice(people['street'])} {rng.randint(1, 120)}, {rng.randint(1000, 9990)} {town}"
    # Dates, working backwards from Ankestyrelsen's decision.
    sbt = "sagsbehandlingstid" in plan.errors
    for _ in range(200):
        D = dt.date(2019, 1, 10) + dt.timedelta(days=rng.randint(0, 2540))
        oversendt = D - dt.timedelta(days=rng.randint(20, 110))
        klage = oversendt - dt.timedelta(days=rng.randint(45, 110) if sbt else rng.randint(8, 27))
        late = plan.afvist_reason == "for_sent"
        fi = klage - dt.timedelta(days=rng.randint(40, 120) if late else rng.randint(7, 25))
        if plan.law_area in CHILD and fi.year != D.year:
            continue
        break
    soeg = fi - dt.timedelta(days=rng.randint(25, 150))
    dato_b = soeg + dt.timedelta(days=rng.randint(1, (fi - soeg).days - 1))
    lo, hi = (65, 91) if plan.law_area == "personlig_hjælp" else (26, 52) if plan.law_area in CHILD else (21, 63)
    age = rng.randint(lo, hi)
    by = D.year - age
    birth = dt.date(by, rng.randint(1, 12), rng.randint(1, 28))
    last4 = rng.randint(0, 999) * 10 + rng.choice([1, 3, 5, 7, 9] if not female else [0, 2, 4, 6, 8])
    cpr = f"{birth:%d%m%y}-{last4:04d}"
    return {
        "female": female, "citizen_name": name, "citizen_address": address, "municipality": kommune,
        "cpr": cpr, "age": age, "decision_date": D,
        "dates": {"fi": fi, "klage": klage, "oversendt": oversendt, "soeg": soeg, "dato_b": dato_b},
        "case_officer": rng.choice(people["officer"]),
        "case_number": f"{D.year % 100:02d}-{rng.randint(1000, 99999):06d}",
    }


# ----------------------------------------------------------------------------------------------
# Output


def _toml_str(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def _toml_list(xs: list[str]) -> str:
    return "[" + ", ".join(_toml_str(x) for x in xs) + "]"


def render_toml(rec: dict) -> str:
    lines = []
    for key in ("id", "format", "outcome"):
        lines.append(f"{key} = {_toml_str(rec[key])}")
    for key in ("partial", "kritik"):
        lines.append(f"{key} = {'true' if rec[key] else 'false'}")
    lines.append(f"errors = {_toml_list(rec['errors'])}")
    lines.append(f"law_area = {_toml_str(rec['law_area'])}")
    lines.append(f"citations = {_toml_list(rec['citations'])}")
    for key in ("municipality", "first_instance", "first_instance_date", "decision_date", "case_number"):
        lines.append(f"{key} = {_toml_str(rec[key])}")
    lines.append(f"instructions = {_toml_list(rec['instructions'])}")
    lines.append(f"traps = {_toml_list(rec['traps'])}")
    for key in ("citizen_name", "citizen_address", "cpr", "case_officer"):
        lines.append(f"{key} = {_toml_str(rec[key])}")
    text = rec["text"]
    if "'''" in text:
        raise ValueError("text contains '''")
    lines.append("text = '''\n" + text + "\n'''")
    lines.append("")
    lines.append("[evidence]")
    for key, val in rec["evidence"].items():
        lines.append(f"{_toml_str(key) if not key.isascii() else key} = {_toml_str(val)}")
    return "\n".join(lines) + "\n"


def build(plan: Plan, V: dict, rng: random.Random, kommuner: tuple[str, ...]) -> dict:
    meta = draw_meta(plan, rng, V["people.toml"], kommuner)
    comp = Composer(plan, V, rng)
    comp.setup(meta)
    comp.slots["_year"] = str(meta["decision_date"].year)
    text, instructions = comp.compose()
    text = comp._child_law(text)
    instructions = [comp._child_law(x) for x in instructions]
    text = re.sub(r"^(#+ .+)\n(?!\n)", r"\1\n\n", text, flags=re.M)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    evidence = {}
    for key in ("outcome", "kritik", *plan.errors):
        if key in comp.evidence:
            evidence[key] = comp._child_law(comp.evidence[key])
    return {
        "id": f"g{plan.idx + 1:04d}",
        "format": plan.format,
        "outcome": plan.outcome,
        "partial": plan.partial,
        "kritik": plan.kritik,
        "errors": plan.errors,
        "law_area": plan.law_area,
        "citations": extract_citations(text),
        "municipality": meta["municipality"],
        "first_instance": meta["municipality"],
        "first_instance_date": meta["dates"]["fi"].isoformat(),
        "decision_date": meta["decision_date"].isoformat(),
        "case_number": meta["case_number"],
        "instructions": instructions,
        "traps": plan.traps,
        "citizen_name": meta["citizen_name"],
        "citizen_address": meta["citizen_address"],
        "cpr": meta["cpr"],
        "case_officer": meta["case_officer"],
        "text": text,
        "evidence": evidence,
    }


def generate(n: int = 300, seed: int = 7, out_dir: Path = DECISIONS_DIR / "generated") -> list[Path]:
    """Generate ``n`` labelled letters into ``out_dir`` (old g*.toml there are removed)."""
    rng = random.Random(seed)
    V = load_variants()
    kommuner = tuple(sorted(municipalities()))
    plans = draw_plans(n, rng)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in sorted(out_dir.glob("g*.toml")):
        old.unlink()
    paths = []
    for plan in plans:
        rec = build(plan, V, random.Random(f"{seed}-{plan.idx}"), kommuner)
        path = out_dir / f"{rec['id']}.toml"
        path.write_text(render_toml(rec), encoding="utf-8")
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", nargs="?", type=int, default=300)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=DECISIONS_DIR / "generated")
    args = ap.parse_args(argv)
    paths = generate(args.n, args.seed, args.out)
    print(f"wrote {len(paths)} letters to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
