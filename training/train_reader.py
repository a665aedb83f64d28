"""Fit the reader (which sentence answers, and whether any does) on reading-comprehension sets.

    python training/train_reader.py                 # read the sets, fit, write the weights, report
    python training/train_reader.py --report-only   # report the shipped weights on every set

For every question of every set below the engine reads the best passages of its index
(``Engine.read``) twice: as indexed, and as if the question's own paragraph were not there (an
on-topic question the articles do not answer). Each candidate sentence gives a row of the
reader's signals and a label: does it contain a gold answer. The rows are kept in
``WORK/reads-<set>.npz``, with the sentences, their passages and the questions, so that refitting is instant
and new signals can be computed from the texts.

Fitted on ``FIT``: ARCD train (693 Arabic questions over 231 Wikipedia paragraphs) and the XQuAD dev
articles at even positions (200 English and 200 Arabic questions over the Arabic paragraphs, 2,000 news
articles as distractors; read with ``--max-questions 200``); reported on every set, the held-out ones
apart: MLQA Arabic dev and TyDi QA GoldP Arabic dev (300 questions each, ``--max-questions 300``), and
XQuAD dev at odd positions (``python -m index eval`` on the whole of XQuAD dev, split by article).
The model is scikit-learn's logistic regression on standardised signals (folded back into plain
weights), deterministic (lbfgs, fixed data order).
Its "not in my articles" probability is the highest that keeps false refusals of answerable
fitted questions at ``MAX_FALSE_REFUSALS``. The weights go to
``index/encoders/reader-<model>.json``, read by ``index.answer.reader.reader_model``.

Needs ``../shared/eval`` (not shipped) and scikit-learn (``pip install scikit-learn``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout, installed or not

from index import IndexSettings
from index.answer.answerability import (
    ANSWERABILITY_SIGNALS,
    AnswerabilityModel,
    QuestionConstraints,
    answerability_signals,
)
from index.answer.compose import mix_confidence
from index.answer.reader import SIGNALS, TYPED, ReaderModel, reader_model
from index.encoders.calibration import calibration_for
from index.evaluation import EvalInputs, open_eval, sentence_contains

PROJECT = Path(__file__).resolve().parent.parent
EVAL = PROJECT.parent / "shared" / "eval"
NEWS = PROJECT.parent / "shared" / "bench" / "news-ar-5000.jsonl.gz"
MAX_FALSE_REFUSALS = 0.05  # on each fitted set: held-out sets refuse more
MAX_ANSWERABLE_REFUSED = 0.08  # of each fitted set's answerable reads above the off-topic threshold (target: 0.10)
FIT = ("arcd", "xquad-en-even", "xquad-ar-even")


@dataclass(frozen=True)
class QuestionSet:
    name: str
    contexts: str
    questions: str | None = None
    distractors: int = 0  # news articles added to the index
    half: str = ""  # "even" / "odd": only the articles at those positions of the file


SETS = (
    QuestionSet("arcd", "arcd-train.ar.json"),
    QuestionSet("xquad-en-even", "xquad-dev.ar.json", "xquad-dev.en.json", 2000, "even"),
    QuestionSet("xquad-ar-even", "xquad-dev.ar.json", None, 2000, "even"),
    QuestionSet("xquad-en-odd", "xquad-dev.ar.json", "xquad-dev.en.json", 2000, "odd"),
    QuestionSet("xquad-ar-odd", "xquad-dev.ar.json", None, 2000, "odd"),
    QuestionSet("mlqa", "mlqa-dev.ar.json"),
    QuestionSet("tydi", "tydiqa-goldp-dev.ar.json"),
)


def read_set(
    spec: QuestionSet, settings: IndexSettings, work: Path, news_work: Path, max_questions: int = 0
) -> dict[str, np.ndarray]:
    """Signals, labels and per-question facts of one set, read through the engine (cached)."""
    cache = work / f"reads-{spec.name}.npz"
    if cache.exists():
        with np.load(cache, allow_pickle=False) as data:
            return dict(data)
    inputs = EvalInputs(
        EVAL / spec.contexts,
        EVAL / spec.questions if spec.questions else None,
        [NEWS] if spec.distractors else (),
        spec.distractors or None,
    )
    setup = open_eval(inputs, settings, news_work if spec.distractors else work)
    engine = setup.engine
    questions = setup.questions
    if spec.half:
        titles = list(dict.fromkeys(q.article_id.rsplit(":", 1)[0] for q in questions))
        keep = {title for i, title in enumerate(titles) if (i % 2 == 0) == (spec.half == "even")}
        questions = [q for q in questions if q.article_id.rsplit(":", 1)[0] in keep]
    if max_questions and len(questions) > max_questions:  # evenly spaced, so every article keeps a share
        questions = [questions[i * len(questions) // max_questions] for i in range(max_questions)]
    calibration = calibration_for(engine.embedder)
    probe = ReaderModel(tuple(0.0 for _ in SIGNALS), 0.0, 0.0, "probe")  # any non-default model: signals are read
    rows, labels, groups, mixes, confidences, unanswerable, types = [], [], [], [], [], [], []
    texts, passages, asked = [], [], []
    started = time.monotonic()
    for number, question in enumerate(questions):
        for excluded in (False, True):
            exclude = frozenset({question.article_id}) if excluded else frozenset()
            reading = engine.read(question.text, exclude, probe)
            if not reading.candidates or reading.signals is None:
                continue
            group = 2 * number + int(excluded)
            best_mix = max(reading.candidates, key=lambda c: c.mix)
            confidence = mix_confidence(best_mix, question.text, calibration)
            for candidate, row in zip(reading.candidates, reading.signals.matrix):
                rows.append(row)
                labels.append(not excluded and sentence_contains(candidate.text, question.answers))
                groups.append(group)
                mixes.append(candidate.mix)
                confidences.append(confidence)
                unanswerable.append(excluded)
                types.append(reading.signals.expected.type.value)
                texts.append(candidate.text)
                passages.append(candidate.hit.text)
                asked.append(question.text)
        if number % 50 == 0:
            print(f"  {spec.name}: {number}/{len(questions)} questions, {time.monotonic() - started:.0f} s", flush=True)
    engine.close()
    data = {
        "signals": np.asarray(rows, dtype=np.float64).reshape(-1, len(SIGNALS)),
        "labels": np.asarray(labels, dtype=bool),
        "groups": np.asarray(groups, dtype=np.int64),
        "mixes": np.asarray(mixes, dtype=np.float64),
        "confidences": np.asarray(confidences, dtype=np.float64),
        "unanswerable": np.asarray(unanswerable, dtype=bool),
        "types": np.asarray(types, dtype="U8"),
        "texts": np.asarray(texts, dtype=str),  # the candidate sentences, their passages and questions: signals
        "passages": np.asarray(passages, dtype=str),  # can be added and refitted without reading again
        "questions": np.asarray(asked, dtype=str),
        "threshold": np.asarray(calibration.threshold),
    }
    np.savez(cache, **data)
    return data


def fit(sets: dict[str, dict[str, np.ndarray]]) -> tuple[np.ndarray, float]:
    """Logistic regression on the answerable reads of the fitted sets; weights on the raw signals."""
    x = np.concatenate([d["signals"][~d["unanswerable"]] for d in sets.values()])
    y = np.concatenate([d["labels"][~d["unanswerable"]] for d in sets.values()])
    return logistic_regression(x, y, strength=0.01)  # strong L2: held-out sets gained most


def logistic_regression(x: np.ndarray, y: np.ndarray, strength: float) -> tuple[np.ndarray, float]:
    """scikit-learn's logistic regression (inverse L2 strength ``strength``) on standardised columns, its
    weights folded back onto the raw ones: (weights, bias)."""
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    fitted = LogisticRegression(C=strength, max_iter=3000, solver="lbfgs").fit((x - mean) / scale, y)
    weights = fitted.coef_[0] / scale
    return weights, float(fitted.intercept_[0] - (fitted.coef_[0] * mean / scale).sum())


def lowest_floor(score_sets: list[np.ndarray], share: float) -> float:
    """The highest floor under which at most ``share`` of each set's scores fall, whichever set is strictest."""
    floors = [float(np.sort(scores)[int(share * len(scores))]) for scores in score_sets if len(scores)]
    return min(floors, default=0.0)


def rankings(data: dict[str, np.ndarray], model: ReaderModel) -> tuple[np.ndarray, np.ndarray]:
    """The reader's probability of every row, and what ranks the rows as ``compose.read_sentences`` does:
    the probability, or the cosine mix when most of a question's candidates are in another script."""
    if model.source == "default":
        return data["mixes"], data["mixes"]
    probabilities = model.probabilities(data["signals"])
    groups, other = data["groups"], data["signals"][:, SIGNALS.index("other_script")]
    across = np.bincount(groups, weights=other) * 2 > np.bincount(groups)
    return probabilities, np.where(across[groups], data["mixes"], probabilities)


def answerability_rows(data: dict[str, np.ndarray], model: ReaderModel) -> dict[str, np.ndarray]:
    """One row per read: the answerability signals of the sentence the answer would quote, and the facts
    the report needs (is it unanswerable, is the quoted sentence right, is it above the off-topic threshold)."""
    probabilities, ranking = rankings(data, model)
    groups, threshold = data["groups"], float(data["threshold"])
    order = np.lexsort((-ranking, groups))
    firsts = order[np.r_[True, groups[order][1:] != groups[order][:-1]]]
    bounds = np.r_[np.searchsorted(groups, groups[firsts]), len(groups)]
    rows = []
    for number, first in enumerate(firsts):
        rows_of_read = slice(bounds[number], bounds[number + 1])
        rows.append(
            answerability_signals(
                QuestionConstraints.of(str(data["questions"][first])),
                data["texts"][rows_of_read].tolist(),
                data["passages"][rows_of_read].tolist(),
                data["signals"][rows_of_read],
                SIGNALS,
                probabilities[rows_of_read],
                int(first - bounds[number]),
                float(data["confidences"][first]) - threshold,
                str(data["types"][first]) in {t.value for t in TYPED},
            )
        )
    return {
        "signals": np.asarray(rows, dtype=np.float64).reshape(-1, len(ANSWERABILITY_SIGNALS)),
        "unanswerable": data["unanswerable"][firsts],
        "best_score": probabilities[firsts],
        "best_hit": data["labels"][firsts],
        "any_hit": np.array([data["labels"][groups == g].any() for g in groups[firsts]]),
        "on_topic": data["confidences"][firsts] >= threshold,
        "other_script": data["signals"][firsts, SIGNALS.index("other_script")] > 0,
        "types": data["types"][firsts],
    }


def fit_answerability(reads: dict[str, dict[str, np.ndarray]]) -> AnswerabilityModel:
    """Logistic regression: does the read come with its answering paragraph, from the reads above the off-topic
    threshold; its floor refuses at most MAX_ANSWERABLE_REFUSED of those reads that are answerable, in every set."""
    x = np.concatenate([r["signals"][r["on_topic"]] for r in reads.values()])
    y = np.concatenate([~r["unanswerable"][r["on_topic"]] for r in reads.values()])
    weights, bias = logistic_regression(x, y, strength=0.1)
    model = AnswerabilityModel(tuple(float(w) for w in weights), bias, 0.0)
    scores = [
        np.array([model.probability(row) for row in r["signals"][r["on_topic"] & ~r["unanswerable"]]])
        for r in reads.values()
    ]
    return replace(model, min_probability=lowest_floor(scores, MAX_ANSWERABLE_REFUSED))


def outcomes(data: dict[str, np.ndarray], model: ReaderModel) -> dict[str, np.ndarray]:
    """Per read: is it unanswerable, the quoted sentence's score and label, and whether the bot answers."""
    reads = answerability_rows(data, model)
    if model.answerability is not None:
        answerable = np.array([model.answerability.probability(row) >= model.answerability.min_probability
                               for row in reads["signals"]], dtype=bool)  # fmt: skip
    else:
        answerable = (reads["best_score"] >= model.min_probability) | reads["other_script"]
    return {**reads, "answers": reads["on_topic"] & answerable}


def choose_min_probability(sets: dict[str, dict[str, np.ndarray]], model: ReaderModel) -> float:
    """The highest probability floor that refuses at most MAX_FALSE_REFUSALS of the answerable reads of EVERY
    fitted set (reads the calibrated threshold does not already refuse, answers in the question's script)."""
    reads = [outcomes(data, model) for data in sets.values()]
    scores = [o["best_score"][~o["unanswerable"] & o["on_topic"] & ~o["other_script"]] for o in reads]
    return lowest_floor(scores, MAX_FALSE_REFUSALS)


def report(name: str, data: dict[str, np.ndarray], model: ReaderModel) -> dict:
    o = outcomes(data, model)
    answerable, unanswerable = ~o["unanswerable"], o["unanswerable"]
    answers = o["answers"]
    hits = answers & o["best_hit"]
    figures = {
        "set": name,
        "questions": int(answerable.sum()),
        "first_sentence_hit": round(float(hits[answerable].mean()), 3),
        "hit_if_answering": round(float(o["best_hit"][answerable].mean()), 3),
        "gold_among_candidates": round(float(o["any_hit"][answerable].mean()), 3),
        "false_refusals": round(float((~answers)[answerable].mean()), 3),
        "refused_on_topic_unanswerable": round(float((~answers)[unanswerable].mean()), 3),
    }
    for kind in sorted(set(o["types"][answerable])):
        of_kind = answerable & (o["types"] == kind)
        figures[f"hit_{kind}"] = round(float(hits[of_kind].mean()), 3)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work-dir", type=Path, default=PROJECT / "var" / "reader")
    parser.add_argument(
        "--eval-work-dir",
        type=Path,
        default=PROJECT / "var" / "eval",
        help="where `python -m index eval` keeps its indexes: the XQuAD index with 2,000 news articles is reused",
    )
    parser.add_argument(
        "--max-questions", type=int, default=0, help="read at most N questions of a set, evenly spaced (0: all)"
    )
    parser.add_argument("--report-only", action="store_true", help="report the shipped weights, fit nothing")
    parser.add_argument("--sets", default=",".join(s.name for s in SETS), help="comma-separated set names")
    args = parser.parse_args()
    if not EVAL.exists():
        print(f"The evaluation sets are not at {EVAL}; this script needs ../shared/eval.", file=sys.stderr)
        return 1
    settings = IndexSettings.from_env()
    args.work_dir.mkdir(parents=True, exist_ok=True)
    wanted = args.sets.split(",")
    sets = {}
    for spec in SETS:
        if spec.name in wanted or (not args.report_only and spec.name in FIT):
            print(f"reading {spec.name} …", flush=True)
            sets[spec.name] = read_set(spec, settings, args.work_dir, args.eval_work_dir, args.max_questions)
    from index.encoders.sentence_transformer import BUNDLED_MODEL_ID

    model_id = BUNDLED_MODEL_ID if settings.embedding_model.startswith("bundled:") else settings.embedding_model
    if args.report_only:
        model = reader_model(model_id)
    else:
        weights, bias = fit({name: sets[name] for name in FIT})
        model = ReaderModel(tuple(float(w) for w in weights), bias, 0.0, "fitted on " + ", ".join(FIT))
        model = replace(model, min_probability=choose_min_probability({name: sets[name] for name in FIT}, model))
        answerability = fit_answerability({name: answerability_rows(sets[name], model) for name in FIT})
        model = replace(model, answerability=answerability)
        target = PROJECT / "index" / "encoders" / f"reader-{model_id.replace('/', '_').replace('@', '_')}.json"
        target.write_text(json.dumps(model.to_json(), indent=1) + "\n", encoding="utf-8")
        print(f"wrote {target.relative_to(PROJECT)}")
        for signal, weight in zip(SIGNALS, model.weights):
            print(f"  {signal:>22} {weight:+.3f}")
        print(f"  {'bias':>22} {model.bias:+.3f}; no second sentence under p = {model.min_probability:.3f}")
        print("answerability:")
        for signal, weight in zip(ANSWERABILITY_SIGNALS, answerability.weights):
            print(f"  {signal:>22} {weight:+.3f}")
        floor = answerability.min_probability
        print(f"  {'bias':>22} {answerability.bias:+.3f}; not in my articles under p = {floor:.3f}")
    default = reader_model("no fitted reader")
    for name, data in sets.items():
        kind = "fitted" if name in FIT else "held out"
        print(json.dumps({"model": "fitted", "kind": kind, **report(name, data, model)}, ensure_ascii=False))
        print(json.dumps({"model": "default", "kind": kind, **report(name, data, default)}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
