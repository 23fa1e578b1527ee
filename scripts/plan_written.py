"""Plan the individually written corpus letters: one brief per letter, seeded.

The briefs (label targets plus a voice/length hint) were handed to writers working in parallel;
each wrote its letters one by one from its briefs. Re-running prints the same plan.

    python scripts/plan_written.py --n 160 --batches 6 > /tmp/plan.json
    # second round (w161-w280, six more writers who never read the first letters):
    python scripts/plan_written.py --n 120 --batches 6 --seed 2027 --start 161 > /tmp/plan2.json
    # third round (w312-w351): legal basis weighted up, as findings and as traps
    python scripts/plan_written.py --n 40 --batches 5 --seed 2028 --start 312 \
        --focus retsgrundlag > /tmp/plan3.json
"""

from __future__ import annotations

import argparse
import json
import random

AREAS = [
    "merudgifter_børn", "tabt_arbejdsfortjeneste", "personlig_hjælp", "socialpædagogisk_støtte",
    "bpa", "ledsageordning", "merudgifter_voksne", "botilbud", "hjælpemidler", "støtte_til_bil",
    "boligindretning", "kontanthjælp", "sygedagpenge", "førtidspension", "fleksjob",
]
EMPLOYMENT = {"kontanthjælp", "sygedagpenge", "fleksjob"}
MINOR = ["partshøring", "sagsbehandlingstid", "notatpligt", "vejledning", "konkret_vurdering"]
CORE = ["officialprincip", "begrundelse", "retsgrundlag"]
VOICES = [
    "short and plain, few sections, close to the 350-word minimum",
    "long and thorough (800-1100 words), detailed Sagens oplysninger",
    "medium length, bullets in the result, careful legal tone",
    "medium length, sections in a less usual order (Regler before Begrundelse)",
    "compact, many short sentences, plain-language style of recent letters",
    "long sentences, older formal style with 'således' and passive voice",
    "medium, with a representative (advokat or partsrepræsentant) whose arguments are answered",
    "medium, the citizen's complaint quoted at some length and answered point by point",
]
REPRESENTATIVES = ["none", "none", "none", "advokat", "forælder", "partsrepræsentant", "værge"]
MUNICIPALITIES = open("classifier/data/kommuner.txt", encoding="utf-8").read().split("\n")


def plan(n: int, seed: int, start: int = 1, focus: str | None = None) -> list[dict]:
    rng = random.Random(seed)
    weights = {"stadfæstet": 0.56, "hjemvist": 0.20, "ændret": 0.16, "afvist": 0.08}
    outcomes = [o for o, w in weights.items() for _ in range(round(w * n))]
    outcomes += ["stadfæstet"] * (n - len(outcomes))
    rng.shuffle(outcomes)
    briefs = []
    for i in range(n):
        outcome = outcomes[i]
        area = AREAS[i % len(AREAS)]
        year = rng.randint(2019, 2025)
        fmt = rng.choices(
            ["modern_letter", "beskaeftigelsesudvalget", "principle", "letter_to_municipality"],
            [60, 14 if area in EMPLOYMENT else 0, 12, 16],
        )[0]
        errors: list[str] = []
        kritik = False
        traps: list[str] = []
        partial = False
        if outcome == "hjemvist":
            errors = ["officialprincip"] if rng.random() < 0.8 else []
            if rng.random() < 0.5:
                errors.append("begrundelse")
            if rng.random() < 0.3:
                errors.append("retsgrundlag")
            if rng.random() < 0.6:
                errors.append(rng.choice(MINOR))
            if not errors:
                errors = [rng.choice(CORE)]
            kritik = rng.random() < 0.2
            partial = rng.random() < 0.2
        elif outcome == "ændret":
            if rng.random() < 0.35:
                traps.append("merits_only")
            else:
                errors = [rng.choice(["konkret_vurdering", "retsgrundlag", "officialprincip",
                                      "begrundelse", "konkret_vurdering"])]
                if rng.random() < 0.4:
                    errors.append(rng.choice(MINOR + CORE))
            kritik = rng.random() < 0.2
            partial = rng.random() < 0.3
        elif outcome == "stadfæstet":
            if rng.random() < 0.24:
                kritik = True
                errors = [rng.choice(MINOR + MINOR + ["begrundelse", "retsgrundlag"])]
                if rng.random() < 0.3:
                    errors.append(rng.choice(MINOR))
        else:
            if rng.random() < 0.1:
                kritik = True
                errors = ["sagsbehandlingstid"]
        if focus and outcome != "afvist":
            # A focused round: half the letters find the error, the rest are its traps
            # (the question is discussed and the duty found met, or a party's claim rejected).
            if rng.random() < 0.5 and "merits_only" not in traps:
                errors.append(focus)
                kritik = kritik or (outcome == "stadfæstet")
            elif focus not in errors:
                traps.append(f"{focus}_trap")
        errors = list(dict.fromkeys(errors))
        if rng.random() < 0.42:
            traps.append(rng.choice(["negated_finding", "citizen_claim", "rules_duty",
                                     "citizen_claim", "negated_finding"]))
        if fmt == "principle" and year > 2022:
            year = rng.randint(2019, 2022)
        briefs.append({
            "id": f"w{i + start:03d}",
            "format": fmt,
            "outcome": outcome,
            "partial_or_multi_part": partial,
            "kritik": kritik,
            "errors": errors,
            "law_area": area,
            "decision_year": year,
            "municipality": rng.choice(MUNICIPALITIES),
            "traps": sorted(set(traps)),
            "voice": rng.choice(VOICES),
            "representative": rng.choice(REPRESENTATIVES),
        })
    return briefs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=160)
    ap.add_argument("--batches", type=int, default=6)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--start", type=int, default=1, help="number of the first id (w<start>)")
    ap.add_argument("--focus", choices=CORE + MINOR, help="error type to weight up")
    args = ap.parse_args()
    briefs = plan(args.n, args.seed, args.start, args.focus)
    batches = [briefs[b::args.batches] for b in range(args.batches)]
    print(json.dumps(batches, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
