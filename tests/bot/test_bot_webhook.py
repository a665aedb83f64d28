"""Webhook mode, end to end: PTB's webhook server checks Telegram's secret token."""

from __future__ import annotations

from bot_harness import READER_ID, free_port
from fake_telegram import post_update, private_chat, user

SECRET = "s3cret_token-for-tests"


def test_the_webhook_rejects_a_wrong_or_missing_secret_and_answers_with_the_right_one(fake, engine, start_bot):
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    start_bot(engine, webhook_url=url, webhook_secret=SECRET, port=port, run_options={"listen": "127.0.0.1"})
    assert fake.webhook == {"url": url, "secret_token": SECRET, "allowed_updates": ["message", "callback_query"]}
    assert not fake.calls_of("getUpdates")

    question = fake.user_message(private_chat(READER_ID), user(READER_ID), "Who met Haftar?")
    update = {"update_id": 900, "message": question}
    assert post_update(url, update, secret=None) == 403
    assert post_update(url, update, secret="not-the-secret") == 403
    assert post_update(f"http://127.0.0.1:{port}/elsewhere", update, secret=SECRET) == 404
    assert post_update(url, update, secret=SECRET) == 200
    [answer] = fake.wait_for("sendMessage", chat_id=READER_ID)
    assert "Sources" in answer.result["text"]

    fake.send_text(private_chat(READER_ID), user(READER_ID), "/start")  # the fake delivers through the webhook too
    assert fake.wait_for("sendMessage", chat_id=READER_ID, count=2)[1].result["text"].startswith("Hello!")
    assert fake.deliveries == [200]
