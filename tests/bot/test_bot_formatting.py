"""How answers read in Telegram HTML, and the same answers as plain text: the answer first (its typed span in
bold), then each cited article once with the context around its quote in an expandable quote."""

from __future__ import annotations

from typing import Any

import pytest
from fake_telegram import ApiError, parse_html

from bot.formatting import answer_as_text, answer_html, article_line_html, isolate, passages_html, split_message
from bot.messages import latest_html
from index.records import Answer, Article, Citation

RLI, PDI = "\u2067", "\u2069"
PASSAGE = "A senior US delegation met Haftar.\nThe talks were frank."
BAD_URLS = [
    "https://example.com/a b\nc",
    "https://example.com/a\n",
    "javascript:alert(1)",
    "https://",
    'https://e.com/"x',
]


def citation(number: int = 1, **fields) -> Citation:
    values: dict[str, Any] = dict(
        number=number,
        article_id=f"article-{number}",
        title="US delegation meets Haftar",
        source="Example Wire",
        url="https://news.example.com/a?b=1&c=2",
        published="2019-11-25T09:30:00Z",
        quote="A senior US delegation met Haftar.",
        start=0,
        end=34,
        passage=PASSAGE,
        score=0.8,
    )
    values.update(fields)
    return Citation(**values)


def answer(found: bool = True, citations: list[Citation] | None = None, sentences=None, marks=()) -> Answer:
    citations = [citation()] if citations is None else citations
    sentences = [(c.quote, c.number) for c in citations] if sentences is None and found else (sentences or [])
    return Answer("Who met Haftar?", found, sentences, citations, marks=marks)


@pytest.mark.parametrize(
    ("text", "isolated"),
    [
        ("Haftar", "Haftar"),
        ("حفتر", f"{RLI}حفتر{PDI}"),
        ("2019 حفتر met", f"{RLI}2019 حفتر met{PDI}"),  # digits are weak: the first strong letter decides
        ("Haftar حفتر", "Haftar حفتر"),
        ("", ""),
    ],
)
def test_right_to_left_text_is_isolated(text, isolated):
    assert isolate(text) == isolated


def test_an_answer_has_markers_then_its_article_with_the_context_of_the_quote():
    html_text = answer_html(answer())
    assert html_text == (
        "A senior US delegation met Haftar. [1]\n\n<b>Sources</b>\n"
        '[1] <a href="https://news.example.com/a?b=1&amp;c=2">US delegation meets Haftar</a>'
        " — Example Wire, 2019-11-25\n"
        "<blockquote expandable><i>A senior US delegation met Haftar.</i> The talks were frank.</blockquote>"
    )
    parse_html(html_text)


def test_the_typed_span_of_the_answer_is_bold():
    marked = answer(marks=((0, 27, 33),))
    html_text = answer_html(marked)
    assert html_text.startswith("A senior US delegation met <b>Haftar</b>. [1]\n\n")
    assert answer_as_text(marked).startswith("A senior US delegation met **Haftar**. [1]\n\n")
    parse_html(html_text)


@pytest.mark.parametrize("marks", [((0, 30, 99),), ((3, 0, 5),), ((0, 5, 5),)])
def test_marks_outside_the_sentence_are_ignored(marks):
    assert answer_html(answer(marks=marks)).startswith("A senior US delegation met Haftar. [1]\n\n")


def test_an_article_cited_twice_appears_once_with_both_markers():
    first = citation(1, passage=PASSAGE + " Nothing was agreed.")
    second = citation(2, article_id="article-1", quote="The talks were frank.", passage=first.passage)
    html_text = answer_html(answer(citations=[first, second]))
    assert html_text.startswith(
        "A senior US delegation met Haftar. [1] The talks were frank. [2]\n\n<b>Sources</b>\n[1][2] <a"
    )
    assert html_text.count("US delegation meets Haftar") == 1 and html_text.count("<blockquote") == 1
    assert (
        "<blockquote expandable><i>A senior US delegation met Haftar.</i> <i>The talks were frank.</i> "
        "Nothing was agreed.</blockquote>"
    ) in html_text
    text = answer_as_text(answer(citations=[first, second]))
    assert text.count("US delegation meets Haftar") == 1 and "\n[1][2] US delegation meets Haftar — " in text


def test_a_quote_without_context_is_not_repeated_under_its_article():
    alone = citation(passage="A senior US delegation met Haftar.")
    html_text = answer_html(answer(citations=[alone]))
    assert "<blockquote" not in html_text and html_text.count("A senior US delegation met Haftar.") == 1
    assert answer_as_text(answer(citations=[alone])).count("A senior US delegation met Haftar.") == 1


def test_the_context_is_a_window_of_whole_sentences_around_the_quote():
    before = " ".join(f"Earlier sentence number {n} says little." for n in range(40))
    after = " ".join(f"Later sentence number {n} says little." for n in range(40))
    quote = "A senior US delegation met Haftar."
    passage = f"{before} {quote} {after}"
    html_text = answer_html(answer(citations=[citation(passage=passage)]))
    context = html_text.partition("<blockquote expandable>")[2].partition("</blockquote>")[0]
    shown_before, _, rest = context.partition(f"<i>{quote}</i>")
    assert shown_before.startswith("…Earlier sentence number ") and rest.endswith("says little.…")
    assert 200 <= len(shown_before) <= 260 and 200 <= len(rest) <= 260  # about 250 characters on each side
    assert shown_before.endswith("says little. ") and rest.startswith(" Later sentence number 0 says")


def test_everything_from_the_articles_is_escaped():
    nasty = citation(
        title="<b>Bold</b> & co",
        source="A&B <News>",
        quote='He said "<script>" & left.',
        passage='He said "<script>" & left. Then <i>nothing</i>.',
        url="javascript:alert(1)",
    )
    html_text = answer_html(answer(citations=[nasty], marks=((0, 9, 17),)))
    plain = parse_html(html_text)
    assert "<b>Bold</b> & co — A&B <News>" in plain
    assert 'He said "<script>" & left. [1]' in plain and "Then <i>nothing</i>." in plain
    assert "<b>&lt;script&gt;</b>" in html_text
    assert "<a " not in html_text  # only http(s) addresses become links


@pytest.mark.parametrize("url", BAD_URLS)
def test_a_url_that_cannot_be_a_link_leaves_the_title_as_plain_text(url):
    bad = citation(url=url)
    for html_text in (answer_html(answer(citations=[bad])), answer_html(answer(False, [bad])), passages_html(answer())):
        parse_html(html_text)
    assert "<a " not in answer_html(answer(citations=[bad])) and "<a " not in passages_html(answer(citations=[bad]))
    article = Article("a", "Title & more", "text", source="Wire", url=url, published="2019-11-25")
    assert article_line_html(article) == "Title &amp; more — Wire, 2019-11-25"
    parse_html(latest_html([article]))
    assert url.strip() not in answer_as_text(answer(citations=[bad]))


def test_the_fake_server_refuses_the_link_the_old_check_made():
    with pytest.raises(ApiError, match="Wrong HTTP URL"):
        parse_html('<a href="https://example.com/a b\nc">t</a>')


def test_arabic_sources_are_isolated_inside_the_link_and_the_quote():
    arabic = citation(
        title="روسيا كلمة السر",
        source="الجزيرة",
        published="2019-11-20",
        quote="التقى وفد أميركي حفتر.",
        passage="التقى وفد أميركي حفتر. وعبر المسؤولون عن قلقهم.",
    )
    html_text = answer_html(answer(citations=[arabic], marks=((0, 10, 16),)))
    assert html_text.startswith(f"{RLI}التقى وفد <b>أميركي</b> حفتر.{PDI} [1]")
    assert f'">{RLI}روسيا كلمة السر{PDI}</a> — {RLI}الجزيرة{PDI}, 2019-11-20' in html_text
    assert f"<blockquote expandable>{RLI}<i>التقى وفد أميركي حفتر.</i> وعبر المسؤولون عن قلقهم.{PDI}</blockquote>" in (
        html_text
    )
    for part in split_message(html_text, limit=40):
        parse_html(part)


def test_not_found_says_so_plainly_and_offers_the_closest_passages():
    closest = [citation(1, quote=PASSAGE), citation(2, quote=PASSAGE), citation(3, article_id="article-1", quote="x")]
    html_text = answer_html(answer(found=False, citations=closest))
    assert html_text.startswith("I could not find this in my articles.\n\n<b>Closest passages</b>\n[1][3] <a ")
    assert "\n\n[2] <a " in html_text and "<i>" not in html_text
    assert "<blockquote expandable>A senior US delegation met Haftar. The talks were frank.</blockquote>" in html_text
    assert answer_html(answer(found=False, citations=[])) == "I could not find this in my articles."
    assert answer_as_text(answer(found=False)).startswith(
        "I could not find this in my articles.\n\nClosest passages:\n"
    )


def test_the_html_and_the_plain_text_say_the_same():
    cited = answer(citations=[citation(1), citation(2, title="Second", url="", published="")])
    plain_html = parse_html(answer_html(cited))
    plain_text = answer_as_text(cited)
    assert plain_text.splitlines()[0] == plain_html.splitlines()[0]
    for line in ("[1] US delegation meets Haftar — Example Wire, 2019-11-25", "[2] Second — Example Wire"):
        assert line in plain_html and line in plain_text
    assert "    “_A senior US delegation met Haftar._ The talks were frank.”" in plain_text
    assert "    https://news.example.com/a?b=1&c=2" in plain_text


def test_passages_show_the_whole_chunk_in_an_expandable_quote_each_article_once():
    first, second = citation(1), citation(2, article_id="article-1", quote="The talks were frank.")
    html_text = passages_html(answer(citations=[first, second]))
    assert html_text.startswith("<b>Passages for:</b> Who met Haftar?\n\n[1][2] ")
    assert (
        "<blockquote expandable><i>A senior US delegation met Haftar.</i>\n<i>The talks were frank.</i></blockquote>"
    ) in html_text
    parse_html(html_text)


def test_a_long_passage_splits_into_valid_messages_each_quote_still_expandable():
    passage = " ".join(f"Sentence number {n} of a long passage about Haftar." for n in range(60))
    html_text = passages_html(answer(citations=[citation(passage=passage, quote="Sentence number 30 of a long")]))
    parts = split_message(html_text, limit=500)
    assert len(parts) > 3
    for part in parts[1:]:
        parse_html(part)
        assert part.startswith("<blockquote expandable>") and part.endswith("</blockquote>")
