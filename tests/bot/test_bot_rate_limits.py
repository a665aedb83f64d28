"""Per-user and per-chat rate limits, end to end."""

from __future__ import annotations

from fake_telegram import group_chat, private_chat, user

GROUP_ID = -1009876


def test_a_user_asking_too_fast_is_told_to_slow_down_once(fake, engine, start_bot):
    bot = start_bot(engine, rate_limit_per_user=2)
    chat, reader = private_chat(3001), user(3001)
    for _ in range(2):
        fake.send_text(chat, reader, "Who met Haftar?")
    fake.wait_for("sendMessage", chat_id=3001, count=2)
    fake.send_text(chat, reader, "Who met Haftar?")
    third = fake.wait_for("sendMessage", chat_id=3001, count=3)[2].result["text"]
    assert third.startswith("Slow down, please: you can ask 2 questions a minute; try again in ")
    fake.send_text(chat, reader, "Who met Haftar?")  # refused again, silently: one warning is enough
    fake.send_text(private_chat(3002), user(3002), "Who met Haftar?")  # other users are not affected
    assert "Sources" in fake.wait_for("sendMessage", chat_id=3002)[0].result["text"]
    bot.stop()
    assert len(fake.calls_of("sendMessage", chat_id=3001)) == 3
    assert len(fake.calls_of("sendChatAction", chat_id=3001)) == 2


def test_a_busy_group_is_limited_as_a_whole(fake, engine, start_bot):
    start_bot(engine, rate_limit_per_chat=2)
    group = group_chat(GROUP_ID)
    for member in (601, 602, 603):
        fake.send_text(group, user(member), "/ask who met Haftar?")
    texts = [call.result["text"] for call in fake.wait_for("sendMessage", chat_id=GROUP_ID, count=3)]
    slow = [text for text in texts if text.startswith("Slow down")]
    assert len(slow) == 1 and "this chat can ask 2 questions a minute" in slow[0]
