"""``python -m index ask --json``: one JSON line per question, for scripts and evaluations."""

from __future__ import annotations

import json
from typing import Any

from index.answer.render import answer_as_json
from index.records import Answer, Citation
from tests.conftest import NEWS
from tests.test_cli import run

SENTENCE_KEYS = {"text", "citation", "mark", "score"}
CITATION_KEYS = {"n", "article_id", "title", "source", "published", "url", "quote", "start", "end", "also_in"}


def test_ask_json_answers_each_line_of_standard_input(tmp_path, news_folder):
    assert run(["build", news_folder], tmp_path).returncode == 0
    questions = "Who met Haftar?\n\n" + "x" * 600 + "\nquantum chromodynamics lattice\nنفط ليبيا\n"
    asked = run(["ask", "--json"], tmp_path, stdin=questions)
    assert asked.returncode == 1  # the over-long question, reported on standard error; the others answered
    assert "please keep it under 500" in asked.stderr and "Traceback" not in asked.stderr
    lines = [json.loads(line) for line in asked.stdout.splitlines()]
    assert [line["question"] for line in lines] == ["Who met Haftar?", "quantum chromodynamics lattice", "نفط ليبيا"]
    for line in lines:
        assert set(line) == {"question", "found", "sentences", "citations", "seconds", "answered_by", "llm"}
        assert line["answered_by"] == "extractive" and line["llm"] is None  # no LLM_BASE_URL
        assert isinstance(line["seconds"], float) and 0 <= line["seconds"] < 60
        for citation in line["citations"]:
            assert set(citation) == CITATION_KEYS
            assert citation["quote"] in NEWS[citation["article_id"]]
            assert citation["end"] - citation["start"] == len(citation["quote"])
        numbers = {citation["n"] for citation in line["citations"]}
        for sentence in line["sentences"]:
            assert set(sentence) == SENTENCE_KEYS and sentence["citation"] in numbers
    haftar, _, arabic = lines  # whether the second is "not in my articles" is the engine's call, not tested here
    assert haftar["found"] and haftar["sentences"][0]["text"].startswith("A United States delegation met")
    assert haftar["citations"][0]["article_id"] == "haftar-delegation"
    assert isinstance(haftar["sentences"][0]["score"], float)
    assert haftar["sentences"][0]["mark"] is None  # the test encoder's default reader marks nothing
    assert arabic["citations"][0]["article_id"] == "arabic-oil"


def test_ask_json_joins_the_words_of_its_arguments(tmp_path, news_folder):
    run(["build", news_folder], tmp_path)
    asked = run(["ask", "--json", "olive", "oil", "prices"], tmp_path)
    [line] = [json.loads(line) for line in asked.stdout.splitlines()]
    assert asked.returncode == 0 and line["question"] == "olive oil prices"
    assert line["citations"][0]["article_id"] == "olive-harvest"


def _citation(number: int, **fields) -> Citation:
    values: dict[str, Any] = dict(
        number=number, article_id="a", title="T", source="Wire", url="https://e.com/a b", published="2019-11-25",
        quote="Coates met Haftar.", start=10, end=28, passage="Before. Coates met Haftar. After.", score=0.71234567,
    )  # fmt: skip
    values.update(fields)
    return Citation(**values)


def test_the_marked_span_and_the_scores_are_fields_of_each_sentence():
    answer = Answer(
        "who met Haftar?",
        True,
        [("Coates met Haftar.", 1), ("Norland was there too.", 2)],
        [_citation(1), _citation(2, quote="Norland was there too.", score=0.5, also_in=("Reuters",))],
        marks=((0, 0, 6), (1, 0, 99)),  # the second lies outside its sentence: no mark
    )
    data = answer_as_json(answer, 0.12345)
    assert data["sentences"] == [
        {
            "text": "Coates met Haftar.",
            "citation": 1,
            "mark": {"start": 0, "end": 6, "text": "Coates"},
            "score": 0.712346,
        },
        {"text": "Norland was there too.", "citation": 2, "mark": None, "score": 0.5},
    ]
    assert data["seconds"] == 0.123 and data["found"] is True
    assert data["citations"][1]["also_in"] == ["Reuters"] and data["citations"][0]["url"] == "https://e.com/a b"
    assert json.loads(json.dumps(data)) == data


def test_not_found_has_no_sentences_and_offers_the_closest_passages():
    data = answer_as_json(Answer("q", False, [], [_citation(1, quote="Before. Coates met Haftar. After.")]))
    assert data["found"] is False and data["sentences"] == [] and data["seconds"] is None
    assert [c["n"] for c in data["citations"]] == [1]
