"""The LLM step: the question and its passages to the model, its reply checked sentence by sentence, and either
an answer made of the sentences that passed (citing the original passages) or the reason to send the
extractive answer instead. It never raises for anything the model or its server does.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from index.llm.client import ChatClient, Completion, LlmCallError
from index.llm.prompt import NO_ANSWER, Passage, build_messages, passages_for
from index.llm.settings import LlmSettings
from index.llm.verify import Check, Verifier, passed_text, split_units, supporting_span
from index.records import Answer, Citation, SearchHit
from index.text.places import Places, load_places
from index.text.scripts import script_of
from index.text.typed_spans import SpanFinder

if TYPE_CHECKING:
    import httpx

_LOG = logging.getLogger(__name__)
Draft = Callable[[str], Awaitable[None]]  # called with the verified sentences so far, as the model streams
FAILURES = frozenset({"timeout", "rate_limited", "http_error", "network", "malformed", "empty"})
_SCRIPT_NAMES = {"arabic": "Arabic", "latin": "Latin"}


@dataclass(frozen=True)
class LlmAnswer:
    """What the LLM step made of one question: ``answer`` (the verified sentences, citing the passages they
    came from) or None, with ``fallback`` saying why the extractive answer is sent instead."""

    answer: Answer | None
    model: str
    # why not: a failed call (see FAILURES), or paused (after a 429), no_passages, no_answer (the model said the
    # passages do not answer), wrong_language, unverified (no sentence passed); a front end may add its own (cap)
    fallback_kind: str = ""
    fallback: str = ""  # one sentence for the operator's log
    passages: int = 0  # passages given to the model
    sentences: int = 0  # sentences the model wrote
    passed: int = 0  # of them, those that passed verification
    dropped: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (sentence, why it failed)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0  # the model's call

    @property
    def answered_by(self) -> str:
        """ "llm" or "extractive": where the answer to show comes from."""
        return "llm" if self.answer is not None else "extractive"

    def shown(self, extractive: Answer) -> Answer:
        """The answer to show: the verified one, else the extractive one."""
        return self.answer if self.answer is not None else extractive

    @property
    def note(self) -> str:
        """One line to show under a verified answer, saying who wrote it; empty for the extractive answer."""
        if self.answer is None:
            return ""
        return f"Written by {self.model} from the sources below; every name, number and date was checked against them."

    @property
    def origin(self) -> str:
        """Where the shown answer comes from, in one line for the terminal and the command line."""
        if self.answer is not None:
            return f"Answered by {self.model}; every name, number and date was checked against the sources."
        return f"Quoted from the articles: the answer of {self.model} was not used ({self.fallback})."

    def to_json(self) -> dict:
        return {
            "model": self.model,
            "verified": self.answer is not None,
            "fallback": self.fallback_kind or None,
            "fallback_reason": self.fallback or None,
            "passages": self.passages,
            "sentences": self.sentences,
            "sentences_passed": self.passed,
            "dropped": [{"text": text, "problems": list(problems)} for text, problems in self.dropped],
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class LlmStats:
    """Counts since start: calls to the model, verified answers, fallbacks (by reason) and tokens."""

    calls: int = 0
    verified: int = 0
    fallbacks: Counter[str] = field(default_factory=Counter)
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def failures(self) -> int:
        """Calls that got no usable reply (timeouts, errors, rate limits, malformed or empty replies)."""
        return sum(count for kind, count in self.fallbacks.items() if kind in FAILURES)

    def count(self, result: LlmAnswer, called: bool) -> None:
        self.calls += called
        self.prompt_tokens += result.prompt_tokens
        self.completion_tokens += result.completion_tokens
        if result.answer is not None:
            self.verified += 1
        else:
            self.fallbacks[result.fallback_kind] += 1


class LlmAnswerer:
    """Writes answers with the configured model, checks them, and keeps count. One per process; the places list
    for finding names is read on first use. While the server has asked to wait (429 Retry-After) it is not called."""

    def __init__(
        self,
        settings: LlmSettings,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        places: Places | None = None,
    ) -> None:
        self.settings = settings
        self.client = ChatClient(settings, transport)
        self.stats = LlmStats()
        self._clock = clock
        self._paused_until = 0.0
        self._places = places
        self._finder: SpanFinder | None = None

    def _span_finder(self) -> SpanFinder:
        if self._finder is None:
            self._finder = SpanFinder(places=self._places or load_places())
        return self._finder

    async def answer(self, extractive: Answer, hits: Sequence[SearchHit], on_draft: Draft | None = None) -> LlmAnswer:
        """The model's verified answer to ``extractive.question`` from the extractive answer's passages and the next
        best ``hits``; streamed when ``on_draft`` is given (it sees the sentences that passed so far)."""
        wait = self._paused_until - self._clock()
        if wait > 0:
            return self._fell_back(
                "paused", f"the model's server asked to wait {wait:.0f} s more (HTTP 429); it was not asked", 0
            )
        passages = passages_for(extractive, hits)
        if not passages:
            return self._fell_back("no_passages", "no passage was found to give the model", 0)
        verifier = Verifier(extractive.question, passages, self._span_finder())
        drafts = _Drafts(verifier, on_draft) if on_draft is not None else None
        try:
            completion = await self.client.complete(
                build_messages(extractive.question, passages), drafts.on_text if drafts else None
            )
        except LlmCallError as exc:
            if exc.kind == "rate_limited" and exc.retry_after:
                self._paused_until = self._clock() + exc.retry_after
            return self._fell_back(exc.kind, str(exc), len(passages))
        result = _verified(extractive, passages, verifier, completion, self.settings.model)
        self.stats.count(result, called=True)
        _log(result)
        return result

    def _fell_back(self, kind: str, reason: str, passages: int) -> LlmAnswer:
        result = LlmAnswer(None, self.settings.model, kind, reason, passages)
        self.stats.count(result, called=passages > 0)
        _log(result)
        return result


class _Drafts:
    """Checks each sentence as soon as the stream completes it, and shows the ones that pass."""

    def __init__(self, verifier: Verifier, on_draft: Draft) -> None:
        self.verifier = verifier
        self.on_draft: Draft | None = on_draft
        self.checks: list[Check] = []
        self.shown = ""

    async def on_text(self, reply: str) -> None:
        started = reply.lstrip()
        if self.on_draft is None or started.startswith(NO_ANSWER) or NO_ANSWER.startswith(started):
            return
        units, _ = split_units(reply, final=False)
        self.checks += [self.verifier.check(unit) for unit in units[len(self.checks) :]]
        text = passed_text(self.checks)
        if text and text != self.shown:
            self.shown = text
            try:
                await self.on_draft(text)
            except Exception:  # a draft that cannot be shown must not lose the answer
                _LOG.exception("Showing a draft of the LLM answer failed; no more drafts for this answer.")
                self.on_draft = None


def _verified(
    extractive: Answer, passages: list[Passage], verifier: Verifier, completion: Completion, model: str
) -> LlmAnswer:
    """The answer made of the sentences that pass, or why there is none."""
    called = LlmAnswer(
        None,
        model,
        passages=len(passages),
        prompt_tokens=completion.prompt_tokens,
        completion_tokens=completion.completion_tokens,
        seconds=completion.seconds,
    )
    reply = completion.text.strip()
    if reply.startswith(NO_ANSWER):
        return replace(called, fallback_kind="no_answer", fallback="the model said the passages do not answer")
    units, _ = split_units(reply)
    written = " ".join(unit.text for unit in units)
    if script_of(written) != verifier.script:
        said, asked = _SCRIPT_NAMES[script_of(written)], _SCRIPT_NAMES[verifier.script]
        reason = f"the model answered in {said} script, but the question is in {asked} script"
        return replace(called, fallback_kind="wrong_language", fallback=reason, sentences=len(units))
    checks = [verifier.check(unit) for unit in units]
    passed = [check for check in checks if check.passed]
    dropped = tuple((check.unit.text, check.problems) for check in checks if not check.passed)
    called = replace(called, sentences=len(checks), passed=len(passed), dropped=dropped)
    if not passed:
        first = f": {dropped[0][1][0]}" if dropped else ""
        reason = f"none of the model's {len(checks)} sentences passed verification{first}"
        return replace(called, fallback_kind="unverified", fallback=reason)
    return replace(called, answer=_as_answer(extractive, passages, passed))


def _as_answer(extractive: Answer, passages: list[Passage], passed: list[Check]) -> Answer:
    """The passed sentences as an Answer: the passages they cite renumbered 1, 2, … in order of first citation,
    each quoting (the original text of) its sentence that best supports them."""
    by_number = {passage.number: passage for passage in passages}
    renumbered: dict[int, int] = {}
    for check in passed:
        for number in check.unit.citations:
            renumbered.setdefault(number, len(renumbered) + 1)
    sentences = []
    for check in passed:
        numbers = [renumbered[n] for n in check.unit.citations]
        text = check.unit.text + "".join(f" [{n}]" for n in numbers[:-1])
        sentences.append((text, numbers[-1]))
    citations = []
    for old, new in renumbered.items():
        passage = by_number[old]
        claims = [check.unit.text for check in passed if old in check.unit.citations]
        citations.append(_citation(new, passage, claims))
    dates = sorted({c.published[:10] for c in citations if c.published})
    return Answer(
        extractive.question,
        True,
        sentences,
        citations,
        as_of=dates[-1] if len(dates) > 1 else "",
        timeframe=extractive.timeframe,
        timeframe_matched=extractive.timeframe_matched,
    )


def _citation(number: int, passage: Passage, claims: list[str]) -> Citation:
    span = supporting_span(passage.text, claims)
    quote, start, end = "", max(passage.start, 0), max(passage.start, 0)
    if span is not None and passage.start >= 0:
        quote, start, end = passage.text[span[0] : span[1]], passage.start + span[0], passage.start + span[1]
    return Citation(
        number,
        passage.article_id,
        passage.title,
        passage.source,
        passage.url,
        passage.published,
        quote,
        start,
        end,
        passage.text,
        passage.score,
        passage.also_in,
    )


def _log(result: LlmAnswer) -> None:
    for text, problems in result.dropped:
        _LOG.info("LLM sentence dropped (%s): %s", "; ".join(problems), text[:300])
    if result.answer is None:
        level = logging.WARNING if result.fallback_kind in FAILURES else logging.INFO
        _LOG.log(level, "LLM answer not used (%s): %s; the extractive answer is sent.", result.fallback_kind,
                 result.fallback)  # fmt: skip
