"""How an answer reads in Telegram, end to end against the fake Bot API server: the answer first with its
typed span in bold, then each cited article once with its context in an expandable quote; and article
data that would break a link (a URL with spaces or line breaks) never breaks a message."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from bot_harness import READER_ID, hashing_embedder, index_settings, write_articles
from fake_telegram import private_chat, user

from bot import messages
from index import Answer, Citation, Engine

CHAT, READER = private_chat(READER_ID), user(READER_ID)
BAD_URL = "https://example.com/a b\nc"
TWICE = "Who was in the delegation?"


class MarkingEngine(Engine):
    """The real engine, with the typed span a fitted reader would mark ("General Khalifa Haftar" for "who met
    Haftar?"), and one scripted answer citing one article twice (the hashing encoder marks nothing)."""

    def ask(self, question: str) -> Answer:
        answer = super().ask(question)
        if question == TWICE:
            return self._cited_twice(answer)
        if not answer.found:
            return answer
        sentence = answer.sentences[0][0]
        at = sentence.find("General Khalifa Haftar")
        return replace(answer, marks=((0, at, at + len("General Khalifa Haftar")),)) if at >= 0 else answer

    def _cited_twice(self, answer: Answer) -> Answer:
        hit = next(hit for hit in self.search("Who met Haftar?", 5) if hit.article_id == "us-haftar-meeting")
        sentences = [
            "A senior US delegation met General Khalifa Haftar on Sunday to press for a ceasefire in Tripoli.",
            "The delegation included deputy national security adviser Victoria Coates and ambassador Richard Norland.",
        ]
        citations = []
        for number, sentence in enumerate(sentences, start=1):
            start = hit.start + hit.text.index(sentence)
            citations.append(
                Citation(
                    number,
                    hit.article_id,
                    hit.title,
                    hit.source,
                    hit.url,
                    hit.published,
                    sentence,
                    start,
                    start + len(sentence),
                    hit.text,
                    0.9,
                )  # fmt: skip
            )
        marks = ((1, sentences[1].index("Victoria Coates"), sentences[1].index(" and ambassador")),)
        return Answer(answer.question, True, [(s, n) for n, s in enumerate(sentences, start=1)], citations, marks=marks)


def _engine(tmp_path: Path, bad_url: str = "") -> MarkingEngine:
    """An index of the three little articles; with ``bad_url``, the Haftar article's URL as an index built
    before URLs were checked may hold it (the loader now drops such URLs, so it is written into the store)."""
    articles = write_articles(tmp_path / "articles")
    Engine(index_settings(tmp_path / "index"), embedder=hashing_embedder()).update([str(articles)], replace_all=True)
    if bad_url:
        with sqlite3.connect(tmp_path / "index" / "CURRENT" / "store.sqlite") as store:
            changed = store.execute("UPDATE articles SET url = ? WHERE id = 'us-haftar-meeting'", (bad_url,))
            assert changed.rowcount == 1
    return MarkingEngine(index_settings(tmp_path / "index"), embedder=hashing_embedder())


@pytest.fixture
def marking_engine(tmp_path):
    engine = _engine(tmp_path)
    yield engine
    engine.close()


@pytest.fixture
def bad_url_engine(tmp_path):
    engine = _engine(tmp_path, BAD_URL)
    yield engine
    engine.close()


def _send(fake, text: str, count: int = 1):
    """The ``count``-th message the bot sent to the reader, refused by the server or not."""
    fake.send_text(CHAT, READER, text)
    return fake.wait_for("sendMessage", chat_id=READER_ID, count=count, ok=None)[count - 1]


def test_a_short_answer_has_its_typed_span_in_bold_and_its_article_once_with_context(fake, marking_engine, start_bot):
    start_bot(marking_engine)
    call = _send(fake, "Who met Haftar?")
    html = call.params["text"]
    assert call.ok, call.description
    assert html.startswith("A senior US delegation met <b>General Khalifa Haftar</b> on Sunday to press for a ")
    lead, _, sources = html.partition("\n\n<b>Sources</b>\n")
    assert lead.endswith("in Tripoli. [1]") and sources
    assert sources.startswith(
        '[1] <a href="https://news.example.com/2019/11/us-haftar-meeting">US delegation meets Haftar over Russian '
        "role in Libya</a> — Example Wire, 2019-11-25\n<blockquote expandable>"
    )
    quote = sources.partition("<blockquote expandable>")[2].partition("</blockquote>")[0]
    # the context around the quoted sentence, the sentence itself in italics: not a bare copy of the answer
    assert quote.startswith("<i>A senior US delegation met General Khalifa Haftar on Sunday")
    assert "</i> The delegation included deputy national security adviser Victoria Coates" in quote
    assert sources.count("<blockquote") == 1
    plain = call.result["text"]
    assert plain.count("A senior US delegation met General Khalifa Haftar") == 2  # the answer, its context once


def test_an_article_cited_twice_appears_once_with_both_markers(fake, marking_engine, start_bot):
    start_bot(marking_engine)
    call = _send(fake, TWICE)
    html = call.params["text"]
    assert call.ok, call.description
    assert "[1] The delegation included deputy national security adviser <b>Victoria Coates</b> and " in html
    assert html.count("US delegation meets Haftar over Russian role in Libya") == 1
    assert "\n[1][2] <a href=" in html and html.count("<blockquote expandable>") == 1
    assert "<i>A senior US delegation met" in html and "<i>The delegation included" in html


def test_the_closest_passages_are_offered_in_the_same_layout(fake, marking_engine, start_bot):
    start_bot(marking_engine)
    call = _send(fake, "quantum chromodynamics lattice")
    html = call.params["text"]
    assert call.ok, call.description
    assert html.startswith("I could not find this in my articles.\n\n<b>Closest passages</b>\n[1] <a href=")
    assert html.count("<blockquote expandable>") == 3 and "<i>" not in html  # nothing is quoted as an answer


@pytest.mark.parametrize("question", ["Who met Haftar?", "quantum chromodynamics lattice"])
def test_a_url_with_spaces_and_line_breaks_does_not_break_an_answer(fake, bad_url_engine, start_bot, question):
    start_bot(bad_url_engine)
    call = _send(fake, question)
    assert call.ok, call.description
    html = call.params["text"]
    assert html != messages.APOLOGY
    assert "US delegation meets Haftar over Russian role in Libya — Example Wire, 2019-11-25" in call.result["text"]
    assert "example.com/a" not in html  # no link for it, the title as plain text


def test_a_url_with_spaces_and_line_breaks_does_not_break_sources(fake, bad_url_engine, start_bot):
    start_bot(bad_url_engine)
    _send(fake, "Who met Haftar?")
    call = _send(fake, "/sources", count=2)
    assert call.ok, call.description
    assert call.params["text"].startswith("<b>Passages for:</b> Who met Haftar?")
    assert "US delegation meets Haftar" in call.result["text"] and "example.com/a" not in call.params["text"]


def test_a_url_with_spaces_and_line_breaks_does_not_break_latest(fake, bad_url_engine, start_bot):
    start_bot(bad_url_engine)
    call = _send(fake, "/latest")
    assert call.ok, call.description
    plain = call.result["text"]
    assert "1. US delegation meets Haftar over Russian role in Libya — Example Wire, 2019-11-25" in plain
    assert '<a href="https://www.aljazeera.net/news/example-russia-libya">' in call.params["text"]
    assert "example.com/a" not in call.params["text"]
