"""The fake Telegram server refuses what Telegram refuses, so the bot's tests mean something."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from fake_telegram import TOKEN, FakeTelegram, message_entities, parse_html, private_chat, user


def call(server: FakeTelegram, method: str, wait: float = 5, **params) -> httpx.Response:
    return httpx.post(f"{server.base_url}{TOKEN}/{method}", json=params, timeout=wait)


def test_unknown_methods_and_wrong_tokens_are_refused(telegram_server):
    response = call(telegram_server, "sendTelepathy", chat_id=1)
    assert response.status_code == 404
    assert response.json() == {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
    wrong = httpx.post(f"{telegram_server.base_url}999:wrong/getMe", timeout=5)
    assert wrong.status_code == 401 and wrong.json()["description"] == "Unauthorized"
    assert call(telegram_server, "getMe").json()["result"]["username"] == "articles_test_bot"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<script>x</script>", 'Unsupported start tag "script" at byte offset 0'),
        ("a < b", "Unclosed start tag at byte offset 2"),
        ("fish &chips", "Character entity expected at byte offset 5"),
        ("&nbsp;", 'Unsupported entity "nbsp"'),
        ('<span class="x">y</span>', 'Tag "span" must have class "tg-spoiler"'),
        ('<a href="javascript:x">y</a>', "Wrong HTTP URL"),
        ("<b onclick='x'>y</b>", 'Unsupported attribute "onclick" of tag "b"'),
        ("a > b", "Unexpected '>'"),
    ],
)
def test_malformed_html_is_refused(telegram_server, text, reason):
    response = call(telegram_server, "sendMessage", chat_id=1, text=text, parse_mode="HTML")
    assert response.status_code == 400
    assert response.json()["description"].startswith(f"Bad Request: can't parse entities: {reason}")


def test_telegram_html_is_accepted_and_stored_as_plain_text(telegram_server):
    text = (
        "<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s><strike>k</strike><del>d</del>"
        '<a href="https://e.com/?a=1&amp;b=2">link</a><code class="language-py">c</code><pre>p</pre>'
        '<blockquote expandable>q</blockquote><tg-spoiler>t</tg-spoiler><span class="tg-spoiler">s</span>'
        " &lt;&gt;&amp;&quot;&#39;&#x41;"
    )
    response = call(telegram_server, "sendMessage", chat_id=1, text=text, parse_mode="HTML")
    assert response.status_code == 200
    assert response.json()["result"]["text"] == "bsieunskdlinkcpqts <>&\"'A"


def test_length_is_counted_in_utf16_units_after_entity_parsing(telegram_server):
    assert call(telegram_server, "sendMessage", chat_id=1, text="&amp;" * 4096, parse_mode="HTML").status_code == 200
    too_long = call(telegram_server, "sendMessage", chat_id=1, text="😀" * 2049)  # 4098 UTF-16 units
    assert too_long.status_code == 400 and too_long.json()["description"] == "Bad Request: message is too long"
    assert call(telegram_server, "sendMessage", chat_id=1, text="😀" * 2048).status_code == 200
    empty = call(telegram_server, "sendMessage", chat_id=1, text="<b> </b>", parse_mode="HTML")
    assert empty.json()["description"] == "Bad Request: message text is empty"


def test_edits_need_an_existing_bot_message_and_a_change(telegram_server):
    sent = call(telegram_server, "sendMessage", chat_id=5, text="one").json()["result"]
    edited = call(telegram_server, "editMessageText", chat_id=5, message_id=sent["message_id"], text="two")
    assert edited.status_code == 200
    same = call(telegram_server, "editMessageText", chat_id=5, message_id=sent["message_id"], text="two")
    assert same.json()["description"].startswith("Bad Request: message is not modified")
    missing = call(telegram_server, "editMessageText", chat_id=5, message_id=99, text="x")
    assert missing.json()["description"] == "Bad Request: message to edit not found"
    reply = call(telegram_server, "sendMessage", chat_id=5, text="r", reply_parameters={"message_id": 42})
    assert reply.json()["description"] == "Bad Request: message to be replied not found"


def test_get_updates_long_polls_and_confirms_with_offsets(telegram_server):
    started = time.monotonic()
    assert call(telegram_server, "getUpdates", offset=0, timeout=0.3).json()["result"] == []
    assert 0.3 <= time.monotonic() - started < 2

    def later() -> None:
        time.sleep(0.2)
        telegram_server.send_text(private_chat(7), user(7), "/start")

    threading.Thread(target=later).start()
    updates = call(telegram_server, "getUpdates", wait=10, timeout=5).json()["result"]
    assert [u["message"]["text"] for u in updates] == ["/start"]
    again = call(telegram_server, "getUpdates", timeout=0).json()["result"]
    assert again == updates  # not confirmed yet
    assert call(telegram_server, "getUpdates", offset=updates[0]["update_id"] + 1).json()["result"] == []


def test_get_updates_conflicts_with_a_webhook(telegram_server):
    webhook = call(telegram_server, "setWebhook", url="https://bot.example.com/hook", secret_token="abc")
    assert webhook.json()["result"] is True
    conflict = call(telegram_server, "getUpdates")
    assert conflict.status_code == 409 and conflict.json()["description"].startswith("Conflict: can't use getUpdates")
    assert (
        call(telegram_server, "deleteWebhook").status_code == 200
        and call(telegram_server, "getUpdates").status_code == 200
    )


def test_messages_carry_the_entities_telegram_would_attach():
    assert message_entities("/ask@articles_test_bot hi @someone_else") == [
        {"type": "bot_command", "offset": 0, "length": 22},
        {"type": "mention", "offset": 26, "length": 13},
    ]
    assert message_entities("😀 @articles_test_bot") == [{"type": "mention", "offset": 3, "length": 18}]
    assert message_entities("mail me@example.com") == []


def test_the_server_stops_by_itself():
    fake = FakeTelegram(lifetime=0.3).start()
    url = f"{fake.base_url}{TOKEN}/getMe"
    assert httpx.post(url, timeout=2).status_code == 200
    time.sleep(0.6)
    with pytest.raises(httpx.TransportError):
        httpx.post(url, timeout=2)


def test_parse_html_decodes_what_telegram_decodes():
    assert parse_html("<b>a &amp; b</b> &#1581;") == "a & b ح"
