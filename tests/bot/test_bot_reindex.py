"""/reindex, end to end: admins rebuild in the background while questions keep being answered."""

from __future__ import annotations

import json
import time

from bot_harness import ADMIN_ID, NEW_ARTICLE, READER_ID, GatedEmbedder, built_engine, write_article, write_articles
from fake_telegram import private_chat, user

from bot import messages

ADMIN_CHAT, ADMIN = private_chat(ADMIN_ID, "Admin"), user(ADMIN_ID, "Admin")
READER_CHAT, READER = private_chat(READER_ID), user(READER_ID)
SOLAR = "Which solar farm started feeding the southern grid near Sabha?"


def test_a_non_admin_is_refused_politely(fake, engine, start_bot):
    start_bot(engine)
    fake.send_text(READER_CHAT, READER, "/reindex")
    [reply] = fake.wait_for("sendMessage", chat_id=READER_ID)
    assert reply.result["text"] == messages.NOT_ADMIN


def test_an_admin_rebuilds_while_questions_are_answered_then_the_new_articles_are_served(fake, tmp_path, start_bot):
    articles = write_articles(tmp_path / "articles")
    embedder = GatedEmbedder()
    engine = built_engine(tmp_path / "index", articles, embedder)
    start_bot(engine, articles)
    write_article(articles, "sabha-solar.jsonl", NEW_ARTICLE)
    embedder.gate.clear()

    fake.send_text(ADMIN_CHAT, ADMIN, "/reindex")
    [status] = fake.wait_for("sendMessage", chat_id=ADMIN_ID)
    assert status.result["text"].startswith("Rebuilding the index from ")
    assert embedder.build_waiting.wait(10), "the rebuild never started encoding"

    fake.send_text(READER_CHAT, READER, "Who met Haftar?")  # answered from the old index meanwhile
    [during] = fake.wait_for("sendMessage", chat_id=READER_ID)
    assert "Sources" in during.result["text"]
    fake.send_text(READER_CHAT, READER, SOLAR)
    assert (
        "Solar farm opens near Sabha" not in fake.wait_for("sendMessage", chat_id=READER_ID, count=2)[1].result["text"]
    )
    fake.send_text(ADMIN_CHAT, ADMIN, "/reindex")  # one rebuild at a time
    busy = fake.wait_for("sendMessage", chat_id=ADMIN_ID, count=2)[1]
    assert busy.result["text"].startswith("A rebuild of the index is already running")
    progress = fake.wait_for("editMessageText", chat_id=ADMIN_ID, message_id=status.result["message_id"])
    assert "embedding: 0 of 1" in progress[0].result["text"]
    assert not embedder.gate.is_set(), "the rebuild must still be running while all this happens"

    embedder.gate.set()
    done = _wait_for_edit(fake, ADMIN_ID, status.result["message_id"], "Rebuilt the index")
    assert "4 articles" in done and "1 added" in done and "3 unchanged" in done
    fake.send_text(READER_CHAT, READER, SOLAR)
    after = fake.wait_for("sendMessage", chat_id=READER_ID, count=3)[2].result["text"]
    assert "Solar farm opens near Sabha" in after and "Energy Weekly, 2019-12-01" in after
    engine.close()


def test_a_failed_rebuild_reports_why_and_the_old_index_keeps_serving(fake, tmp_path, engine, start_bot):
    empty = tmp_path / "no-articles"
    empty.mkdir()
    start_bot(engine, empty)
    fake.send_text(ADMIN_CHAT, ADMIN, "/reindex")
    [status] = fake.wait_for("sendMessage", chat_id=ADMIN_ID)
    text = _wait_for_edit(fake, ADMIN_ID, status.result["message_id"], "The rebuild failed")
    assert "There are no articles to index" in text and "I keep answering from the previous index." in text
    assert "\n" not in text
    fake.send_text(READER_CHAT, READER, "Who met Haftar?")
    assert "Sources" in fake.wait_for("sendMessage", chat_id=READER_ID)[0].result["text"]


def _wait_for_edit(fake, chat_id: int, message_id: int, prefix: str, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for call in fake.calls_of("editMessageText", chat_id=chat_id, message_id=message_id):
            if call.ok and call.result["text"].startswith(prefix):
                return call.result["text"]
        fake.wait_for(
            "editMessageText",
            count=len(fake.calls_of("editMessageText")) + 1,
            timeout=deadline - time.monotonic(),
            ok=None,
        )
    raise AssertionError(
        f"no edit starting with {prefix!r}: {json.dumps([c.params for c in fake.calls_of('editMessageText')])}"
    )
