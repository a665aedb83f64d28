"""The terminal chat, in process: builds a missing index, then answers each line like the bot."""

from __future__ import annotations

import io

from bot_harness import hashing_embedder, index_settings, write_articles

from bot.terminal import run_terminal_chat
from index.answer.render import answer_as_text
from index.engine import Engine


class Terminal(io.StringIO):
    """Standard input as a person at a terminal types it."""

    def isatty(self) -> bool:
        return True


def test_the_terminal_chat_builds_the_index_then_answers_each_line(tmp_path):
    articles = write_articles(tmp_path / "articles")
    engine = Engine(index_settings(tmp_path / "index"), embedder=hashing_embedder())
    stdout, stderr = io.StringIO(), io.StringIO()
    status = run_terminal_chat(
        engine, [str(articles)], io.StringIO("Who met Haftar?\n\n   \n" + "x" * 600 + "\n"), stdout, stderr
    )
    assert status == 0 and engine.has_index()
    assert "No index yet; building one from" in stderr.getvalue() and "embedding: " in stderr.getvalue()
    assert "3 articles, " in stderr.getvalue()
    printed = stdout.getvalue()
    assert printed.startswith(answer_as_text(engine.ask("Who met Haftar?")) + "\n\n")
    assert printed.rstrip().endswith("The question is 600 characters long; please keep it under 500.")
    assert printed.count("\nSources:\n") == 1  # the blank lines were not questions
    engine.close()


def test_at_a_terminal_it_prompts_for_each_question(tmp_path):
    articles = write_articles(tmp_path / "articles")
    engine = Engine(index_settings(tmp_path / "index"), embedder=hashing_embedder())
    engine.update([str(articles)], replace_all=True)
    stdout, stderr = io.StringIO(), io.StringIO()
    assert run_terminal_chat(engine, [str(articles)], Terminal("من التقى حفتر؟\n"), stdout, stderr) == 0
    assert stderr.getvalue().count("Question: ") == 2 and "Ctrl-D" in stderr.getvalue()
    assert "building" not in stderr.getvalue()
    assert "روسيا كلمة السر في ليبيا — الجزيرة, 2019-11-20" in stdout.getvalue()
    engine.close()


def test_an_index_built_with_another_model_is_rebuilt_before_answering(tmp_path):
    from index.encoders.base import HashingEmbedder

    articles = write_articles(tmp_path / "articles")
    other_model = HashingEmbedder(model_id="test:other")
    Engine(index_settings(tmp_path / "index"), embedder=other_model).update([str(articles)], replace_all=True)
    engine = Engine(index_settings(tmp_path / "index"), embedder=hashing_embedder())
    stdout, stderr = io.StringIO(), io.StringIO()
    assert run_terminal_chat(engine, [str(articles)], io.StringIO("Who met Haftar?\n"), stdout, stderr) == 0
    assert "was built with the model test:other" in stderr.getvalue() and "Rebuilding it from" in stderr.getvalue()
    assert "\nSources:\n" in stdout.getvalue()
    engine.close()


def test_a_damaged_index_is_rebuilt_before_answering(tmp_path):
    from index.storage import generations

    articles = write_articles(tmp_path / "articles")
    Engine(index_settings(tmp_path / "index"), embedder=hashing_embedder()).update([str(articles)], replace_all=True)
    store = generations.current_generation(tmp_path / "index") / generations.STORE
    store.write_bytes(b"this is not a SQLite database" * 100)
    engine = Engine(index_settings(tmp_path / "index"), embedder=hashing_embedder())
    stdout, stderr = io.StringIO(), io.StringIO()
    assert run_terminal_chat(engine, [str(articles)], io.StringIO("Who met Haftar?\n"), stdout, stderr) == 0
    assert "is damaged" in stderr.getvalue() and "Rebuilding it from" in stderr.getvalue()
    assert "\nSources:\n" in stdout.getvalue()
    engine.close()
