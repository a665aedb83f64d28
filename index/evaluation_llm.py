"""``python -m index eval --llm``: the evaluation through the LLM path (LLM_BASE_URL, LLM_MODEL, LLM_API_KEY).

The same index and questions as ``eval`` (``evaluation.open_eval``); each question is answered as the bot
answers it: the extractive answer and its search hits, then the LLM step over them (not streamed). Reported:
how many answers the LLM wrote and passed verification, the fallbacks by reason, the share of the model's
sentences that passed, answer-hit on the cited passages (a cited passage holds a gold answer; the LLM writes in
the question's language, so its text cannot be compared with the gold spans of another language) for the
shown answer, for the LLM's answers alone and, as the baseline, for the extractive answer; the gold answer in
the LLM's own text; the "no answer" rate; the model's latency and tokens.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from index.encoders.base import Embedder
from index.evaluation import EvalInputs, open_eval
from index.llm.answering import LlmAnswerer
from index.records import Answer
from index.settings import IndexSettings
from index.text.normalise import normalise
from index.tuning import RANKING

Progress = Callable[[str, int, int], None]


@dataclass
class LlmQuestionResult:
    id: str
    question: str
    answered_by: str  # "llm" or "extractive"
    fallback: str  # why not the LLM ("" when it answered)
    found: bool  # the shown answer is an answer (not "not in my articles")
    cited_hit: bool  # a passage the shown answer cites holds a gold answer
    extractive_cited_hit: bool  # the same for the extractive answer
    text_hit: bool  # the LLM's text holds a gold answer (same language only)
    sentences: int
    passed: int
    seconds: float  # the model's call
    prompt_tokens: int
    completion_tokens: int
    answer: str

    def to_json(self) -> dict:
        return {**self.__dict__, "seconds": round(self.seconds, 3)}


@dataclass
class LlmEvalReport:
    config: dict
    results: list[LlmQuestionResult] = field(default_factory=list)

    def metrics(self) -> dict:
        results, n = self.results, len(self.results)
        if n == 0:
            return {"questions": 0}
        written = [r for r in results if r.answered_by == "llm"]
        called = [r for r in results if r.seconds > 0]
        latencies = sorted(r.seconds for r in called)
        sentences = sum(r.sentences for r in results)
        return {
            "questions": n,
            "llm_answers": _share(len(written), n),
            "fallbacks": _share(n - len(written), n),
            "fallback_reasons": dict(Counter(r.fallback for r in results if r.fallback).most_common()),
            "sentences": sentences,
            "sentences_passed": _share(sum(r.passed for r in results), sentences),
            "cited_passage_hit": _share(sum(r.cited_hit for r in results), n),
            "llm_cited_passage_hit": _share(sum(r.cited_hit for r in written), len(written)),
            "extractive_cited_passage_hit": _share(sum(r.extractive_cited_hit for r in results), n),
            "llm_text_hit": _share(sum(r.text_hit for r in written), len(written)),
            "no_answer_rate": _share(sum(not r.found for r in results), n),
            "latency_mean_s": round(sum(latencies) / len(latencies), 3) if latencies else None,
            "latency_median_s": round(latencies[len(latencies) // 2], 3) if latencies else None,
            "latency_p95_s": round(latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))], 3)
            if latencies
            else None,
            "prompt_tokens": sum(r.prompt_tokens for r in results),
            "completion_tokens": sum(r.completion_tokens for r in results),
            "calls": len(called),
        }

    def to_json(self) -> dict:
        return {"config": self.config, "metrics": self.metrics(), "questions": [r.to_json() for r in self.results]}

    def summary(self) -> str:
        m = self.metrics()
        lines = [f"{m['questions']} questions from {self.config['questions_file']} through {self.config['llm_model']}"]
        if not m["questions"]:
            return lines[0]
        for name in (
            "llm_answers",
            "fallbacks",
            "sentences_passed",
            "cited_passage_hit",
            "llm_cited_passage_hit",
            "extractive_cited_passage_hit",
            "llm_text_hit",
            "no_answer_rate",
        ):
            lines.append(f"{name:>29}: {m[name]:.3f}")
        reasons = ", ".join(f"{kind} {count}" for kind, count in m["fallback_reasons"].items()) or "none"
        lines.append(f"{'fallback reasons':>29}: {reasons}")
        if m["latency_mean_s"] is not None:
            lines.append(
                f"{'model latency':>29}: mean {m['latency_mean_s']:.2f} s, median {m['latency_median_s']:.2f} s, "
                f"p95 {m['latency_p95_s']:.2f} s over {m['calls']} calls"
            )
        lines.append(f"{'tokens':>29}: {m['prompt_tokens']} in, {m['completion_tokens']} out")
        return "\n".join(lines)


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _holds_gold(text: str, gold: Sequence[str]) -> bool:
    shown = normalise(text)
    return any(normalise(g) and normalise(g) in shown for g in gold)


def _cited_hit(answer: Answer, gold: Sequence[str]) -> bool:
    return answer.found and any(_holds_gold(c.passage or c.quote, gold) for c in answer.citations)


def run_llm_eval(
    inputs: EvalInputs,
    settings: IndexSettings,
    work_dir: Path,
    llm: LlmAnswerer,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
) -> LlmEvalReport:
    """Build (or reuse) the evaluation's index and answer every question through the LLM path."""
    setup = open_eval(inputs, settings, work_dir, embedder, progress)
    engine, questions = setup.engine, setup.questions
    config = {**setup.config, "llm_model": llm.settings.model, "llm_base_url": llm.settings.base_url}
    report = LlmEvalReport(config)
    engine.ask("warm up")
    for number, question in enumerate(questions):
        if progress:
            progress("questions", number, len(questions))
        extractive, hits = engine.ask_and_search(question.text, RANKING.search_depth)
        started = time.perf_counter()
        result = asyncio.run(llm.answer(extractive, hits))
        shown = result.shown(extractive)
        report.results.append(
            LlmQuestionResult(
                question.id,
                question.text,
                result.answered_by,
                result.fallback_kind,
                shown.found,
                _cited_hit(shown, question.answers),
                _cited_hit(extractive, question.answers),
                result.answer is not None and _holds_gold(result.answer.text, question.answers),
                result.sentences,
                result.passed,
                result.seconds or (time.perf_counter() - started if result.passages else 0.0),
                result.prompt_tokens,
                result.completion_tokens,
                shown.text[: RANKING.answer_chars],
            )
        )
    if progress:
        progress("questions", len(questions), len(questions))
    engine.close()
    return report
