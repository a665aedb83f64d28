"""Groups, end to end: the bot answers only when mentioned, replied to, or asked with /ask."""

from __future__ import annotations

from fake_telegram import BOT_USER, group_chat, private_chat, user

GROUP_ID = -1001234567
GROUP, ALICE, BOB = group_chat(GROUP_ID), user(501, "Alice"), user(502, "Bob")
MENTION = f"@{BOT_USER['username']}"


def test_a_group_message_without_a_mention_is_ignored_and_a_mention_is_answered(fake, engine, start_bot):
    bot = start_bot(engine)
    fake.send_text(GROUP, ALICE, "Who met Haftar?")
    question = fake.send_text(GROUP, BOB, f"{MENTION} who met Haftar?")
    [answer] = fake.wait_for("sendMessage", chat_id=GROUP_ID)
    assert "Sources" in answer.result["text"]
    assert answer.params["reply_parameters"]["message_id"] == question["message_id"]
    bot.stop()  # finishes every update it fetched, so nothing else can still be on its way
    assert len(fake.calls_of("sendChatAction", chat_id=GROUP_ID)) == 1
    assert len(fake.calls_of("sendMessage", chat_id=GROUP_ID)) == 1


def test_the_mention_is_removed_from_the_question(fake, engine, start_bot):
    start_bot(engine)
    fake.send_text(GROUP, ALICE, f"Tell me {MENTION}: who met Haftar?")
    fake.send_text(GROUP, BOB, MENTION)
    fake.send_text(GROUP, BOB, f"😀😀 {MENTION.upper()} من التقى حفتر؟")  # mention offsets count UTF-16 units
    texts = [call.result["text"] for call in fake.wait_for("sendMessage", chat_id=GROUP_ID, count=3)]
    assert any(text.startswith("A senior US delegation") for text in texts)
    assert any(text.startswith("The question is empty") for text in texts)
    assert any(text.startswith("\u2067التقى وفد أميركي") for text in texts)


def test_a_reply_to_the_bot_is_answered(fake, engine, start_bot):
    bot = start_bot(engine)
    fake.send_text(GROUP, ALICE, "/ask who met Haftar?")
    [first] = fake.wait_for("sendMessage", chat_id=GROUP_ID)
    fake.send_text(GROUP, BOB, "من التقى حفتر؟", reply_to=first.result)
    second = fake.wait_for("sendMessage", chat_id=GROUP_ID, count=2)[1]
    assert "الجزيرة" in second.result["text"]
    other = fake.send_text(GROUP, ALICE, "what about the football cup?", reply_to=fake.message(GROUP_ID, 1))
    third = fake.send_text(GROUP, ALICE, f"/ask@{BOT_USER['username']} who won the football cup?")
    answers = fake.wait_for("sendMessage", chat_id=GROUP_ID, count=3)
    assert answers[2].params["reply_parameters"]["message_id"] == third["message_id"]
    assert "Sports Desk" in answers[2].result["text"]
    bot.stop()
    assert len(fake.calls_of("sendMessage", chat_id=GROUP_ID)) == 3
    assert all(a.params["reply_parameters"]["message_id"] != other["message_id"] for a in answers)


def test_stickers_are_ignored_in_groups_and_commands_for_other_bots_too(fake, engine, start_bot):
    bot = start_bot(engine)
    fake.send_sticker(GROUP, ALICE)
    fake.send_text(GROUP, ALICE, "/ask@some_other_bot who met Haftar?")
    fake.send_text(GROUP, ALICE, "/help")
    [reply] = fake.wait_for("sendMessage", chat_id=GROUP_ID)
    assert "/reindex" in reply.result["text"]
    fake.send_sticker(private_chat(501), ALICE)
    fake.wait_for("sendMessage", chat_id=501)
    bot.stop()
    assert len(fake.calls_of("sendMessage", chat_id=GROUP_ID)) == 1
