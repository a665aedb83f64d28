"""LLM answers through the real bot: the fake Telegram server and a fake OpenAI-compatible server, both on 127.0.0.1.

The answer grows in one message as the model streams (only sentences that passed verification, edits spaced
out), then that message becomes the final answer with its sources; every failure ends in the quoted answer."""

from __future__ import annotations

import io

import pytest
from bot_harness import READER_ID
from fake_openai import FakeOpenAI, Reply
from fake_telegram import private_chat, user

from bot.llm_answers import answerer_for
from bot.terminal import run_terminal_chat
from index import LlmSettings

CHAT, READER = private_chat(READER_ID), user(READER_ID)
STREAMED = (
    "A senior US delegation met General Khalifa Haftar on Sunday to press for a ceasefire in Tripoli [1]. "
    "Mike Pompeo led the delegation [1]. "
    "It included Victoria Coates and ambassador Richard Norland [1]. "
    "The officials voiced concern about Russian mercenaries [1]."
)
NOTE = "every name, number and date was checked against them"


@pytest.fixture
def openai():
    with FakeOpenAI(api_key="sk-bot") as server:
        yield server


def final_edits(fake, timeout: float = 20.0) -> list:
    """The edits of the bot's messages in the reader's chat, up to the one that holds the final answer."""
    edits = fake.wait_for("editMessageText", chat_id=READER_ID, timeout=timeout)
    while "Sources" not in edits[-1].params["text"]:
        edits = fake.wait_for("editMessageText", chat_id=READER_ID, count=len(edits) + 1, timeout=timeout)
    return edits


def settings_for(server: FakeOpenAI, **overrides) -> LlmSettings:
    values = {"base_url": server.base_url, "api_key": "sk-bot", "model": "fake-model", "timeout_seconds": 10.0}
    return LlmSettings(**{**values, **overrides})


def test_the_answer_grows_in_place_then_becomes_the_verified_answer_with_its_sources(fake, engine, start_bot, openai):
    openai.script(Reply(STREAMED, chunk_delay=0.06))
    start_bot(engine, llm=settings_for(openai))
    fake.send_text(CHAT, READER, "Who met Haftar?")
    [draft] = fake.wait_for("sendMessage", chat_id=READER_ID)
    edits = final_edits(fake)
    assert draft.params["text"].startswith("A senior US delegation met General Khalifa Haftar on Sunday")
    assert draft.params["text"].endswith(" …")
    shown = [draft.params["text"]] + [edit.params["text"] for edit in edits]
    assert all("Pompeo" not in text for text in shown)  # never sent: it names someone no passage names
    assert all(edit.params["message_id"] == draft.result["message_id"] for edit in edits)
    times = [draft.at] + [edit.at for edit in edits]
    assert all(later - earlier >= 1.0 for earlier, later in zip(times, times[1:], strict=False))
    html = edits[-1].params["text"]
    assert html.startswith("A senior US delegation met General Khalifa Haftar on Sunday to press for a ceasefire")
    assert "Victoria Coates and ambassador Richard Norland. [1]" in html and NOTE in html
    assert "\n\n<b>Sources</b>\n[1] " in html and "<blockquote expandable>" in html
    assert edits[-1].params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "sources:1"
    assert len(fake.calls_of("sendMessage", chat_id=READER_ID)) == 1 and len(edits) >= 2  # drafts, then the answer
    assert openai.requests[0].body["stream"] is True


def test_a_failing_model_sends_the_quoted_answer_and_stats_count_it(fake, engine, start_bot, openai):
    openai.script(Reply(status=500, body=b'{"error": {"message": "overloaded"}}'))
    start_bot(engine, llm=settings_for(openai))
    fake.send_text(CHAT, READER, "Who met Haftar?")
    [answer] = fake.wait_for("sendMessage", chat_id=READER_ID)
    assert answer.params["text"].startswith("A senior US delegation met General Khalifa Haftar on Sunday")
    assert NOTE not in answer.params["text"] and not fake.calls_of("editMessageText")
    fake.send_text(CHAT, READER, "/stats")
    stats = fake.wait_for("sendMessage", chat_id=READER_ID, count=2)[1].params["text"]
    assert "<b>LLM answers</b>\nModel: fake-model\nCalls: 1 (1 failed)\nVerified answers: 0" in stats
    assert "Fallbacks to quoted answers: 1 (http error 1)" in stats and "Tokens: 0 in, 0 out" in stats


def test_a_stream_that_times_out_after_a_draft_is_replaced_by_the_quoted_answer(fake, engine, start_bot, openai):
    openai.script(Reply(STREAMED + " And more." * 40, chunk_delay=0.1))
    start_bot(engine, llm=settings_for(openai, timeout_seconds=2.5))
    fake.send_text(CHAT, READER, "Who met Haftar?")
    [draft] = fake.wait_for("sendMessage", chat_id=READER_ID)
    assert draft.params["text"].endswith(" …")
    html = final_edits(fake)[-1].params["text"]
    assert NOTE not in html and "Pompeo" not in html  # the extractive answer, quoting the article
    assert html.startswith("A senior US delegation met General Khalifa Haftar on Sunday")


def test_an_english_question_over_an_arabic_article_is_answered_in_english_quoting_the_arabic(
    fake, engine, start_bot, openai
):
    def answer(body: dict) -> Reply:
        passages = body["messages"][1]["content"]
        number = next(line[1] for line in passages.splitlines() if line.startswith("[") and "الجزيرة" in line)
        return Reply(
            f"US officials voiced deep concern about Russia exploiting the conflict in Libya [{number}]. "
            f"A diplomatic source said Russian military activity in eastern Libya was a major nuisance [{number}]."
        )

    openai.script(answer)
    start_bot(engine, llm=settings_for(openai))
    fake.send_text(CHAT, READER, "What worries Washington about Russia in Libya?")
    [sent] = fake.wait_for("sendMessage", chat_id=READER_ID)
    html = sent.params["text"] if "Sources" in sent.params["text"] else final_edits(fake)[-1].params["text"]
    assert html.startswith("US officials voiced deep concern about Russia exploiting the conflict in Libya. [1]")
    assert NOTE in html and "روسيا كلمة السر في ليبيا" in html  # the Arabic article, quoted as written
    assert "<i>وعبر المسؤولون الأميركيون عن قلق واشنطن" in html or "<i>وقال مصدر دبلوماسي" in html


def test_past_the_daily_cap_answers_quote_the_articles_and_the_user_is_told_once(fake, engine, start_bot, openai):
    openai.default = Reply(STREAMED)
    start_bot(engine, llm=settings_for(openai, daily_cap_per_user=1))
    for count in (1, 2, 3):
        fake.send_text(CHAT, READER, "Who met Haftar?")
        fake.wait_for("sendMessage", chat_id=READER_ID, count=count)
    final_edits(fake)  # the first answer: a draft, then the answer
    texts = [call.params["text"] for call in fake.calls_of("sendMessage", chat_id=READER_ID)]
    assert len(openai.requests) == 1
    assert "written answers for today" in texts[1] and NOTE not in texts[1]
    assert "written answers for today" not in texts[2]


def test_sources_after_an_llm_answer_show_the_passages_it_cites(fake, engine, start_bot, openai):
    openai.script(Reply(STREAMED))
    start_bot(engine, llm=settings_for(openai))
    fake.send_text(CHAT, READER, "Who met Haftar?")
    fake.wait_for("sendMessage", chat_id=READER_ID)
    final_edits(fake)
    fake.send_text(CHAT, READER, "/sources")
    text = fake.wait_for("sendMessage", chat_id=READER_ID, count=2)[1].result["text"]
    assert text.startswith("Passages for: Who met Haftar?")
    assert "Victoria Coates and ambassador Richard Norland" in text


def test_the_terminal_chat_shows_the_llm_answer_or_the_quoted_one_and_says_which(engine, shared_index, openai):
    openai.script(Reply(STREAMED), Reply(""))
    out, err = io.StringIO(), io.StringIO()
    questions = io.StringIO("Who met Haftar?\nWho met Haftar?\n")
    llm = answerer_for(settings_for(openai))
    assert run_terminal_chat(engine, [str(shared_index[0])], questions, out, err, llm) == 0
    written, quoted = out.getvalue().split("checked against the sources.\n\n")
    assert written.startswith("A senior US delegation met General Khalifa Haftar on Sunday to press for a ceasefire")
    assert "Mike Pompeo" not in written and "It included Victoria Coates and ambassador Richard Norland. [1]" in written
    assert written.endswith("Answered by fake-model; every name, number and date was ")
    assert quoted.startswith("A senior US delegation met General Khalifa Haftar on Sunday")  # the extractive answer
    assert quoted.rstrip().endswith("was not used (the model replied with no text).")


def test_a_long_answer_stays_within_telegrams_limit_while_it_grows_and_is_split_at_the_end(
    fake, engine, start_bot, openai
):
    sentence = "A senior US delegation met General Khalifa Haftar on Sunday to press for a ceasefire in Tripoli [1]. "
    openai.script(Reply(sentence * 60, chunk_delay=0.002))
    start_bot(engine, llm=settings_for(openai))
    fake.send_text(CHAT, READER, "Who met Haftar?")
    sent = fake.wait_for("sendMessage", chat_id=READER_ID, count=2, timeout=20)  # the draft, the answer's last part
    edits = fake.calls_of("editMessageText", chat_id=READER_ID)
    assert not edits[-1].params["text"].endswith(" …") and "Sources" in sent[-1].params["text"]
    texts = [call.params["text"] for call in [*sent, *edits]]
    assert all(call.ok for call in [*sent, *edits])  # Telegram took every draft, edit and part
    assert any(len(text) > 3900 for text in texts) and all(len(text) <= 4096 for text in texts)
    assert sent[-1].params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "sources:1"
