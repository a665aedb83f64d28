"""How answers read in Telegram HTML, and the same answers as plain text."""

from __future__ import annotations

import pytest
from fake_telegram import parse_html

from bot.formatting import answer_as_text, answer_html, isolate, passages_html
from index.records import Answer, Citation

RLI, PDI = "\u2067", "\u2069"


def citation(number: int = 1, **fields) -> Citation:
    values = dict(
        number=number,
        article_id=f"article-{number}",
        title="US delegation meets Haftar",
        source="Example Wire",
        url="https://news.example.com/a?b=1&c=2",
        published="2019-11-25T09:30:00Z",
        quote="A senior US delegation met Haftar.",
        start=0,
        end=34,
        passage="A senior US delegation met Haftar.\nThe talks were frank.",
        score=0.8,
    )
    values.update(fields)
    return Citation(**values)


def answer(found: bool = True, citations: list[Citation] | None = None, sentences=None) -> Answer:
    citations = [citation()] if citations is None else citations
    sentences = [(c.quote, c.number) for c in citations] if sentences is None and found else (sentences or [])
    return Answer("Who met Haftar?", found, sentences, citations)


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


def test_an_answer_has_markers_then_linked_sources_with_quotes():
    html_text = answer_html(answer())
    assert html_text == (
        "A senior US delegation met Haftar. [1]\n\n<b>Sources</b>\n"
        '[1] <a href="https://news.example.com/a?b=1&amp;c=2">US delegation meets Haftar</a>'
        " — Example Wire, 2019-11-25\n"
        "<blockquote>A senior US delegation met Haftar.</blockquote>"
    )
    parse_html(html_text)


def test_everything_from_the_articles_is_escaped():
    nasty = citation(
        title="<b>Bold</b> & co", source="A&B <News>", quote='He said "<script>" & left.', url="javascript:alert(1)"
    )
    html_text = answer_html(answer(citations=[nasty]))
    plain = parse_html(html_text)
    assert "<b>Bold</b> & co — A&B <News>" in plain
    assert 'He said "<script>" & left. [1]' in plain
    assert "<a " not in html_text  # only http(s) addresses become links


def test_arabic_sources_are_isolated_inside_the_link_and_the_quote():
    arabic = citation(title="روسيا كلمة السر", source="الجزيرة", published="2019-11-20", quote="التقى وفد أميركي حفتر.")
    html_text = answer_html(answer(citations=[arabic]))
    assert html_text.startswith(f"{RLI}التقى وفد أميركي حفتر.{PDI} [1]")
    assert f'">{RLI}روسيا كلمة السر{PDI}</a> — {RLI}الجزيرة{PDI}, 2019-11-20' in html_text
    assert f"<blockquote>{RLI}التقى وفد أميركي حفتر.{PDI}</blockquote>" in html_text


def test_not_found_says_so_plainly_and_offers_the_closest_passages():
    html_text = answer_html(answer(found=False))
    assert html_text.startswith("I could not find this in my articles.\n\n<b>Closest passages</b>\n[1] ")
    assert answer_html(answer(found=False, citations=[])) == "I could not find this in my articles."


def test_the_html_and_the_plain_text_say_the_same():
    cited = answer(citations=[citation(1), citation(2, title="Second", url="", published="")])
    plain_html = parse_html(answer_html(cited))
    plain_text = answer_as_text(cited)
    assert plain_text.splitlines()[0] == plain_html.splitlines()[0]
    for line in ("[1] US delegation meets Haftar — Example Wire, 2019-11-25", "[2] Second — Example Wire"):
        assert line in plain_html and line in plain_text


def test_passages_show_the_whole_chunk_in_an_expandable_quote():
    html_text = passages_html(answer())
    assert html_text.startswith("<b>Passages for:</b> Who met Haftar?\n\n[1] ")
    assert "<blockquote expandable>A senior US delegation met Haftar.\nThe talks were frank.</blockquote>" in html_text
    parse_html(html_text)
