"""The one place that decides: rules ⊕ model -> Classification with evidence and review flags.

For kritik and each error type, a score combines the strongest valid rule hit (its strength,
0 without a hit) and the model's best sentence probability as a noisy-OR — either source can
carry a label, and agreement raises confidence:

    score = 1 - (1 - rule) * (1 - model)     present when score >= threshold (tuned on dev, ≤ 0.8)

Evidence is the rule's sentence when a rule fired, otherwise the model's best sentence.
Outcome: valid outcome rules in the result section decide when they agree; several different
strong outcomes mean a multi-part decision (ændret > hjemvist > stadfæstet > afvist); without
rules, or when rules are weak, the outcome model decides. ``needs_review`` is set where rules
and model disagree or the score lies close to the threshold.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from classifier.analysis import Analysis
from classifier.model import SENTENCE_LABELS, AnkeModel
from classifier.rules import NON_FINDING_SECTIONS
from classifier.schema import Classification, Evidence, resolve_outcome

RESULT_SECTIONS = ("afgørelse", "resume", "hvad_skal_kommunen_gøre")
DEFAULT_THRESHOLD = {"combined": 0.5, "rules": 0.7, "model": 0.5}
REVIEW_MARGIN = 0.08
#: Highest threshold the tuning may choose in combined mode: a rule of this strength (a precise,
#: hand-written pattern) carries its label without the model, whose probabilities fall on
#: letters unlike the corpus.
PRECISE_RULE = 0.8
MODES = ("combined", "rules", "model")


def _threshold(model: AnkeModel | None, label: str, mode: str) -> float:
    if model is not None and label in model.thresholds and mode in model.thresholds[label]:
        return model.thresholds[label][mode]
    return DEFAULT_THRESHOLD[mode]


def finding_mask(analysis: Analysis, label: str = "") -> np.ndarray:
    """Sentences that can carry a finding of Ankestyrelsen's own: not the letterhead, not the
    rules, facts or complaints-guidance text, not the citizen's claim (unless we agree), not a
    duty described in the present tense, not a claim we reject (up to a contrast: "..., men
    kommunen burde have ..."), and — for error types — a
    statement of some deficiency. The model is held to the same policy as the rules."""
    out = []
    for s, c in zip(analysis.decision.sentences, analysis.contexts):
        out.append(s.section not in NON_FINDING_SECTIONS and s.section != "header"
                   and not (c.claim_end >= 0 and not c.agree) and not c.duty
                   and not c.rejected_to_end() and (c.deficiency or label == "kritik"))
    return np.array(out, dtype=bool)


def label_scores(analysis: Analysis, model: AnkeModel | None) -> dict[str, dict]:
    """For kritik and every error type: rule strength, model probability and their evidence."""
    probs = model.sentence_probabilities(analysis) if model is not None else {}
    out = {}
    for label in SENTENCE_LABELS:
        kind = "kritik" if label == "kritik" else "error"
        hits = analysis.rules.valid(kind, label)
        best_hit = max(hits, key=lambda h: h.rule.strength) if hits else None
        rule = best_hit.rule.strength if best_hit else 0.0
        p = probs.get(label)
        if p is not None and len(p):
            mask = finding_mask(analysis, label)
            # where a pattern of this label matched but was read as negated, claimed, rejected
            # or a duty, the rules have understood the sentence's polarity: the model's positive
            # reading of the same sentence ("Sagsbehandlingstiden har ikke været urimelig lang")
            # does not count
            for h in analysis.rules.hits:
                if h.rule.label == label and h.rule.kind == kind and not h.valid:
                    mask[h.sentence_index] = False
            p = np.where(mask, p, 0.0)
            k = int(np.argmax(p))
            model_p, model_k = float(p[k]), k
        else:
            model_p, model_k = 0.0, None
        out[label] = {"rule": rule, "model": model_p, "hit": best_hit, "model_index": model_k}
    return out


def score(entry: dict, mode: str, has_model: bool) -> float:
    if mode == "rules" or not has_model:
        return entry["rule"]
    if mode == "model":
        return entry["model"]
    return 1 - (1 - entry["rule"]) * (1 - entry["model"])


def decide_outcome(analysis: Analysis, model: AnkeModel | None, mode: str = "combined"):
    """-> (outcome, partial, confidence, evidence hit or sentence index, disagreement flag)"""
    hits = analysis.rules.valid("outcome")
    result_hits = [h for h in hits if h.section in RESULT_SECTIONS] or hits
    strength: dict[str, float] = defaultdict(float)
    best = {}
    for h in result_hits:
        strength[h.rule.label] += h.rule.strength
        if h.rule.label not in best or h.rule.strength > best[h.rule.label].rule.strength:
            best[h.rule.label] = h
    # "Vi ophæver afgørelsen, og kommunen skal behandle sagen igen", "Du får medhold i, at sagen
    # skal behandles igen": set aside (or medhold) together with remittal counts as hjemvist
    if strength.get("hjemvist", 0) >= 0.9 and "ændret" in strength:
        remit_sentences = {h.sentence_index for h in result_hits if h.rule.label == "hjemvist"}
        # "ophæver"/"medhold" next to a remittal are part of it (rules marked with_remittal);
        # an explicit "ændrer" is a changed part of its own, even in the same sentence
        kept = [h for h in result_hits if h.rule.label == "ændret"
                and h.rule.with_remittal != "hjemvist"
                and (h.sentence_index not in remit_sentences or h.rule.strength >= 0.9)]
        if kept:
            strength["ændret"] = sum(h.rule.strength for h in kept)
            best["ændret"] = max(kept, key=lambda h: h.rule.strength)
        else:
            del strength["ændret"]
            best.pop("ændret", None)
    strong = [o for o, s in strength.items() if s >= 0.9]
    # a rejected complaint is often "sent back" or mentions what the kommune did: when the
    # rejection clearly dominates, it is the result
    others = max([v for o, v in strength.items() if o != "afvist"], default=0.0)
    if strength.get("afvist", 0) >= 2 and strength["afvist"] >= 2 * others:
        strong = ["afvist"]
    partial_hits = analysis.rules.valid("partial")
    rule_outcome = resolve_outcome(strong) if strong else (
        max(strength, key=strength.get) if strength else None)
    model_probs = model.outcome_probabilities(analysis) if model is not None and mode != "rules" else {}
    model_outcome = max(model_probs, key=model_probs.get) if model_probs else None

    if mode == "model" and model_outcome:
        outcome = model_outcome
    elif mode == "rules" or not model_outcome:
        outcome = rule_outcome
    elif rule_outcome is None:
        outcome = model_outcome
    elif rule_outcome == model_outcome:
        outcome = rule_outcome
    elif not strong:
        # only weak rule signals: the model decides when it is fairly sure of itself
        outcome = model_outcome if model_probs.get(model_outcome, 0) >= 0.6 else rule_outcome
    elif len(strong) == 1:
        outcome = rule_outcome if model_probs.get(model_outcome, 0) < 0.85 else model_outcome
    else:
        # several strong outcomes: a multi-part decision resolves by precedence (rule_outcome),
        # unless the model is confident the far-reaching one is a false signal
        outcome = rule_outcome
        if model_probs.get(outcome, 0) < 0.15 and model_probs.get(model_outcome, 0) > 0.6 \
                and model_outcome in strong:
            outcome = model_outcome
    partial = bool(partial_hits) or len([o for o in strong if o != "afvist"]) > 1
    if outcome == "afvist":
        partial = False
    if model_probs:
        confidence = model_probs.get(outcome, 0.0) if rule_outcome != outcome else \
            max(model_probs.get(outcome, 0.0), min(1.0, 0.5 + strength.get(outcome, 0) / 2))
    else:
        confidence = min(1.0, strength.get(outcome, 0) / 1.5) if outcome else 0.0
    disagree = bool(rule_outcome and model_outcome and rule_outcome != model_outcome)
    return outcome, partial, confidence, best.get(outcome), disagree


def decide(analysis: Analysis, model: AnkeModel | None, mode: str = "combined") -> Classification:
    d = analysis.decision
    md = d.metadata
    has_model = model is not None and mode != "rules"
    outcome, partial, out_conf, out_hit, disagree = decide_outcome(analysis, model, mode)
    evidence: list[Evidence] = []
    reasons: list[str] = []
    if out_hit is not None:
        evidence.append(Evidence("outcome", out_hit.text, out_hit.page, out_hit.section,
                                 round(out_conf, 3)))
    if outcome is None:
        reasons.append("no outcome found")
    if disagree:
        reasons.append("rules and model disagree on the outcome")
    if out_conf < 0.6:
        reasons.append(f"low outcome confidence ({out_conf:.2f})")

    probabilities = {f"outcome:{outcome}": round(out_conf, 3)} if outcome else {}
    found: dict[str, bool] = {}
    confidences = [out_conf]
    for label, entry in label_scores(analysis, model).items():
        s = score(entry, mode, has_model)
        t = _threshold(model, label, mode if has_model else "rules")
        present = s >= t
        found[label] = present
        probabilities[label] = round(s, 3)
        confidences.append(abs(s - t) + 0.5 if present else 1 - s)
        if abs(s - t) < REVIEW_MARGIN:
            reasons.append(f"{label}: score {s:.2f} close to threshold {t:.2f}")
        if has_model and mode == "combined" and ((entry["rule"] >= 0.9 and entry["model"] < 0.1)
                                                 or (entry["rule"] == 0 and entry["model"] > 0.9)):
            reasons.append(f"{label}: rules and model disagree")
        if present:
            hit = entry["hit"]
            if hit is not None and mode != "model":
                evidence.append(Evidence(label, hit.text, hit.page, hit.section, round(s, 3)))
            elif entry["model_index"] is not None:
                sent = d.sentences[entry["model_index"]]
                evidence.append(Evidence(label, sent.text, sent.page, sent.section, round(s, 3)))
    errors = [label for label in SENTENCE_LABELS if label != "kritik" and found.get(label)]
    confidence = float(min(1.0, min(confidences)))
    return Classification(
        source=d.source, sha256=d.sha256, decision_index=d.index, pages=d.pages,
        status="ok", outcome=outcome, partial=partial, kritik=found.get("kritik", False),
        errors=errors, law_area=md.law_area, citations=[str(c) for c in md.citations],
        municipality=md.municipality, first_instance=md.first_instance,
        decision_date=md.decision_date, case_number=md.case_number, format=md.format,
        confidence=round(confidence, 3), needs_review=bool(reasons), review_reasons=reasons,
        probabilities=probabilities, evidence=evidence, instructions=md.instructions,
        text=d.text,
    )
