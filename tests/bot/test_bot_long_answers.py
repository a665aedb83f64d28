"""An answer longer than one Telegram message arrives as several valid messages."""

from __future__ import annotations

import re

import pytest
from bot_harness import READER_ID, built_engine, hashing_embedder, long_article, write_articles
from fake_telegram import parse_html, private_chat, user

CHAT, READER = private_chat(READER_ID), user(READER_ID)


@pytest.fixture
def long_engine(tmp_path):
    """An index whose chunks are hundreds of words, of one article that is a single run-on sentence longer than a
    message: the answer alone (its article's heading has no context to quote beside it) needs two messages."""
    articles = write_articles(tmp_path / "articles", {"misrata.jsonl": long_article(words=720)})
    engine = built_engine(
        tmp_path / "index", articles, hashing_embedder(max_tokens=1024), chunk_tokens=960, chunk_overlap_tokens=0
    )
    yield engine
    engine.close()


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def test_a_long_answer_is_split_into_several_valid_messages(fake, long_engine, start_bot):
    start_bot(long_engine)
    fake.send_text(CHAT, READER, "What did the desalination plant in Misrata do?")
    parts = fake.wait_for("sendMessage", chat_id=READER_ID, count=2)
    bot_parts = [call for call in fake.calls_of("sendMessage", chat_id=READER_ID) if call.ok]
    assert len(bot_parts) >= 2 and len(bot_parts) == len(fake.calls_of("sendMessage", chat_id=READER_ID))
    texts = [parse_html(call.params["text"]) for call in bot_parts]  # the fake accepted each one already
    assert all(_units(text) <= 4096 for text in texts)
    assert sum(map(_units, texts)) > 4096
    article_words = set(re.findall(r"\w+", long_article()["text"]))
    for text in texts:  # no part starts or ends inside a word
        first, last = re.findall(r"\w+", text)[0], re.findall(r"\w+", text)[-1]
        assert first in article_words | {"the", "desalination", "Sources", "1"}, first
        assert last in article_words | {"1", "2019", "14"}, last  # the last part may end with the date
    assert "reply_markup" not in bot_parts[0].params and "reply_markup" in bot_parts[-1].params
    whole = "\n".join(texts)
    assert "Water & Power, 2019-09-14" in whole and "Misrata desalination plant <report> & review" in whole
    assert parts[0].result["text"].startswith("the desalination plant in Misrata")
