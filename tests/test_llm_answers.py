"""LLM answers end to end over a real (small) index and a fake OpenAI-compatible server on 127.0.0.1: every reply,
good or bad, ends in a verified answer or the extractive one, never in an error."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from fake_openai import FakeOpenAI, Reply, user_message

from index.llm import LlmAnswerer, LlmSettings

HAFTAR = "Who met Haftar?"
GOOD = (
    "A United States delegation met General Khalifa Haftar in Benghazi on Sunday [1]. "
    "The delegation included ambassador Richard Norland and Victoria Coates [1]."
)


@pytest.fixture
def openai():
    with FakeOpenAI(api_key="sk-test") as server:
        yield server


@pytest.fixture
def engine(hashing_engine, news_folder):
    built = hashing_engine()
    built.update([news_folder], replace_all=True)
    return built


def answerer(server: FakeOpenAI, clock=time.monotonic, **overrides) -> LlmAnswerer:
    settings = {"base_url": server.base_url, "api_key": "sk-test", "model": "fake-model", "timeout_seconds": 5.0}
    return LlmAnswerer(LlmSettings(**{**settings, **overrides}), clock=clock)


def ask(engine, llm, question=HAFTAR, drafts: list[str] | None = None):
    async def on_draft(text: str) -> None:
        drafts.append(text)

    return asyncio.run(engine.ask_with_llm(question, llm, on_draft if drafts is not None else None))


def test_a_streamed_reply_is_verified_and_its_drafts_hold_only_sentences_that_passed(engine, openai):
    openai.script(Reply(GOOD.replace("[1].", "[1]. Mike Pompeo joined them [1].", 1), usage=(321, 45)))
    llm, drafts = answerer(openai), []
    extractive, result = ask(engine, llm, drafts=drafts)
    request = openai.requests[0]
    assert request.body["stream"] is True and request.body["model"] == "fake-model"
    assert request.headers["Authorization"] == "Bearer sk-test" and request.body["max_tokens"] == 400
    assert result.answered_by == "llm" and result.passed == 2 and result.sentences == 3
    assert [text for text, _ in result.dropped] == ["Mike Pompeo joined them."]
    assert "Pompeo" in result.dropped[0][1][1] and all("Pompeo" not in draft for draft in drafts)
    # the last sentence is complete only when the stream ends: the final answer shows it
    assert drafts == ["A United States delegation met General Khalifa Haftar in Benghazi on Sunday. [1]"]
    answer = result.shown(extractive)
    assert [number for _, number in answer.sentences] == [1, 1]
    [citation] = answer.citations
    assert citation.article_id == "haftar-delegation" and citation.quote in citation.passage
    assert citation.quote.startswith("A United States delegation met General Khalifa Haftar")
    assert (result.prompt_tokens, result.completion_tokens) == (321, 45)
    assert llm.stats.calls == 1 and llm.stats.verified == 1 and llm.stats.failures == 0


def test_a_reply_in_one_piece_is_verified_the_same_way(engine, openai):
    openai.script(Reply(GOOD))
    extractive, result = ask(engine, answerer(openai))
    assert openai.requests[0].body["stream"] is False
    assert result.answer is not None and result.passed == 2 and not result.dropped
    assert result.answer.text.startswith("A United States delegation met General Khalifa Haftar")


def test_the_model_is_given_numbered_passages_with_outlet_and_date_and_told_the_language(engine, openai):
    openai.script(Reply("NO_ANSWER"), Reply("NO_ANSWER"))
    llm = answerer(openai)
    ask(engine, llm)
    ask(engine, llm, "كم برميل تنتج ليبيا؟")
    english, arabic = (user_message(request) for request in openai.requests)
    assert "[1] Example Wire — US delegation meets Haftar\nA United States delegation met" in english
    assert "[2] " in english and "Question: Who met Haftar?" in english and "Answer in English" in english
    assert "[1] الجزيرة — إنتاج النفط الليبي يرتفع" in arabic and "Answer in Arabic" in arabic
    system = openai.requests[1].body["messages"][0]["content"]
    assert "Write in Arabic" in system and "NO_ANSWER" in system


def test_passages_are_the_citations_then_the_next_best_hits_at_most_six(engine, openai):
    openai.script(Reply("NO_ANSWER"))
    extractive, result = ask(engine, answerer(openai))
    shown = user_message(openai.requests[0])
    assert result.passages == 3 and shown.count("\n\n[") == 3  # the whole little index: three articles
    first = extractive.citations[0]
    assert shown.index(first.title) < shown.index("Olive harvest")


def test_an_answer_across_scripts_passes_names_and_numbers_checked_in_the_other_script(engine, openai):
    openai.script(
        Reply("Libya's oil production rose to one million barrels a day, the National Oil Corporation said [1].")
    )
    extractive, result = ask(engine, answerer(openai), "How much oil does Libya produce?")
    assert result.answered_by == "llm", result.dropped
    assert result.answer.citations[0].article_id == "arabic-oil"
    assert result.answer.citations[0].quote.startswith("قالت المؤسسة الوطنية للنفط")  # the original Arabic text


def test_a_reply_citing_7_of_3_passages_falls_back_and_says_why(engine, openai, caplog):
    caplog.set_level(logging.INFO, logger="index.llm")
    openai.script(Reply("A United States delegation met General Khalifa Haftar [7]."))
    llm = answerer(openai)
    extractive, result = ask(engine, llm)
    assert result.answer is None and result.fallback_kind == "unverified"
    assert "cites [7], but only 3 passages were given" in result.fallback
    assert result.shown(extractive) is extractive
    assert "LLM answer not used (unverified)" in caplog.text
    assert llm.stats.fallbacks["unverified"] == 1 and llm.stats.failures == 0


def test_a_sentence_citing_a_missing_passage_is_dropped_and_the_rest_kept(engine, openai):
    openai.script(Reply(GOOD + " Haftar's forces took Tripoli [7]."))
    _, result = ask(engine, answerer(openai))
    assert result.answered_by == "llm" and result.passed == 2
    assert result.dropped == (("Haftar's forces took Tripoli.", ("cites [7], but only 3 passages were given",)),)


@pytest.mark.parametrize(
    ("sentence", "problem"),
    [
        ("The delegation met Haftar and Mike Pompeo in Benghazi [1].", "the name Pompeo"),
        ("A delegation of 12 officials met Haftar in Benghazi [1].", "the number 12"),
        ("Farmers in Sfax began picking olives in March 2020 [2].", "the number 2020"),
        ("Libya's oil production rose to two million barrels a day [3].", "the number two million"),
        ("The delegation met Haftar in Benghazi [2].", "the name Haftar"),  # the right name, the wrong passage
    ],
)
def test_a_name_or_number_found_in_no_cited_passage_drops_the_sentence(engine, openai, sentence, problem):
    openai.script(Reply(sentence))
    extractive, result = ask(engine, answerer(openai))
    assert result.answer is None and result.fallback_kind == "unverified"
    assert any(problem in found for found in result.dropped[0][1]), result.dropped


def test_a_reply_in_the_wrong_language_falls_back(engine, openai):
    openai.script(Reply("التقى وفد أميركي الجنرال خليفة حفتر في بنغازي [1]."))
    extractive, result = ask(engine, answerer(openai))
    assert result.fallback_kind == "wrong_language" and "Arabic script" in result.fallback
    assert result.shown(extractive) is extractive


@pytest.mark.parametrize("stream", [False, True])
def test_an_empty_reply_falls_back(engine, openai, stream):
    openai.script(Reply(""))
    llm = answerer(openai)
    _, result = ask(engine, llm, drafts=[] if stream else None)
    assert result.fallback_kind == "empty" and llm.stats.failures == 1


def test_no_answer_from_the_model_falls_back_to_the_extractive_answer(engine, openai):
    openai.script(Reply("NO_ANSWER"))
    drafts: list[str] = []
    extractive, result = ask(engine, answerer(openai), drafts=drafts)
    assert result.fallback_kind == "no_answer" and not drafts and result.shown(extractive) is extractive


def test_429_with_retry_after_falls_back_and_the_model_is_left_alone_until_then(engine, openai):
    now = [1000.0]
    openai.script(
        Reply(status=429, headers={"Retry-After": "20"}, body=b'{"error": {"message": "Rate limit reached"}}')
    )
    llm = answerer(openai, clock=lambda: now[0])
    _, first = ask(engine, llm)
    assert first.fallback_kind == "rate_limited" and "retry after 20 s" in first.fallback
    assert "Rate limit reached" in first.fallback
    now[0] += 10
    _, second = ask(engine, llm)
    assert second.fallback_kind == "paused" and len(openai.requests) == 1
    now[0] += 11
    openai.script(Reply(GOOD))
    _, third = ask(engine, llm)
    assert third.answered_by == "llm" and len(openai.requests) == 2
    assert llm.stats.calls == 2 and llm.stats.failures == 1 and llm.stats.fallbacks["paused"] == 1


@pytest.mark.parametrize("stream", [False, True])
def test_a_server_error_falls_back(engine, openai, stream):
    openai.script(Reply(status=500, body=b"upstream exploded"))
    _, result = ask(engine, answerer(openai), drafts=[] if stream else None)
    assert result.fallback_kind == "http_error" and "HTTP 500: upstream exploded" in result.fallback


def test_a_wrong_key_falls_back_and_says_to_check_it(engine, openai):
    _, result = ask(engine, answerer(openai, api_key="sk-wrong"))
    assert result.fallback_kind == "http_error" and "LLM_API_KEY" in result.fallback


def test_a_model_that_does_not_answer_in_time_falls_back_after_the_timeout(engine, openai):
    openai.script(Reply(GOOD, delay=10))
    started = time.monotonic()
    _, result = ask(engine, answerer(openai, timeout_seconds=1.0))
    assert result.fallback_kind == "timeout" and "1 s" in result.fallback
    assert time.monotonic() - started < 5


def test_a_stream_that_stalls_falls_back_even_after_drafts_were_shown(engine, openai):
    openai.script(Reply(GOOD + " More words follow slowly." * 5, chunk_delay=0.05))
    drafts: list[str] = []
    _, result = ask(engine, answerer(openai, timeout_seconds=1.5), drafts=drafts)
    assert result.fallback_kind == "timeout" and drafts  # the caller replaces the draft with the extractive answer


@pytest.mark.parametrize(
    "reply",
    [
        Reply(body=b'{"choices": [{"message": {"content": "cut short'),
        Reply(body=b'{"object": "chat.completion", "choices": []}'),
        Reply(events=['{"choices": [{"delta": {"content": "A United"}}]}', '{"choices": [{"delta": {"conte']),
    ],
)
def test_malformed_json_falls_back(engine, openai, reply):
    openai.script(reply)
    _, result = ask(engine, answerer(openai), drafts=[] if reply.events else None)
    assert result.fallback_kind == "malformed" and "not a Chat Completions reply" in result.fallback


def test_an_unreachable_server_falls_back(engine, openai):
    with FakeOpenAI() as gone:
        base_url = gone.base_url
    _, result = ask(engine, answerer(openai, base_url=base_url))
    assert result.fallback_kind == "network" and "LLM_BASE_URL" in result.fallback


def test_the_answer_renumbers_the_passages_it_cites_in_order(engine, openai):
    openai.script(
        Reply(
            "Libya's oil production rose to one million barrels a day [3]. "
            "A United States delegation met General Khalifa Haftar in Benghazi [1][3]."
        )
    )
    extractive, result = ask(engine, answerer(openai))
    answer = result.answer
    assert [c.article_id for c in answer.citations] == ["arabic-oil", "haftar-delegation"]
    assert answer.sentences[0][1] == 1 and answer.sentences[1] == (
        "A United States delegation met General Khalifa Haftar in Benghazi. [2]",
        1,
    )
