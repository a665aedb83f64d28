"""What the model is given: the question and the numbered passages (each with its outlet and date).

The passages are the citations of the extractive answer, then the next best search hits from other parts
of the articles, at most MAX_PASSAGES. The model is told to answer in the question's language, only from
the passages, each sentence ending with its ``[n]``, and to say NO_ANSWER when the passages do not answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from index.llm.client import Message
from index.records import Answer, Citation, SearchHit
from index.text.normalise import ENGLISH_STOPWORDS, words
from index.text.scripts import script_of

MAX_PASSAGES = 6
MAX_PASSAGE_CHARS = 2500  # a passage joined from two chunks may be long; the model sees (and is checked on) this much
NO_ANSWER = "NO_ANSWER"


@dataclass(frozen=True)
class Passage:
    """One numbered passage the model is given: an article's text from ``start`` (an offset into it, or -1
    when unknown) and where it comes from."""

    number: int
    article_id: str
    title: str
    source: str
    url: str
    published: str
    text: str
    start: int
    score: float
    also_in: tuple[str, ...] = ()

    @property
    def heading(self) -> str:
        details = ", ".join(part for part in (self.source, self.published[:10]) if part)
        return f"{details} — {self.title}" if details else self.title


def _from_citation(number: int, citation: Citation) -> Passage:
    passage = citation.passage or citation.quote
    at = passage.find(citation.quote) if citation.quote else -1
    start = citation.start - at if at >= 0 else -1
    return Passage(
        number,
        citation.article_id,
        citation.title,
        citation.source,
        citation.url,
        citation.published,
        passage[:MAX_PASSAGE_CHARS],
        start,
        citation.score,
        citation.also_in,
    )


def _from_hit(number: int, hit: SearchHit) -> Passage:
    return Passage(
        number,
        hit.article_id,
        hit.title,
        hit.source,
        hit.url,
        hit.published,
        hit.text[:MAX_PASSAGE_CHARS],
        hit.start,
        hit.score,
    )


def passages_for(answer: Answer, hits: Sequence[SearchHit], limit: int = MAX_PASSAGES) -> list[Passage]:
    """The extractive answer's cited passages, then the best hits that are not inside one of them."""
    passages: list[Passage] = []
    for citation in sorted(answer.citations, key=lambda c: c.number):
        text = citation.passage or citation.quote
        if text.strip() and all(p.text != text[:MAX_PASSAGE_CHARS] for p in passages):
            passages.append(_from_citation(len(passages) + 1, citation))
    for hit in hits:
        if len(passages) >= limit:
            break
        if hit.text.strip() and not any(_covers(passage, hit) for passage in passages):
            passages.append(_from_hit(len(passages) + 1, hit))
    return passages[:limit]


def _covers(passage: Passage, hit: SearchHit) -> bool:
    if passage.article_id != hit.article_id:
        return False
    if passage.start < 0:
        return hit.text in passage.text
    return passage.start < hit.end and hit.start < passage.start + len(passage.text)


def language_of(question: str) -> str:
    """The language to answer in, as the model is told: Arabic, English, or "the language of the question"."""
    if script_of(question) == "arabic":
        return "Arabic"
    return "English" if any(word in ENGLISH_STOPWORDS for word in words(question)) else "the language of the question"


def build_messages(question: str, passages: Sequence[Passage]) -> list[Message]:
    """The system rules and the user message (numbered passages, then the question)."""
    language = language_of(question)
    rules = (
        "You answer questions about news articles using only the numbered passages you are given.\n"
        f"1. Write in {language}, the language of the question, even when the passages are in another language: "
        "translate what they say. Spell names as the passages do, transliterated when the script differs.\n"
        "2. Use only what the passages state. Add nothing from your own knowledge.\n"
        "3. End every sentence with the number of the passage it comes from in square brackets, like this: [2]. "
        "A sentence drawn from two passages ends with both, like this: [1][3].\n"
        "4. Every name, number and date you write must appear in the passage you cite.\n"
        "5. Write at most four short sentences: no heading, no list, no introduction.\n"
        f"6. If the passages do not answer the question, reply with exactly {NO_ANSWER} and nothing else."
    )
    blocks = [f"[{p.number}] {p.heading}\n{' '.join(p.text.split())}" for p in passages]
    user = (
        "Passages:\n\n" + "\n\n".join(blocks) + f"\n\nQuestion: {question}\n\n"
        f"Answer in {language}, every sentence ending with its [n]."
    )
    return [{"role": "system", "content": rules}, {"role": "user", "content": user}]
