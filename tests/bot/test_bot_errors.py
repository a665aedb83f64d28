"""Unexpected failures: the operator gets the traceback, the user one apologetic line."""

from __future__ import annotations

import shutil

from bot_harness import READER_ID, hashing_embedder, index_settings
from fake_telegram import private_chat, user

from bot import messages
from bot.formatting import shortened_trace
from index.engine import Engine

OPERATOR_ID = 9009


def test_a_damaged_index_gets_an_apology_and_the_operator_gets_the_traceback(fake, tmp_path, shared_index, start_bot):
    shutil.copytree(shared_index[1], tmp_path / "index", symlinks=True)
    manifest = (tmp_path / "index" / "CURRENT").resolve() / "manifest.json"
    manifest.write_text("{ not json", encoding="utf-8")
    engine = Engine(index_settings(tmp_path / "index"), embedder=hashing_embedder())
    start_bot(engine, operator_chat_id=OPERATOR_ID)
    fake.send_text(private_chat(READER_ID), user(READER_ID), "Who met Haftar?")
    [apology] = fake.wait_for("sendMessage", chat_id=READER_ID)
    assert apology.result["text"] == messages.APOLOGY
    [report] = fake.wait_for("sendMessage", chat_id=OPERATOR_ID)
    assert report.result["text"].startswith("Bot error\nTraceback (most recent call last):")
    assert "IndexCorruptError: The index in" in report.result["text"]
    assert "manifest.json cannot be read" in report.result["text"]
    assert report.params["text"].count("<pre>") == 1
    engine.close()


def test_an_index_built_with_another_model_asks_for_a_rebuild(fake, start_bot, shared_index):
    other = Engine(index_settings(shared_index[1]), embedder=hashing_embedder(model_id="test:other-model"))
    start_bot(other)
    fake.send_text(private_chat(READER_ID), user(READER_ID), "Who met Haftar?")
    [reply] = fake.wait_for("sendMessage", chat_id=READER_ID)
    assert reply.result["text"] == messages.INDEX_MISMATCH
    other.close()


def test_a_long_traceback_keeps_its_first_lines_and_its_end():
    frames = "".join(f'  File "/deep/module_{n}.py", line {n}, in step_{n}\n    step_{n + 1}()\n' for n in range(200))
    trace = f"Traceback (most recent call last):\n{frames}IndexCorruptError: The index in /x is damaged\n"
    short = shortened_trace(trace)
    assert len(short) <= 3500 and short.startswith("Traceback (most recent call last):\n  File")
    assert short.endswith("IndexCorruptError: The index in /x is damaged\n") and "…\n" in short
    assert "module_199.py" in short and "module_100.py" not in short  # the middle frames go
    assert shortened_trace("Traceback: short\n") == "Traceback: short\n"
