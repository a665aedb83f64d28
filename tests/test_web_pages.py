"""The article in an HTML page (index/sources/web_pages.py): main text without the page's furniture,
and the title, date, site name, author and canonical URL the page declares."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from index.sources.web_pages import UnreadablePage, extract_page

BODY = [
    "Dock workers at the country's largest port walked out on Monday, halting grain exports for the second time.",
    "The union said the strike would continue until the government agreed to review wages, frozen since 2019.",
    "Traders warned that a long stoppage could push up wheat prices across the region within weeks.",
]
ARABIC_BODY = [
    "ارتفعت أسعار القمح في الأسواق العالمية خلال الأسبوع الماضي بنسبة تجاوزت عشرة في المئة، وسط مخاوف من تراجع "
    "الإمدادات القادمة من منطقة البحر الأسود.",
    "وقال محللون إن موجة الجفاف التي ضربت عدداً من الدول المنتجة أدت إلى خفض توقعات المحاصيل هذا العام.",
    "وتعد مصر من أكبر مستوردي القمح في العالم، وتعتمد على الواردات لتأمين الخبز المدعوم لملايين المواطنين.",
]
COMMENT = "I have been saying this for years and nobody listens to the people who actually work at the docks."


def paragraphs(items: list[str]) -> str:
    return "".join(f"<p>{p}</p>" for p in items)


def news_page(head: str = "", body: list[str] = BODY, lang: str = "en") -> str:
    """An article with everything around it that is not the article."""
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>Port strike | Harbour Times</title>'
        f"{head}</head><body>"
        '<header class="site-header"><a href="/">Harbour Times</a><nav><a href="/w">World</a> '
        '<a href="/b">Business</a></nav></header>'
        '<main><article><h1>Port strike halts grain exports</h1><div class="byline">By Jane Doe, 5 March</div>'
        '<figure><img src="/p.jpg"><figcaption>Idle cranes at the container terminal (Reuters)</figcaption></figure>'
        f"{paragraphs(body[:1])}"
        '<div class="related-links"><h3>Related</h3><ul><li><a href="/r1">Dockers vote to strike again over '
        "pensions</a></li><li><a href='/r2'>Wheat futures climb for a third day</a></li></ul></div>"
        f"{paragraphs(body[1:])}"
        '<div class="share-buttons"><a>Facebook</a><a>Twitter</a></div></article>'
        f'<section id="comments"><h2>2 comments</h2><div class="comment"><p>{COMMENT}</p></div>'
        f'<div class="comment"><p>{COMMENT} Again.</p></div></section></main>'
        '<aside><h2>Most read</h2><ol><li><a href="/m">Heatwave grips the south as temperatures soar</a></li></ol>'
        '</aside><form class="newsletter"><p>Sign up for our morning briefing, delivered every weekday.</p></form>'
        "<footer>© 2024 Harbour Times. All rights reserved.</footer></body></html>"
    )


def test_main_text_without_navigation_captions_related_links_comments_or_footer() -> None:
    page = extract_page(news_page())
    assert page.text == "\n".join(BODY)  # one paragraph a line, the <h1> title not repeated
    for furniture in ("World", "Jane Doe", "Idle cranes", "Dockers vote", "Facebook", COMMENT[:30], "Heatwave"):
        assert furniture not in page.text
    assert "Sign up" not in page.text and "All rights reserved" not in page.text


def test_arabic_page() -> None:
    head = (
        '<meta property="og:site_name" content="أخبار الخليج"><meta property="og:title" content="ارتفاع أسعار القمح">'
    )
    page = extract_page(news_page(head, ARABIC_BODY, lang="ar").replace('<html lang="ar"', '<html lang="ar" dir="rtl"'))
    assert page.text == "\n".join(ARABIC_BODY)
    assert (page.title, page.site_name) == ("ارتفاع أسعار القمح", "أخبار الخليج")


def test_arabic_page_in_a_declared_legacy_encoding() -> None:
    html = f'<html><head><meta charset="windows-1256"><title>القمح</title></head><body>{paragraphs(ARABIC_BODY)}'
    page = extract_page((html + "</body></html>").encode("cp1256"))
    assert page.text == "\n".join(ARABIC_BODY)


def test_metadata_from_meta_tags() -> None:
    head = (
        '<meta property="og:title" content="Port strike halts grain exports">'
        '<meta property="og:site_name" content="Harbour Times"><meta name="author" content="Jane Doe">'
        '<meta property="article:published_time" content="2024-03-05T23:30:00-05:00">'
        '<link rel="canonical" href="/news/port-strike">'
    )
    page = extract_page(news_page(head), "https://harbour.example/p?id=7")
    assert page.title == "Port strike halts grain exports"
    assert (page.site_name, page.author) == ("Harbour Times", "Jane Doe")
    assert page.published == "2024-03-05"  # the date as the page wrote it, without its time
    assert page.url == "https://harbour.example/news/port-strike"


def test_metadata_from_json_ld_only() -> None:
    data = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebSite", "name": "Wire"},
            {
                "@type": ["NewsArticle"],
                "headline": "Grain exports halted",
                "datePublished": "2024-03-05T07:49:38Z",
                "dateModified": "2024-03-06T04:20:47Z",
                "author": [{"@type": "Person", "name": "Jane Doe"}, {"@type": "Person", "name": "Sam Lee"}],
                "publisher": {"@type": "Organization", "name": "Wire Service"},
            },
        ],
    }
    head = f'<script type="application/ld+json">{json.dumps(data)}</script><script type="application/ld+json">{{'
    page = extract_page(news_page(head + "broken</script>"))
    assert (page.title, page.published) == ("Grain exports halted", "2024-03-05")
    assert (page.author, page.site_name) == ("Jane Doe, Sam Lee", "Wire Service")


@pytest.mark.parametrize(
    ("head", "body_extra", "url", "expected"),
    [
        ('<meta name="date" content="2019/11/14">', "", "", "2019-11-14"),
        ("", '<time datetime="2019-11-14T10:00:00+0100">14 Nov</time>', "", "2019-11-14"),
        ("", '<span itemprop="datePublished" content="Thu, 14 Nov 2019 10:00:00 GMT"></span>', "", "2019-11-14"),
        ("", "", "https://news.example/2019/11/14/port-strike", "2019-11-14"),
        ('<meta property="article:modified_time" content="2019-11-15">', "", "", "2019-11-15"),
        ('<meta name="date" content="1976-01-01">', "", "", ""),  # before the web: page furniture
        ('<meta name="date" content="tomorrow-ish">', "", "", ""),
        ("", "", "https://news.example/2019/13/45/x", ""),
    ],
)
def test_publication_date(head: str, body_extra: str, url: str, expected: str) -> None:
    html = news_page(head).replace("<main>", f"<main>{body_extra}")
    assert extract_page(html, url).published == expected


def test_a_date_in_the_future_is_no_date() -> None:
    later = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    assert extract_page(news_page(f'<meta name="date" content="{later}">')).published == ""


def test_title_falls_back_to_the_page_title_and_heading() -> None:
    page = extract_page(news_page())  # no og:title: the <title> "Port strike | Harbour Times" and one <h1>
    assert page.title == "Port strike halts grain exports"
    html = "<html><head><title>Ports | Strike halts all grain exports</title></head><body>"
    assert extract_page(html + paragraphs(BODY) + "</body></html>").title == "Strike halts all grain exports"


def test_site_name_falls_back_to_the_host_name() -> None:
    assert extract_page(news_page(), "https://harbour.example/a").site_name == "harbour.example"
    assert extract_page(news_page()).site_name == ""


def test_canonical_url_is_percent_encoded() -> None:
    head = '<link rel="canonical" href="https://ar.example/أخبار/القمح الآن?id=1 2#top">'
    page = extract_page(news_page(head))
    assert page.url == "https://ar.example/%D8%A3%D8%AE%D8%A8%D8%A7%D8%B1/%D8%A7%D9%84%D9%82%D9%85%D8%AD%20" + (
        "%D8%A7%D9%84%D8%A2%D9%86?id=1+2"
    )


def test_an_author_that_is_a_link_is_no_author() -> None:
    assert extract_page(news_page('<meta name="author" content="https://facebook.com/harbour">')).author == ""


def test_a_page_wrapped_in_one_form_keeps_its_text() -> None:
    """ASP.NET pages put the whole page in <form>: it is not dropped as a sign-up form."""
    html = f'<html><body><form id="form1"><h1>Port strike</h1><div class="content">{paragraphs(BODY)}</div></form>'
    assert extract_page(html + "</body></html>").text == "\n".join(BODY)


def test_comment_thread_longer_than_the_article_is_left_out() -> None:
    thread = "".join(
        f'<li class="comment"><div class="comment-content"><p>{COMMENT} {n}</p></div></li>' for n in range(30)
    )
    html = news_page().replace(
        '<section id="comments">', f'<div class="comments-area"><ol>{thread}</ol></div><section>'
    )
    assert extract_page(html).text == "\n".join(BODY)


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ("  \n ", "is empty"),
        (bytes(range(256)) * 400, "is not text: it holds binary data or text in an undeclared encoding"),
    ],
)
def test_unreadable_pages(html: str | bytes, reason: str) -> None:
    with pytest.raises(UnreadablePage, match=f"^{reason}$"):
        extract_page(html)


def test_page_without_text() -> None:
    html = "<html><head><title>Menu</title></head><body><nav><a href='/a'>Home</a></nav><footer>(c)</footer></body>"
    page = extract_page(html + "</html>")
    assert (page.text, page.title, page.published) == ("", "Menu", "")


@pytest.mark.parametrize(
    "html",
    [
        "<html><body><h1>T</h1>" + '<div class="comment"><p>a reply</p>' * 20_000 + "</div>" * 20_000,
        "<html><body>" + "<div>" * 50_000 + "deep text " * 20 + "</div>" * 50_000,
        '<script type="application/ld+json">' + "[" * 100_000 + "]" * 100_000 + "</script><p>text</p>",
        '<script type="application/ld+json">[' + '{"@type": "Thing"},' * 200_000 + "{}]</script><p>text</p>",
        "<p>text</p>" + '<time datetime="not a date">then</time>' * 20_000,
    ],
    ids=["nested-comments", "nested-divs", "deep-json-ld", "long-json-ld", "many-times"],
)
def test_hostile_markup_is_read_in_bounded_time(html: str) -> None:
    started = time.monotonic()
    extract_page(html)
    assert time.monotonic() - started < 5.0
