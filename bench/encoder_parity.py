"""Do the torch-free encoder and the sentence-transformers path rank XQuAD paragraphs the same?

    .venv/bin/python bench/encoder_parity.py [--eval-dir ../shared/eval] [--runtime numpy|onnx]

Embeds the Arabic XQuAD dev paragraphs (passages) and the English and Arabic questions
(queries) with both encoders of the bundled model, then prints the cosine between the two
vectors of each text (min, mean) and the share of questions whose top 5 paragraphs by plain
cosine are the same, in the same order, for both (the target is at least 99%). Needs the
torch extra (``pip install -e '.[torch]'``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project, for `index`

import numpy as np

from index.encoders.sentence_transformer import SentenceTransformerEmbedder, load_embedder
from index.settings import BUNDLED_MODEL, IndexSettings

PROJECT = Path(__file__).resolve().parent.parent
TOP = 5


def load(eval_dir: Path) -> tuple[list[str], dict[str, list[str]]]:
    paragraphs, questions = [], {}
    for language in ("ar", "en"):
        data = json.loads((eval_dir / f"xquad-dev.{language}.json").read_text(encoding="utf-8"))["data"]
        found = [(p["context"], [q["question"] for q in p["qas"]]) for article in data for p in article["paragraphs"]]
        if language == "ar":
            paragraphs = [context for context, _ in found]
        questions[language] = [question for _, asked in found for question in asked]
    return paragraphs, questions


def timed(label: str, embed, texts: list[str]) -> np.ndarray:
    started = time.perf_counter()
    vectors = embed(texts)
    seconds = time.perf_counter() - started
    print(f"  {label:<28} {len(texts):>5} texts {seconds:7.1f} s ({len(texts) / seconds:6.1f}/s)")
    return vectors


def describe(name: str, ours: np.ndarray, theirs: np.ndarray) -> float:
    cosines = np.sum(ours * theirs, axis=1)
    print(f"  cosine {name:<22} min {cosines.min():.6f}  mean {cosines.mean():.6f}")
    return float(cosines.min())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=PROJECT.parent / "shared" / "eval")
    parser.add_argument("--runtime", choices=("numpy", "onnx"), default="numpy", help="the torch-free runtime")
    args = parser.parse_args()
    paragraphs, questions = load(args.eval_dir)
    settings = replace(IndexSettings.from_env(), encoder_runtime=args.runtime)
    encoders = {
        "free": load_embedder(settings),
        "torch": SentenceTransformerEmbedder(BUNDLED_MODEL, settings.model_cache_dir, settings.batch_size),
    }
    vectors: dict[str, dict[str, np.ndarray]] = {}
    for name, encoder in encoders.items():
        print(f"{name}:")
        vectors[name] = {"paragraphs": timed("Arabic paragraphs", encoder.embed_passages, paragraphs)}
        for language, asked in questions.items():
            vectors[name][language] = timed(f"{language} questions", encoder.embed_queries, asked)
    print(f"{len(paragraphs)} paragraphs, " + ", ".join(f"{len(q)} {lang} questions" for lang, q in questions.items()))
    lowest = describe("paragraphs", vectors["free"]["paragraphs"], vectors["torch"]["paragraphs"])
    for language in questions:
        lowest = min(lowest, describe(f"{language} questions", vectors["free"][language], vectors["torch"][language]))
        rankings = {
            name: np.argsort(-(vectors[name][language] @ vectors[name]["paragraphs"].T), axis=1)[:, :TOP]
            for name in encoders
        }
        same_order = np.all(rankings["free"] == rankings["torch"], axis=1)
        same_set = [set(a) == set(b) for a, b in zip(rankings["free"], rankings["torch"])]
        print(
            f"  top-{TOP} identical, {language} questions: {same_order.mean():.2%} in order, "
            f"{np.mean(same_set):.2%} as sets ({int((~same_order).sum())} of {len(same_order)} differ)"
        )
    print(f"lowest cosine over all texts: {lowest:.6f}")


if __name__ == "__main__":
    main()
