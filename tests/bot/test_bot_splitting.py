"""split_message: parts fit Telegram's limit, are balanced HTML, and are cut at the best boundary."""

from __future__ import annotations

import re

import pytest
from fake_telegram import parse_html

from bot.splitting import split_message, telegram_length, utf16_length

RLI, PDI = "\u2067", "\u2069"


def check_parts(parts: list[str], limit: int) -> list[str]:
    """Each part is valid Telegram HTML within the limit; returns their plain texts."""
    texts = [parse_html(part) for part in parts]  # raises like Telegram on broken HTML
    for text in texts:
        assert 0 < utf16_length(text) <= limit
        assert text == text.strip()
        assert text.count(RLI) == text.count(PDI)
    return texts


def words_of(text: str) -> list[str]:
    return re.findall(r"[\w']+", text.replace(RLI, " ").replace(PDI, " "))


@pytest.mark.parametrize(
    ("html_text", "length"),
    [
        ("plain", 5),
        ("<b>bold</b> &amp; <i>it</i>", 9),
        ("&lt;tag&gt; &quot;q&quot; &#39; &#x41;", 13),
        ("😀 emoji", 8),  # a surrogate pair counts two
        (f"{RLI}عربي{PDI}", 6),
        ('<a href="https://e.com/?a=1&amp;b=2">link</a>', 4),
    ],
)
def test_length_is_counted_as_telegram_counts(html_text, length):
    assert telegram_length(html_text) == length == utf16_length(parse_html(html_text))


def test_a_short_message_is_one_part_unchanged():
    assert split_message("  <b>Hello</b> world\n") == ["<b>Hello</b> world"]
    assert split_message("   \n ") == []


def test_sources_are_kept_whole_when_they_fit():
    sources = [f"[{n}] Title {n}\n<blockquote>{'word ' * 150}end.</blockquote>" for n in range(1, 6)]
    html_text = "The answer [1].\n\n<b>Sources</b>\n" + "\n\n".join(sources)
    parts = split_message(html_text, limit=1000)
    texts = check_parts(parts, 1000)
    assert len(parts) > 1
    for text in texts[1:]:
        assert re.match(r"\[\d\] Title \d\n", text), text[:30]


def test_a_long_blockquote_is_cut_between_sentences_and_reopened():
    sentences = " ".join(
        f"Sentence number {n} says something rather long about the ceasefire talks." for n in range(60)
    )
    html_text = f"<b>Sources</b>\n[1] Title\n<blockquote>{sentences}</blockquote>"
    parts = split_message(html_text, limit=900)
    texts = check_parts(parts, 900)
    assert len(parts) >= 4
    for part in parts[1:]:
        assert part.startswith("<blockquote>") and part.endswith("</blockquote>")
    for text in texts[:-1]:
        assert text.endswith("talks.")
    assert words_of(" ".join(texts)) == words_of(parse_html(html_text))


def test_arabic_quotes_keep_their_bidi_isolates_on_both_sides_of_a_cut():
    arabic = " ".join("التقى وفد أميركي رفيع الجنرال خليفة حفتر لبحث وقف إطلاق النار في طرابلس." for _ in range(40))
    html_text = f"<blockquote>{RLI}{arabic}{PDI}</blockquote>"
    parts = split_message(html_text, limit=700)
    check_parts(parts, 700)
    for part in parts:
        assert part.startswith(f"<blockquote>{RLI}") and part.endswith(f"{PDI}</blockquote>")
    for part in parts[:-1]:
        assert part.endswith(f"طرابلس.{PDI}</blockquote>")


def test_entities_tags_and_words_are_never_cut():
    html_text = " ".join(f'<a href="https://e.com/{n}?x=1&amp;y=2">tom &amp; jerry</a> &lt;{n}&gt;' for n in range(300))
    for limit in (50, 97, 333, 1000):
        parts = split_message(html_text, limit=limit)
        texts = check_parts(parts, limit)
        assert words_of(" ".join(texts)) == words_of(parse_html(html_text))
        for part in parts:
            assert part.count("<a ") == part.count("</a>")


def test_paragraphs_are_preferred_to_sentences_and_sentences_to_words():
    paragraph = " ".join(["Short sentence here."] * 10)
    html_text = "\n".join([paragraph] * 6)
    texts = check_parts(split_message(html_text, limit=500), 500)
    assert all(text.endswith("here.") for text in texts)
    assert all("\n" not in text[:1] for text in texts)
    long_words = " ".join(["word"] * 400)
    texts = check_parts(split_message(long_words, limit=100), 100)
    assert all(set(words_of(text)) == {"word"} for text in texts)


def test_a_word_longer_than_a_message_is_the_only_thing_cut():
    html_text = f"<b>{'x' * 250}</b> tail"
    texts = check_parts(split_message(html_text, limit=100), 100)
    assert "".join(texts).replace(" ", "") == "x" * 250 + "tail"


def test_a_surrogate_pair_is_never_split():
    html_text = "😀" * 100
    texts = check_parts(split_message(html_text, limit=51), 51)
    assert "".join(texts) == html_text


@pytest.mark.parametrize("bad", ["<b>open", "<b>x</i>", "a </b> b", "<b>x</b></b>", "<i><b>x</i></b>"])
def test_unbalanced_input_is_refused(bad):
    with pytest.raises(ValueError):
        split_message(bad * 50, limit=40)


def _random_document(rng) -> str:
    words = [
        "ceasefire",
        "Haftar",
        "حفتر",
        "طرابلس",
        "&amp;",
        "&lt;b&gt;",
        "😀",
        "talks.",
        "وقف؟",
        "x" * 40,
        "U.S.",
        "&quot;q&quot;",
    ]
    blocks = []
    for _ in range(rng.randint(1, 12)):
        sentence = " ".join(rng.choice(words) for _ in range(rng.randint(1, 80)))
        tag = rng.choice(["", "b", "i", "blockquote", "a", "code"])
        if rng.random() < 0.3:
            sentence = f"{RLI}{sentence}{PDI}"
        if tag == "a":
            sentence = f'<a href="https://e.com/?a=1&amp;b=2">{sentence}</a>'
        elif tag:
            sentence = f"<{tag}>{sentence}</{tag}>"
        blocks.append(sentence + rng.choice(["\n\n", "\n", " "]))
    return "".join(blocks)


def test_random_documents_split_into_valid_parts_that_keep_every_character():
    import random

    rng = random.Random(20191120)
    for _ in range(150):
        html_text = _random_document(rng)
        limit = rng.choice([40, 64, 100, 250, 1000, 4096])
        texts = check_parts(split_message(html_text, limit=limit), limit)

        def visible(text: str) -> str:
            return "".join(text.replace(RLI, "").replace(PDI, "").split())

        assert visible("".join(texts)) == visible(parse_html(html_text))
