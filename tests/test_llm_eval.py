"""``python -m index eval --llm``, and ``ask`` with an LLM: the plumbing, against the fake OpenAI-compatible server."""

from __future__ import annotations

import json

import pytest
from fake_openai import FakeOpenAI, Reply, user_message

from index.cli import main
from tests.conftest import NEWS
from tests.test_cli import run
from tests.test_evaluation import _squad


def _number_of(passages: str, text: str) -> str:
    return next(line[1] for line in passages.split("\n\n") if line.startswith("[") and text in line)


def _reply(body: dict) -> Reply:
    """Like a model: Libya's oil from the passage that has it; nothing for the farmers; a bad citation otherwise."""
    prompt = body["messages"][1]["content"]
    if "How much oil" in prompt:
        number = _number_of(prompt, "مليون")
        return Reply(f"Libya produces one million barrels of oil a day [{number}].", usage=(200, 12))
    if "farmers" in prompt:
        return Reply("NO_ANSWER", usage=(180, 2))
    return Reply("Exporters expect record prices in Europe [7].", usage=(190, 9))


@pytest.fixture
def openai():
    with FakeOpenAI(default=_reply) as server:
        yield server


def test_eval_llm_reports_verification_fallbacks_hits_latency_and_tokens(tmp_path, capsys, openai):
    arabic, english = _squad(tmp_path / "ar.json"), _squad(tmp_path / "en.json", english=True)
    env = {"EMBEDDING_MODEL": "test:hashing", "LLM_BASE_URL": openai.base_url, "LLM_MODEL": "fake-model"}
    args = ["eval", str(arabic), "--questions", str(english), "--llm", "--json", "--work-dir", str(tmp_path / "w")]
    assert main(args, env=env) == 0
    report = json.loads(capsys.readouterr().out)
    metrics = report["metrics"]
    assert metrics["questions"] == 3 and metrics["calls"] == 3 and len(openai.requests) == 3
    assert metrics["llm_answers"] == pytest.approx(1 / 3, abs=1e-3)
    assert metrics["fallback_reasons"] == {"no_answer": 1, "unverified": 1}
    assert metrics["sentences"] == 2 and metrics["sentences_passed"] == 0.5
    assert metrics["llm_cited_passage_hit"] == 1.0 and metrics["llm_text_hit"] == 0.0  # English text, Arabic gold
    assert (metrics["prompt_tokens"], metrics["completion_tokens"]) == (570, 23)
    assert metrics["latency_mean_s"] > 0 and report["config"]["llm_model"] == "fake-model"
    oil = next(q for q in report["questions"] if q["id"] == "q3")
    assert oil["answered_by"] == "llm" and oil["cited_hit"] and oil["answer"].startswith("Libya produces one million")
    assert all("Answer in English" in user_message(request) for request in openai.requests)


def test_eval_llm_text_summary(tmp_path, capsys, openai):
    squad = _squad(tmp_path / "ar.json")
    env = {"EMBEDDING_MODEL": "test:hashing", "LLM_BASE_URL": openai.base_url, "LLM_MODEL": "fake-model"}
    assert main(["eval", str(squad), "--llm", "--work-dir", str(tmp_path / "w")], env=env) == 0
    out = capsys.readouterr().out
    assert "3 questions from" in out and "through fake-model" in out
    assert "llm_cited_passage_hit" in out and "fallback reasons" in out and "tokens: " in out


def test_eval_llm_without_an_endpoint_says_what_to_set(tmp_path, capsys):
    squad = _squad(tmp_path / "ar.json")
    assert main(["eval", str(squad), "--llm", "--work-dir", str(tmp_path / "w")], env={}) == 1
    assert "set LLM_BASE_URL and LLM_MODEL" in capsys.readouterr().err


def test_ask_json_and_text_say_where_the_answer_came_from(tmp_path, news_folder, openai):
    assert run(["build", news_folder], tmp_path).returncode == 0
    good = "Libya's oil production rose to one million barrels a day [{n}]."
    openai.default = lambda body: Reply(good.format(n=_number_of(body["messages"][1]["content"], "مليون")))
    env = {"LLM_BASE_URL": openai.base_url, "LLM_MODEL": "fake-model"}
    asked = run(["ask", "--json", "How much oil does Libya produce?"], tmp_path, **env)
    line = json.loads(asked.stdout)
    assert asked.returncode == 0 and line["answered_by"] == "llm" and line["llm"]["verified"] is True
    assert line["sentences"][0]["text"] == "Libya's oil production rose to one million barrels a day."
    [citation] = line["citations"]
    assert citation["article_id"] == "arabic-oil" and citation["quote"] in NEWS["arabic-oil"]  # the original text
    openai.default = Reply(status=429, headers={"Retry-After": "7"})
    text = run(["ask", "How much oil does Libya produce?"], tmp_path, **env)
    assert text.returncode == 0 and "Traceback" not in text.stderr
    last = text.stdout.rstrip().splitlines()[-1]
    assert last.startswith("Quoted from the articles: the answer of fake-model was not used (the model's server")
    assert "HTTP 429, retry after 7 s" in last
