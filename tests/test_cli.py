"""``python -m index`` as a person runs it: real processes, the fake encoder, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from index.cli import main
from tests.conftest import PROJECT


def run(args, tmp_path, stdin: str | None = None, **env):
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "INDEX_DIR": str(tmp_path / "index"),
        "EMBEDDING_MODEL": "test:hashing",
        "PYTHONPATH": str(PROJECT),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "index", *map(str, args)],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        cwd=PROJECT,
        timeout=120,
    )


def test_build_stats_search_ask_remove(tmp_path, news_folder):
    built = run(["build", news_folder], tmp_path)
    assert built.returncode == 0, built.stderr
    assert "3 articles" in built.stdout and "3 added" in built.stdout

    stats = run(["stats"], tmp_path)
    assert "3 articles" in stats.stdout and '"fingerprint"' in stats.stdout

    search = run(["search", "--json", "-k", "2", "olive", "oil", "prices"], tmp_path)
    result = json.loads(search.stdout)
    assert result["question"] == "olive oil prices" and len(result["hits"]) == 2
    assert set(result["hits"][0]) == {
        "article_id",
        "title",
        "source",
        "url",
        "published",
        "chunk_id",
        "start",
        "end",
        "text",
        "score",
    }
    assert result["hits"][0]["article_id"] == "olive-harvest"

    asked = run(["ask", "olive oil prices in Europe"], tmp_path)
    assert (
        asked.returncode == 0
        and "[1]" in asked.stdout
        and "Olive harvest starts early in Tunisia — Farm News" in asked.stdout
    )

    removed = run(["remove", "olive-harvest"], tmp_path)
    assert "1 removed" in removed.stdout and "2 articles" in removed.stdout


def test_search_reads_many_questions_from_stdin(tmp_path, news_folder):
    run(["build", news_folder], tmp_path)
    questions = "olive oil\n\nHaftar delegation\nنفط ليبيا\n"
    search = run(["search", "--json", "-k", "1"], tmp_path, stdin=questions)
    lines = [json.loads(line) for line in search.stdout.splitlines()]
    assert [line["question"] for line in lines] == ["olive oil", "Haftar delegation", "نفط ليبيا"]
    assert [line["hits"][0]["article_id"] for line in lines] == ["olive-harvest", "haftar-delegation", "arabic-oil"]


def test_add_is_incremental(tmp_path, news_folder):
    run(["build", news_folder], tmp_path)
    (news_folder / "new.txt").write_text("Port reopens\n\nShips returned to Misrata.", encoding="utf-8")
    added = run(["add", news_folder], tmp_path)
    assert "1 added, 0 changed, 3 unchanged" in added.stdout


@pytest.mark.parametrize(
    "args, env, message",
    [
        (["ask", "hello"], {}, "There is no index in"),
        (["build", "no/such/folder"], {}, "There are no articles to index"),
        (["ask", "hello"], {"CHUNK_TOKENS": "lots"}, "CHUNK_TOKENS must be a whole number"),
        (["build", "examples/articles"], {"FAISS_FACTORY": "Bogus"}, "FAISS_FACTORY"),
    ],
)
def test_errors_are_one_line_without_traceback(tmp_path, args, env, message):
    result = run(args, tmp_path, **env)
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in errors[0], result.stderr
    assert "Traceback" not in result.stderr


def test_empty_question_from_stdin_is_skipped_and_bad_one_reported(tmp_path, news_folder):
    run(["build", news_folder], tmp_path)
    result = run(["ask"], tmp_path, stdin="   \n" + "x" * 600 + "\nolive oil\n")
    assert "error: The question is 600 characters long" in result.stderr
    assert "Farm News" in result.stdout and result.returncode == 1


@pytest.mark.model  # the refusal comes after loading the bundled model
def test_index_built_with_another_model_is_refused_in_one_line(tmp_path, news_folder, model_cache_dir):
    run(["build", news_folder], tmp_path)
    result = run(["ask", "olive oil"], tmp_path, EMBEDDING_MODEL="", MODEL_CACHE_DIR=str(model_cache_dir))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "was built with the model test:hashing" in result.stderr


@pytest.mark.parametrize("option_first", [True, False], ids=["before the command", "after the command"])
def test_index_dir_is_accepted_before_and_after_the_command(tmp_path, news_folder, capsys, option_first):
    chosen = tmp_path / "chosen"
    option = ["--index-dir", str(chosen)]
    build, stats = (
        ([*option, "build", str(news_folder)], [*option, "stats"])
        if option_first
        else (["build", *option, str(news_folder)], ["stats", *option])
    )
    environment = {"INDEX_DIR": str(tmp_path / "default"), "EMBEDDING_MODEL": "test:hashing"}
    assert main(build, environment) == 0
    assert main(stats, environment) == 0
    assert "3 articles" in capsys.readouterr().out
    assert chosen.is_dir() and not (tmp_path / "default").exists()
