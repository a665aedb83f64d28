"""Measure retrieval and answers on a SQuAD v1.1 file: ``python -m index eval``.

The contexts of the SQuAD file are indexed, one article per paragraph titled by its
Wikipedia article; optionally distractor articles are added. Each question (from the same
file, or from a parallel file in another language with the same question ids) is asked
once, and the report gives recall@1/5/20 and MRR@10 of its paragraph among the ranked
articles, answer-hit@1 (the answer text, at most 300 characters, contains a gold answer
after whitespace and Arabic normalisation), the "no answer" rate and the latency per
question.

With ``unanswerable`` the contexts are left out of the index: every question is then
unanswerable and the "no answer" rate measures the bot's honesty.

Indexes are kept in a work directory, one per set of inputs, so a rerun embeds only what
changed.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from index.encoders.base import Embedder
from index.errors import ArticleIndexError
from index.records import Article, Changes
from index.settings import IndexSettings
from index.storage import generations
from index.storage.article_store import ArticleStore
from index.text.normalise import normalise
from index.tuning import RANKING

if TYPE_CHECKING:
    from index.engine import Engine

Progress = Callable[[str, int, int], None]
RANK_DEPTH = 20  # articles ranked per question (recall@20)
SEARCH_CHUNKS = 100  # chunks retrieved to rank that many articles
MIN_PARAGRAPH_CHARS = 150  # distractor paragraphs shorter than this join the next (--distractor-paragraphs)


class EvalInputError(ArticleIndexError):
    """A SQuAD or distractor file that cannot be used for an evaluation."""


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    answers: tuple[str, ...]  # gold answers, in the language of the contexts
    article_id: str  # the paragraph that answers it


@dataclass
class QuestionResult:
    id: str
    question: str
    rank: int | None  # 1-based rank of the gold paragraph among ranked articles, None past RANK_DEPTH
    found: bool  # the answer was given (not "not in my articles")
    hit: bool  # the answer's first sentence contains a gold answer
    seconds: float
    answer: str
    shown_hit: bool = False  # the answer's first RANKING.answer_chars characters contain a gold answer
    type: str = "open"  # the answer type the question asks for (who, when, how many, …)

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "question": self.question,
            "type": self.type,
            "rank": self.rank,
            "found": self.found,
            "hit": self.hit,
            "shown_hit": self.shown_hit,
            "seconds": round(self.seconds, 4),
            "answer": self.answer,
        }


@dataclass
class EvalReport:
    config: dict
    results: list[QuestionResult] = field(default_factory=list)
    build_seconds: float = 0.0

    def metrics(self) -> dict:
        n = len(self.results)
        if n == 0:
            return {"questions": 0}
        ranks = [r.rank for r in self.results]
        latencies = sorted(r.seconds for r in self.results)
        metrics: dict = {"questions": n}
        answerable = not (self.config.get("unanswerable") or self.config.get("unanswerable_paragraph"))
        if answerable:
            for k in (1, 5, 20):
                metrics[f"recall@{k}"] = _mean(rank is not None and rank <= k for rank in ranks)
            metrics["mrr@10"] = _mean(1 / rank if rank is not None and rank <= 10 else 0.0 for rank in ranks)
            metrics["answer_hit@1"] = _mean(r.hit for r in self.results)
            metrics["answer_hit_shown"] = _mean(r.shown_hit for r in self.results)
        metrics["no_answer_rate"] = _mean(not r.found for r in self.results)
        by_type = {}
        for kind in sorted({r.type for r in self.results}):
            of_kind = [r for r in self.results if r.type == kind]
            by_type[kind] = {"questions": len(of_kind), "no_answer_rate": _mean(not r.found for r in of_kind)}
            if answerable:
                by_type[kind]["answer_hit@1"] = _mean(r.hit for r in of_kind)
        metrics["by_type"] = by_type
        metrics["latency_mean_s"] = round(sum(latencies) / n, 4)
        metrics["latency_median_s"] = round(latencies[n // 2], 4)
        metrics["latency_p95_s"] = round(latencies[min(n - 1, int(0.95 * n))], 4)
        return metrics

    def to_json(self) -> dict:
        return {
            "config": self.config,
            "metrics": self.metrics(),
            "build_seconds": round(self.build_seconds, 2),
            "questions": [r.to_json() for r in self.results],
        }

    def summary(self) -> str:
        m = self.metrics()
        lines = [
            f"{m['questions']} questions from {self.config['questions_file']} over "
            f"{self.config['articles']} articles ({self.config['distractors']} distractors)"
        ]
        names = ("recall@1", "recall@5", "recall@20", "mrr@10", "answer_hit@1", "answer_hit_shown", "no_answer_rate")
        lines += [f"{name:>16}: {m[name]:.3f}" for name in names if name in m]
        for kind, figures in m["by_type"].items():
            shown = ", ".join(f"{name} {value:.3f}" for name, value in figures.items() if name != "questions")
            lines.append(f"{kind:>16}: {figures['questions']} questions, {shown}")
        lines.append(
            f"{'latency':>16}: mean {m['latency_mean_s'] * 1000:.0f} ms, median "
            f"{m['latency_median_s'] * 1000:.0f} ms, p95 {m['latency_p95_s'] * 1000:.0f} ms"
        )
        return "\n".join(lines)


def _mean(values) -> float:
    values = [float(v) for v in values]
    return round(sum(values) / len(values), 4) if values else 0.0


def sentence_contains(sentence: str, gold: Sequence[str]) -> bool:
    """Whether a sentence contains a gold answer, both normalised."""
    shown = normalise(sentence)
    return any(normalise(g) and normalise(g) in shown for g in gold)


def answer_contains(answer_text: str, gold: Sequence[str]) -> bool:
    """Whether the first RANKING.answer_chars characters of the answer contain a gold answer, normalised."""
    shown = normalise(answer_text[: RANKING.answer_chars])
    return any(normalise(g) and normalise(g) in shown for g in gold)


# Reading the inputs -------------------------------------------------------------------


def _read_squad(path: Path) -> dict:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        data["data"][0]["paragraphs"][0]["context"]
        return data
    except OSError as exc:
        raise EvalInputError(f"{path} could not be read ({exc.strerror or exc}).") from None
    except (ValueError, KeyError, IndexError, TypeError):
        raise EvalInputError(
            f"{path} is not a SQuAD v1.1 JSON file (data[].paragraphs[].context and qas[]); check the file."
        ) from None


def squad_articles(data: dict) -> list[Article]:
    """One article per paragraph, titled by its Wikipedia article."""
    articles = []
    for document in data["data"]:
        title = str(document.get("title", "")).replace("_", " ")
        for number, paragraph in enumerate(document["paragraphs"]):
            articles.append(
                Article(id=_paragraph_id(title, number), title=title, text=paragraph["context"].strip(), source="SQuAD")
            )
    return articles


def _paragraph_id(title: str, number: int) -> str:
    return f"squad:{title}:{number}"


def squad_questions(contexts: dict, questions: dict | None = None) -> list[Question]:
    """The questions with their gold paragraph and answers from ``contexts``; their text from
    ``questions`` (a parallel file with the same ids) when given."""
    texts = {}
    if questions is not None:
        for document in questions["data"]:
            for paragraph in document["paragraphs"]:
                for qa in paragraph.get("qas", []):
                    texts[qa["id"]] = qa["question"]
    result = []
    for document in contexts["data"]:
        title = str(document.get("title", "")).replace("_", " ")
        for number, paragraph in enumerate(document["paragraphs"]):
            for qa in paragraph.get("qas", []):
                text = texts.get(qa["id"]) if questions is not None else qa["question"]
                if text:
                    answers = tuple(a["text"] for a in qa.get("answers", []) if a.get("text"))
                    result.append(Question(qa["id"], text, answers, _paragraph_id(title, number)))
    if not result:
        raise EvalInputError("No question ids of the questions file match the contexts file; use parallel files.")
    return result


def load_distractors(paths: Sequence[str | Path], limit: int | None, as_paragraphs: bool = False) -> list[Article]:
    """The first ``limit`` articles of the files; with ``as_paragraphs`` each is cut into one
    document per paragraph, shaped like the SQuAD paragraphs, so that article length cannot
    tell gold documents from distractors."""
    from index.sources.loaders import load_articles

    loaded = load_articles([str(p) for p in paths])
    for problem in loaded.problems[:5]:
        print(str(problem), file=sys.stderr)
    articles = loaded.articles[:limit] if limit is not None else loaded.articles
    return [part for article in articles for part in paragraph_documents(article)] if as_paragraphs else articles


def paragraph_documents(article: Article, min_chars: int = MIN_PARAGRAPH_CHARS) -> list[Article]:
    """The article as one document per paragraph (lines of the text); a paragraph shorter than
    ``min_chars`` joins the next one."""
    parts: list[str] = []
    pending = ""
    for line in article.text.split("\n"):
        pending = f"{pending}\n{line.strip()}".strip()
        if len(pending) >= min_chars:
            parts.append(pending)
            pending = ""
    if pending and parts:
        parts[-1] = f"{parts[-1]}\n{pending}"  # a short last line stays with the paragraph before it
    elif pending:
        parts.append(pending)
    return [replace(article, id=f"{article.id}#{number}", text=text) for number, text in enumerate(parts)]


# Running ------------------------------------------------------------------------------


def corpus_key(articles: Sequence[Article], settings: IndexSettings) -> str:
    digest = hashlib.sha256(
        f"{settings.embedding_model}\x00{settings.chunk_tokens}\x00{settings.chunk_overlap_tokens}".encode()
    )
    for article in articles:
        digest.update(f"{article.id}\x00{article.content_hash}\x00".encode())
    return digest.hexdigest()[:12]


def _index_is_current(index_dir: Path, articles: Sequence[Article], current_format: Callable[[dict], bool]) -> bool:
    generation = generations.current_generation(index_dir)
    if generation is None or not current_format(generations.read_manifest(generation)):
        return False
    with ArticleStore(generation / generations.STORE) as store:
        return store.content_hashes() == {a.id: a.content_hash for a in articles}


@dataclass
class EvalSetup:
    """An evaluation's index, opened, and its questions."""

    engine: Engine
    questions: list[Question]
    config: dict
    build_seconds: float


@dataclass(frozen=True)
class EvalInputs:
    """What an evaluation indexes and asks: the SQuAD contexts, the questions, the distractors."""

    squad_path: Path
    questions_path: Path | None = None  # a parallel SQuAD file (same ids) whose questions are asked instead
    distractors: Sequence[str | Path] = ()
    distractor_limit: int | None = None
    distractor_paragraphs: bool = False  # each distractor paragraph indexed as its own document
    unanswerable: bool = False  # only the distractors are indexed
    question_limit: int | None = None


def open_eval(
    inputs: EvalInputs,
    settings: IndexSettings,
    work_dir: Path,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
) -> EvalSetup:
    """Build (or reuse) the index for these inputs in ``work_dir``; one directory per set of inputs."""
    from index.engine import Engine, index_format_is_current

    contexts = _read_squad(inputs.squad_path)
    questions = squad_questions(contexts, _read_squad(inputs.questions_path) if inputs.questions_path else None)
    if inputs.question_limit is not None:
        questions = questions[: inputs.question_limit]
    extra = []
    if inputs.distractors:
        extra = load_distractors(inputs.distractors, inputs.distractor_limit, inputs.distractor_paragraphs)
    articles = ([] if inputs.unanswerable else squad_articles(contexts)) + extra
    if not articles:
        raise EvalInputError("Nothing to index: --unanswerable needs --distractors.")
    index_dir = Path(work_dir) / f"index-{corpus_key(articles, settings)}"
    engine = Engine(replace(settings, index_dir=index_dir), embedder)
    config = {
        "contexts_file": str(inputs.squad_path),
        "questions_file": str(inputs.questions_path or inputs.squad_path),
        "distractor_files": [str(p) for p in inputs.distractors],
        "distractors": len(extra),
        "distractor_paragraphs": inputs.distractor_paragraphs,
        "articles": len(articles),
        "unanswerable": inputs.unanswerable,
        "index_dir": str(index_dir),
        "model": settings.embedding_model,
    }
    started = time.monotonic()
    if not _index_is_current(index_dir, articles, index_format_is_current):
        engine.apply(Changes(articles, replace_all=True), progress)
    config["model_id"] = engine.embedder.model_id
    return EvalSetup(engine, questions, config, time.monotonic() - started)


def run_eval(
    inputs: EvalInputs,
    settings: IndexSettings,
    work_dir: Path,
    unanswerable_paragraph: bool = False,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
) -> EvalReport:
    """Build (or reuse) the index for these inputs in ``work_dir`` and ask every question; with
    ``unanswerable_paragraph`` each question is asked as if its own paragraph were not indexed."""
    setup = open_eval(inputs, settings, work_dir, embedder, progress)
    engine, questions, config = setup.engine, setup.questions, setup.config
    config["unanswerable_paragraph"] = unanswerable_paragraph
    report = EvalReport(config, build_seconds=setup.build_seconds)
    engine.ask("warm up")  # load the model and open the index before timing
    for number, question in enumerate(questions):
        if progress:
            progress("questions", number, len(questions))
        began = time.perf_counter()
        exclude = frozenset({question.article_id}) if unanswerable_paragraph else frozenset()
        answer, hits = engine.ask_and_search(question.text, SEARCH_CHUNKS, exclude)
        seconds = time.perf_counter() - began
        ranked = _article_ranking(hits)
        rank = ranked.index(question.article_id) + 1 if question.article_id in ranked[:RANK_DEPTH] else None
        text = answer.text if answer.found else ""
        first = answer.sentences[0][0] if answer.found and answer.sentences else ""
        report.results.append(
            QuestionResult(
                question.id,
                question.text,
                rank,
                answer.found,
                answer.found and sentence_contains(first, question.answers),
                seconds,
                text[: RANKING.answer_chars],
                answer.found and answer_contains(text, question.answers),
                _question_type(question.text),
            )
        )
    if progress:
        progress("questions", len(questions), len(questions))
    engine.close()
    return report


def _question_type(question: str) -> str:
    from index.text.answer_types import expected_answer

    return expected_answer(question).type.value


def _article_ranking(hits) -> list[str]:
    ranked: list[str] = []
    for hit in hits:
        if hit.article_id not in ranked:
            ranked.append(hit.article_id)
    return ranked
