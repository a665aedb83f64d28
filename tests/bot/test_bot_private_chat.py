"""Private chats, end to end: the real bot over real HTTP against the fake Telegram server."""

from __future__ import annotations

import pytest
from bot_harness import NOT_IN_ARTICLES, READER_ID
from fake_telegram import private_chat, user

from bot import messages

CHAT, READER = private_chat(READER_ID), user(READER_ID)
RLI, PDI = "\u2067", "\u2069"


def ask(fake, text: str, count: int) -> str:
    """Send a text to the bot in the private chat; the text of the bot's ``count``-th message."""
    fake.send_text(CHAT, READER, text)
    return fake.wait_for("sendMessage", chat_id=READER_ID, count=count)[count - 1].result["text"]


def test_a_question_is_answered_with_cited_sources(fake, engine, start_bot):
    start_bot(engine)
    fake.send_text(CHAT, READER, "Who met Haftar?")
    [answer] = fake.wait_for("sendMessage", chat_id=READER_ID)
    html = answer.params["text"]
    assert answer.params["parse_mode"] == "HTML"
    assert html.startswith("A senior US delegation met General Khalifa Haftar on Sunday")
    assert "[1]" in html and "\n\n<b>Sources</b>\n[1] " in html
    assert '<a href="https://news.example.com/2019/11/us-haftar-meeting">US delegation meets Haftar' in html
    assert "— Example Wire, 2019-11-25" in html
    # the context around the quoted sentence (in italics), not a bare second copy of the answer
    assert "<blockquote expandable><i>A senior US delegation met General Khalifa Haftar" in html
    assert "</i> The delegation included" in html
    assert answer.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "sources:1"
    assert answer.params["link_preview_options"] == {"is_disabled": True}
    typing = fake.calls_of("sendChatAction", chat_id=READER_ID, action="typing")
    assert typing and typing[0].at < answer.at


def test_an_arabic_question_cites_the_arabic_article_in_bidi_isolates(fake, engine, start_bot):
    start_bot(engine)
    fake.send_text(CHAT, READER, "من التقى حفتر؟")
    [answer] = fake.wait_for("sendMessage", chat_id=READER_ID)
    html = answer.params["text"]
    assert html.startswith(f"{RLI}التقى وفد أميركي رفيع الجنرال خليفة حفتر")
    assert f"{PDI} [1]" in html
    assert f">{RLI}روسيا كلمة السر في ليبيا{PDI}</a> — {RLI}الجزيرة{PDI}, 2019-11-20" in html
    assert f"<blockquote expandable>{RLI}<i>التقى وفد أميركي" in html


def test_a_question_the_articles_do_not_answer_says_so_and_offers_the_closest_passages(fake, engine, start_bot):
    start_bot(engine)
    text = ask(fake, NOT_IN_ARTICLES, 1)
    assert text.startswith("I could not find this in my articles.")
    assert "Closest passages" in text and "Sources" not in text


def test_start_says_what_the_bot_knows_and_how_to_ask(fake, engine, start_bot):
    start_bot(engine)
    text = ask(fake, "/start", 1)
    assert "3 news articles" in text
    assert "Example Wire" in text and "الجزيرة" in text and "Sports Desk" in text
    assert "the newest from 2019-11-25" in text
    assert "@articles_test_bot" in text and "/ask" in text


def test_help_lists_the_commands_and_they_are_published_at_start(fake, engine, start_bot):
    start_bot(engine)
    text = ask(fake, "/help", 1)
    for command in ("/ask", "/sources", "/latest", "/stats", "/add", "/reindex", "/start", "/help"):
        assert command in text
    assert "Add an article by its link (admins only)" in text
    assert [c["command"] for c in fake.commands] == [
        "ask",
        "sources",
        "latest",
        "stats",
        "help",
        "start",
        "add",
        "reindex",
    ]


def test_stats_show_index_size_and_build_time(fake, engine, start_bot):
    start_bot(engine)
    text = ask(fake, "/stats", 1)
    assert "Articles: 3" in text and "Passages: " in text
    assert "Built: 20" in text and "Model: test:hashing" in text
    assert "Size on disk: " in text and "KB" in text


def test_sources_shows_the_full_passages_of_the_last_answer(fake, engine, start_bot):
    start_bot(engine)
    assert ask(fake, "/sources", 1) == messages.NO_ANSWER_YET
    ask(fake, "Who met Haftar?", 2)
    text = ask(fake, "/sources", 3)
    assert text.startswith("Passages for: Who met Haftar?")
    assert "Victoria Coates and ambassador Richard Norland" in text  # the whole chunk, not just the quote


def test_the_button_under_an_answer_shows_its_passages(fake, engine, start_bot):
    start_bot(engine)
    fake.send_text(CHAT, READER, "Who met Haftar?")
    [answer] = fake.wait_for("sendMessage", chat_id=READER_ID)
    query = fake.press_button(CHAT, READER, answer.result, "sources:1")
    fake.wait_for("answerCallbackQuery", callback_query_id=query)
    passages = fake.wait_for("sendMessage", chat_id=READER_ID, count=2)[1]
    assert passages.result["text"].startswith("Passages for: Who met Haftar?")
    assert passages.params["reply_parameters"]["message_id"] == answer.result["message_id"]
    forgotten = fake.press_button(CHAT, READER, answer.result, "sources:99")
    [reply] = fake.wait_for("answerCallbackQuery", callback_query_id=forgotten)
    assert reply.params["text"] == messages.ANSWER_FORGOTTEN


@pytest.mark.parametrize(
    ("question", "explanation"),
    [
        ("/ask", "The question is empty"),
        ("/ask    ", "The question is empty"),
        ("x" * 501, "The question is 501 characters long; please keep it under 500."),
        ("/ask " + "why " * 200, "The question is 799 characters long; please keep it under 500."),
    ],
)
def test_empty_and_over_long_questions_get_a_one_line_explanation(fake, engine, start_bot, question, explanation):
    start_bot(engine)
    text = ask(fake, question, 1)
    assert text.startswith(explanation) and "\n" not in text


def test_stickers_get_a_hint_and_unknown_commands_get_help(fake, engine, start_bot):
    start_bot(engine)
    fake.send_sticker(CHAT, READER)
    assert fake.wait_for("sendMessage", chat_id=READER_ID)[0].result["text"] == messages.TEXT_ONLY
    assert "/sources" in ask(fake, "/frobnicate", 2)


def test_questions_from_several_chats_are_answered_concurrently(fake, engine, start_bot):
    start_bot(engine)
    for number in range(10):
        fake.send_text(private_chat(2000 + number), user(2000 + number), "Who met Haftar?")
    for number in range(10):
        [answer] = fake.wait_for("sendMessage", chat_id=2000 + number)
        assert "Sources" in answer.result["text"]
