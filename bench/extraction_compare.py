"""Side by side: the article text and metadata trafilatura extracted (before issue 14) and what
``index/sources/web_pages.py`` extracts now, on HTML pages whose article body is known.

The pages: the HTML fixtures of the tests, and news page templates modelled on the layouts of real
outlets (a semantic <article> page with comments, a wire service's div soup with JSON-LD only, an
Al Jazeera Net-like Arabic page with "اقرأ أيضا" boxes and captions, a table-layout Arabic site, a
WordPress blog with a long comment thread, a BBC-like page of text blocks, a short story lost in a
homepage's teasers, an explainer with subheadings and lists, a bare page of <br>-separated text, an
Arabic page with readers' comments). Each template is filled with real article bodies: the
example article of the project, and, when ../shared/bench holds them, Arabic and English news
articles (their headlines also fill the related-link and most-read boxes). The hand-marked body is
the article's paragraphs (subheadings, list items and quotes included; title, byline, captions,
related links, source lines and comments left out).

Scores: word-level precision, recall and F1 of the extracted text against the body (multisets of
words, each page weighted equally), and whether the title, date, site name and author are exactly
the page's. trafilatura is optional: without it only the current extractor is scored.

    .venv/bin/python bench/extraction_compare.py                  # print the table
    .venv/bin/python bench/extraction_compare.py --write          # and record bench/results/extraction-compare.json
    .venv/bin/python bench/extraction_compare.py --show NAME      # both extractions of the pages whose name has NAME
"""

from __future__ import annotations

import argparse
import gzip
import html
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from index.sources.dates import iso_date  # noqa: E402
from index.sources.web_pages import UnreadablePage, extract_page  # noqa: E402
from tests.local_http import ARABIC, ENGLISH, NO_TEXT, story  # noqa: E402

SHARED = PROJECT.parent / "shared" / "bench"
EXAMPLE = PROJECT / "examples" / "articles" / "aljazeera-haftar-2019-11.txt"
RESULTS = PROJECT / "bench" / "results" / "extraction-compare.json"


@dataclass
class Story:
    title: str
    paragraphs: list[str]
    lang: str
    site: str
    author: str = ""
    date: str = ""  # YYYY-MM-DD
    url: str = ""


@dataclass
class Page:
    name: str
    html: str
    body: list[str]  # the hand-marked article body, one paragraph an item
    title: str
    date: str
    site: str
    author: str
    url: str = ""  # where the page was fetched from


@dataclass
class Extraction:
    text: str = ""
    title: str = ""
    date: str = ""
    site: str = ""
    author: str = ""
    seconds: float = 0.0
    error: str = ""


@dataclass
class Boilerplate:
    """Headlines of other stories, readers' comments and the page chrome, in one language."""

    headlines: list[str]
    teasers: list[str]
    comments: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- stories


def _paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in re.split(r"\n+", text) if p.strip()]


def _shared_stories(name: str, lang: str, count: int, skip: int) -> tuple[list[Story], list[str], list[str]]:
    """``count`` stories of 4 to 12 paragraphs from a ../shared/bench sample, and the headlines and first
    paragraphs of others."""
    path = SHARED / name
    if not path.exists():
        return [], [], []
    stories, headlines, teasers = [], [], []
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for n, line in enumerate(handle):
            record = json.loads(line)
            paragraphs = _paragraphs(record["text"])
            mean_length = sum(map(len, paragraphs)) / max(1, len(paragraphs))
            if (
                n < skip
                or len(stories) >= count
                or not 4 <= len(paragraphs) <= 12
                or not 900 <= len(record["text"]) <= 6000
                or mean_length < 80  # a list of fixtures or results, not prose
            ):
                headlines.append(record["title"])
                teasers.append(paragraphs[0][:300])
                if len(headlines) >= 60 and len(stories) >= count:
                    break
                continue
            day = iso_date(record.get("published") or "")[:10] or f"2018-0{1 + len(stories) % 9}-1{len(stories)}"
            stories.append(
                Story(record["title"], paragraphs, lang, record.get("source") or "", record.get("author") or "", day)
            )
    return stories, headlines, teasers


def _example_story() -> tuple[Story, str, str]:
    """The project's example article: its body, and its caption and byline as the page showed them."""
    lines = [line.strip() for line in EXAMPLE.read_text(encoding="utf-8").split("\n") if line.strip()]
    title, caption_en, caption_ar, byline = lines[:4]
    body = [line for line in lines[4:] if not line.startswith("المصدر")]
    story = Story(title, body, "ar", "الجزيرة نت", "محمد المنشاوي", "2019-11-16")
    return story, f"{caption_en} {caption_ar}", byline


ENGLISH_COMMENTS = [
    "This is exactly what I have been saying for years. Nobody in government listens until it is too late, "
    "and then they act surprised when the consequences arrive on schedule.",
    "I disagree with the premise of this article. The figures quoted here leave out the regional data, which "
    "tell a very different story if you bother to look at them closely.",
    "Great reporting as always. Would love to see a follow-up piece on what happens to the workers who lose "
    "their jobs once the dust settles and the cameras have gone.",
    "Does anyone know whether the new rules apply to small businesses too, or only to the large firms? My "
    "brother runs a shop and he has no idea what he is supposed to do now.",
    "The comment section here is always more informative than the article itself. Keep it up everyone, and "
    "please keep it civil so the moderators do not close it again.",
    "My family lived through something similar in the nineties and I can tell you that the promises made "
    "then were never kept either. History repeats itself.",
]
ARABIC_COMMENTS = [
    "كلام جميل ولكن الواقع مختلف تماما عما يقوله المسؤولون، فالمواطن البسيط هو من يدفع الثمن في النهاية "
    "ولا أحد يسأل عنه أو يهتم بمعاناته اليومية.",
    "شكرا على هذا التقرير المفصل، نتمنى أن تتابعوا الموضوع وتنقلوا لنا آراء الخبراء والمختصين في الأيام "
    "القادمة حتى تتضح الصورة أكثر.",
    "أختلف مع الكاتب في كثير مما ذهب إليه، فالأرقام المذكورة لا تعكس الحقيقة على الأرض، ومن يعيش هناك يعرف ذلك جيدا.",
    "هذا ما كنا نحذر منه منذ سنوات طويلة، لكن لا حياة لمن تنادي، والله المستعان على ما يحدث في بلادنا.",
    "للأسف الإعلام لا ينقل إلا جانبا واحدا من القصة، وعلى القارئ أن يبحث بنفسه عن الحقيقة في مصادر أخرى "
    "متعددة قبل أن يحكم.",
    "أتمنى من الجهات المعنية أن تتحرك بسرعة قبل فوات الأوان، فالوضع لم يعد يحتمل المزيد من التأجيل "
    "والوعود التي لا تتحقق.",
]
EN_NAV = ["Home", "World", "UK", "Business", "Politics", "Tech", "Science", "Health", "Sport", "Video", "Opinion"]
AR_NAV = ["الرئيسية", "أخبار", "سياسة", "اقتصاد", "رياضة", "ثقافة", "تكنولوجيا", "صحة", "منوعات", "فيديو", "آراء"]


def _links(items: list[str], href: str = "/news/") -> str:
    return "".join(f'<li><a href="{href}{n}">{html.escape(t)}</a></li>' for n, t in enumerate(items))


def _paras(items: list[str]) -> str:
    return "".join(f"<p>{html.escape(p)}</p>" for p in items)


def _head(story: Story, meta: str, page_title: str = "") -> str:
    title = page_title or f"{story.title} | {story.site}"
    direction = ' dir="rtl"' if story.lang == "ar" else ""
    return (
        f'<!DOCTYPE html><html lang="{story.lang}"{direction}><head><meta charset="utf-8">'
        f'<title>{html.escape(title)}</title><meta name="viewport" content="width=device-width">'
        f'<link rel="stylesheet" href="/static/site.css"><script>window.dataLayer=[];</script>{meta}</head>'
    )


def _og(story: Story, date: bool = True, author: bool = True) -> str:
    parts = [
        f'<meta property="og:title" content="{html.escape(story.title)}">',
        f'<meta property="og:site_name" content="{html.escape(story.site)}">',
        '<meta property="og:type" content="article">',
    ]
    if date and story.date:
        parts.append(f'<meta property="article:published_time" content="{story.date}T09:15:00+00:00">')
    if author and story.author:
        parts.append(f'<meta name="author" content="{html.escape(story.author)}">')
    return "".join(parts)


def _json_ld(story: Story, *, date: bool = True, author: bool = True) -> str:
    data: dict[str, object] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": story.title,
        "publisher": {"@type": "Organization", "name": story.site, "logo": {"@type": "ImageObject", "url": "/l.png"}},
        "image": ["https://img.example/1.jpg"],
    }
    if date and story.date:
        data["datePublished"] = f"{story.date}T07:49:38Z"
        data["dateModified"] = f"{story.date}T18:20:47Z"
    if author and story.author:
        data["author"] = [{"@type": "Person", "name": story.author}]
    return f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script>'


def _split(paragraphs: list[str], at: int) -> tuple[list[str], list[str]]:
    return paragraphs[:at], paragraphs[at:]


# ---------------------------------------------------------------- templates
# Each returns the page's HTML and its hand-marked body (the story's paragraphs unless it adds some).


def semantic_article(story: Story, other: Boilerplate) -> tuple[str, list[str]]:
    """A modern news page: <header>/<nav>, <article> with figure, byline, inline related link, tags and
    share bar, then a comment thread, a most-read <aside> and a newsletter form."""
    nav = EN_NAV if story.lang == "en" else AR_NAV
    first, rest = _split(story.paragraphs, 2)
    comments = other.comments[:5]
    related = "Read more:" if story.lang == "en" else "اقرأ أيضا:"
    page = (
        _head(story, _og(story) + f'<link rel="canonical" href="https://news.example/2021/{story.title[:5]}">')
        + f'<body><header class="site-header"><a class="logo" href="/">{html.escape(story.site)}</a>'
        f"<nav><ul>{_links(nav, '/section/')}</ul></nav></header>"
        f'<main><article><header><h1>{html.escape(story.title)}</h1><div class="byline">'
        + (f'By <a rel="author" href="/staff/1">{html.escape(story.author)}</a> ' if story.author else "")
        + f'<time datetime="{story.date}T09:15:00Z">{story.date}</time></div></header>'
        f'<figure><img src="/p.jpg" alt=""><figcaption>{html.escape(other.headlines[0])} (Reuters)'
        "</figcaption></figure>"
        f"{_paras(first)}"
        f'<p class="related-inline"><strong>{related}</strong> <a href="/r">{html.escape(other.headlines[1])}</a></p>'
        f"{_paras(rest)}"
        f'<ul class="tags">{_links(nav[1:4], "/tag/")}</ul>'
        f'<div class="share"><a href="#">Facebook</a> <a href="#">Twitter</a> <a href="#">Email</a></div>'
        f"</article>"
        f'<section id="comments"><h2>{len(comments)} comments</h2>'
        + "".join(f'<div class="comment"><b>reader{n}</b><p>{html.escape(c)}</p></div>' for n, c in enumerate(comments))
        + '</section></main><aside class="most-read"><h2>Most read</h2>'
        f"<ol>{_links(other.headlines[2:12])}</ol></aside>"
        f'<form class="newsletter"><p>Get our morning briefing in your inbox every day.</p><input name="e"></form>'
        f"<footer><ul>{_links(['About us', 'Contact', 'Privacy', 'Terms', 'Advertise'], '/about/')}</ul>"
        f"<p>© 2024 {html.escape(story.site)}. All rights reserved.</p></footer></body></html>"
    )
    return page, story.paragraphs


def wire_div_soup(story: Story, other: Boilerplate) -> tuple[str, list[str]]:
    """A wire service's page: no semantic tags, paragraphs in <div>s with generated class names, ad slots
    between them, metadata only in JSON-LD."""
    nav = EN_NAV if story.lang == "en" else AR_NAV
    blocks = []
    for n, paragraph in enumerate(story.paragraphs):
        blocks.append(f'<div data-testid="paragraph-{n}" class="text__text__1FZLe">{html.escape(paragraph)}</div>')
        if n % 3 == 2:
            blocks.append(
                '<div class="article-body__element__2p5pI"><span>Advertisement · Scroll to continue</span></div>'
            )
    page = (
        _head(story, _json_ld(story), page_title=f"{story.title} | {story.site}")
        + '<body><div class="site-header__container__3M2Y"><div class="nav__items__2Xd">'
        + "".join(f'<a class="nav__link__1Ql" href="/s/{n}">{t}</a>' for n, t in enumerate(nav))
        + "</div></div>"
        '<div class="article__container__2Jk"><div class="article-header__heading__15OpQ">'
        f'<h1 data-testid="Heading">{html.escape(story.title)}</h1>'
        f'<div class="info-content__author-date__1Epi_">{html.escape(story.author or "")}</div></div>'
        f'<div class="article-body__content__17Yit">{"".join(blocks)}</div>'
        '<div class="trust-badge__container__2Bzd"><a href="/trust">Our Standards: The Trust Principles.</a></div>'
        '<div class="related-coverage__container__3Qn"><div class="heading">Related Coverage</div>'
        + "".join(
            f'<div class="story-card"><a href="/r/{n}">{html.escape(h)}</a></div>'
            for n, h in enumerate(other.headlines[:6])
        )
        + "</div></div>"
        '<div class="site-footer__container__4Ak">'
        + "".join(f'<a href="/f/{n}">{t}</a>' for n, t in enumerate(["Apps", "Newsletters", "Advertise", "Careers"]))
        + "<span>All quotes delayed a minimum of 15 minutes.</span></div></body></html>"
    )
    return page, story.paragraphs


def arabic_portal(story: Story, other: Boilerplate, caption: str = "", byline: str = "") -> tuple[str, list[str]]:
    """An Al Jazeera Net-like page: breaking-news ticker, menu, the body with an "اقرأ أيضا" box after the
    second paragraph, a captioned photo, a byline and a source line, a most-read list."""
    first, rest = _split(story.paragraphs, 2)
    page = (
        _head(story, _og(story, date=False) + _json_ld(story, author=False))
        + '<body><div id="root"><div class="breaking-news-ticker"><span>عاجل</span>'
        + "".join(f"<a href='/b/{n}'>{html.escape(h)}</a>" for n, h in enumerate(other.headlines[:3]))
        + f"</div><div class='site-header'><ul class='menu'>{_links(AR_NAV, '/ar/')}</ul></div>"
        f'<div class="article-header"><h1>{html.escape(story.title)}</h1></div>'
        f'<div class="article-featured-image"><img src="/i.jpg"><p class="article-featured-image__caption">'
        f"{html.escape(caption or other.headlines[4] + ' (الجزيرة)')}</p></div>"
        f'<div class="article-author">{html.escape(byline or story.author)}</div>'
        f'<div class="article-dates"><span>{story.date}</span></div>'
        f'<div class="wysiwyg wysiwyg--all-content">{_paras(first)}'
        f'<div class="more-on"><h3>اقرأ أيضا</h3><ul>{_links(other.headlines[5:8])}</ul></div>'
        f"{_paras(rest)}<p>المصدر : الجزيرة + وكالات</p></div>"
        f'<div class="most-read-container"><h2>الأكثر قراءة</h2><ol>{_links(other.headlines[8:14])}</ol></div>'
        f'<div class="site-footer"><ul>{_links(["من نحن", "اتصل بنا", "سياسة الخصوصية", "شروط الاستخدام"])}</ul>'
        "<p>جميع الحقوق محفوظة © 2024 شبكة الجزيرة الإعلامية</p></div></div></body></html>"
    )
    return page, story.paragraphs


def arabic_table_layout(story: Story, other: Boilerplate) -> tuple[str, list[str]]:
    """An old Arabic site: a <table> layout, <font> and <br> everywhere, no metadata but the <title>,
    the date only in the text."""
    body = "<br><br>".join(html.escape(p) for p in story.paragraphs)
    day = story.date.split("-")
    page = (
        f'<html dir="rtl"><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
        f"<title>{html.escape(story.site)} - {html.escape(story.title)}</title></head>"
        '<body><table width="100%"><tr><td colspan="3"><img src="/banner.gif"></td></tr><tr>'
        f'<td width="20%" valign="top">{"<br>".join(f"<a href=/c/{n}>{t}</a>" for n, t in enumerate(AR_NAV))}</td>'
        f'<td width="60%" valign="top"><font size="5"><b>{html.escape(story.title)}</b></font><br>'
        f'<font size="2" color="gray">نشر في {int(day[2])} {_AR_MONTHS[int(day[1]) - 1]} {day[0]}</font><br><br>'
        f'<font size="3">{body}</font><br><br>'
        f'<a href="/print">طباعة</a> | <a href="/send">أرسل لصديق</a></td>'
        f'<td width="20%" valign="top"><b>أخبار أخرى</b><br>'
        + "<br>".join(f"<a href=/n/{n}>{html.escape(h)}</a>" for n, h in enumerate(other.headlines[:10]))
        + '</td></tr><tr><td colspan="3" align="center">جميع الحقوق محفوظة</td></tr></table></body></html>'
    )
    return page, story.paragraphs


_AR_MONTHS = [
    "يناير",
    "فبراير",
    "مارس",
    "أبريل",
    "مايو",
    "يونيو",
    "يوليو",
    "أغسطس",
    "سبتمبر",
    "أكتوبر",
    "نوفمبر",
    "ديسمبر",
]


def wordpress_blog(story: Story, other: Boilerplate) -> tuple[str, list[str]]:
    """A WordPress theme: entry-content, a sharing block, an author box, post navigation, a long
    comment thread with a reply form, and widget sidebars."""
    comments = other.comments * 2
    thread = "".join(
        f'<li class="comment" id="comment-{n}"><article class="comment-body"><footer class="comment-meta">'
        f'<b class="fn">visitor{n}</b> <time datetime="2024-01-0{1 + n % 9}">says:</time></footer>'
        f'<div class="comment-content"><p>{html.escape(c)}</p></div><a class="comment-reply-link">Reply</a>'
        f"</article></li>"
        for n, c in enumerate(comments)
    )
    page = (
        _head(story, f'<meta property="og:title" content="{html.escape(story.title)}">')
        + f'<body class="single-post"><div id="page" class="site"><header id="masthead" class="site-header">'
        f'<p class="site-title"><a href="/">{html.escape(story.site)}</a></p>'
        '<nav id="site-navigation" class="main-navigation">'
        f"<ul>{_links(['Home', 'About', 'Archive', 'Contact'], '/p/')}"
        f'</ul></nav></header><div id="content" class="site-content"><div id="primary" class="content-area">'
        f'<main id="main" class="site-main"><article class="post type-post hentry"><header class="entry-header">'
        f'<h1 class="entry-title">{html.escape(story.title)}</h1><div class="entry-meta"><span class="posted-on">'
        f'<time class="entry-date published" datetime="{story.date}T10:00:00+01:00">{story.date}</time></span>'
        + (
            f'<span class="byline"> by <span class="author vcard"><a class="url fn n" href="/author/a">'
            f"{html.escape(story.author)}</a></span></span>"
            if story.author
            else ""
        )
        + "</div></header>"
        f'<div class="entry-content">{_paras(story.paragraphs)}'
        '<div class="sharedaddy sd-sharing-enabled"><h3 class="sd-title">Share this:</h3><ul>'
        "<li><a>Twitter</a></li><li><a>Facebook</a></li></ul></div></div>"
        f'<footer class="entry-footer"><span class="cat-links">Posted in <a>News</a></span></footer></article>'
        f'<div class="author-info"><h2>About the author</h2><p>Writes about politics '
        "and economics for this blog since 2011. Opinions are my own.</p></div>"
        f'<nav class="navigation post-navigation"><a rel="prev">{html.escape(other.headlines[0])}</a>'
        f'<a rel="next">{html.escape(other.headlines[1])}</a></nav>'
        f'<div id="comments" class="comments-area"><h2 class="comments-title">{len(comments)} thoughts</h2>'
        f'<ol class="comment-list">{thread}</ol><div id="respond" class="comment-respond"><h3>Leave a Reply</h3>'
        "<form><p>Your email address will not be published.</p><textarea></textarea></form></div></div>"
        f'</main></div><aside id="secondary" class="widget-area"><section class="widget"><h2>Recent Posts</h2>'
        f'<ul>{_links(other.headlines[2:8])}</ul></section><section class="widget"><h2>Archives</h2>'
        f"<ul>{_links(['March 2024', 'February 2024', 'January 2024'], '/a/')}</ul></section></aside></div>"
        f'<footer id="colophon" class="site-footer"><p>Proudly powered by WordPress</p></footer></div></body></html>'
    )
    return page, story.paragraphs


def bbc_blocks(story: Story, other: Boilerplate) -> tuple[str, list[str]]:
    """A BBC-like page: each paragraph in its own text block, a links block, a topic list."""
    blocks = "".join(
        f'<div data-component="text-block" class="ssrcss-11r1m41-RichTextComponentWrapper">'
        f'<div class="ssrcss-7uxr49-RichTextContainer"><p class="ssrcss-1q0x1qg-Paragraph">{html.escape(p)}</p>'
        "</div></div>"
        for p in story.paragraphs
    )
    page = (
        _head(story, _og(story, author=False) + _json_ld(story, author=False))
        + '<body><div id="orb-banner"><a href="/">BBC</a><ul>'
        + _links(["Home", "News", "Sport", "Weather", "iPlayer", "Sounds"], "/o/")
        + "</ul></div>"
        f'<nav class="ssrcss-nav"><ul>{_links(EN_NAV if story.lang == "en" else AR_NAV, "/news/")}</ul></nav>'
        f'<div id="main-content"><article><div data-component="headline-block"><h1 id="main-heading">'
        f"{html.escape(story.title)}</h1></div>"
        f'<div data-component="byline-block"><time datetime="{story.date}T12:00:00.000Z">{story.date}</time></div>'
        f'<div data-component="image-block"><figure><img src="/i.jpg"><figcaption>'
        f"{html.escape(other.headlines[3])}</figcaption></figure></div>{blocks}"
        f'<div data-component="links-block"><h2>More on this story</h2><ul>{_links(other.headlines[:4])}</ul></div>'
        f'<div data-component="topic-list"><h2>Related Topics</h2><ul>{_links(["Economy", "Europe"], "/t/")}</ul></div>'
        f"</article></div>"
        f'<div class="ssrcss-top-stories"><h2>Top Stories</h2><ul>{_links(other.headlines[4:10])}</ul></div>'
        f"<footer><p>Copyright © 2024 BBC. The BBC is not responsible for the content of external sites.</p></footer>"
        "</body></html>"
    )
    return page, story.paragraphs


def short_story_in_teasers(story: Story, other: Boilerplate) -> tuple[str, list[str]]:
    """Only the first two paragraphs, on a page full of teasers (headline and first sentence of other
    stories) above and below."""
    paragraphs = story.paragraphs[:2]
    teasers = [
        f'<div class="teaser"><h3><a href="/t/{n}">{html.escape(h)}</a></h3><p>{html.escape(t)}</p></div>'
        for n, (h, t) in enumerate(zip(other.headlines[10:22], other.teasers[10:22]))
    ]
    page = (
        _head(story, _og(story))
        + f'<body><div class="top"><ul>{_links(EN_NAV if story.lang == "en" else AR_NAV, "/s/")}</ul></div>'
        f'<div class="latest">{"".join(teasers[:6])}</div>'
        f'<div class="story"><h1>{html.escape(story.title)}</h1>{_paras(paragraphs)}</div>'
        f'<div class="latest">{"".join(teasers[6:])}</div>'
        "<div class='bottom'>Terms · Privacy · Cookies</div></body></html>"
    )
    return page, paragraphs


def explainer(story: Story, other: Boilerplate) -> tuple[str, list[str]]:
    """An explainer: subheadings (<h2>), a bulleted list and a block quote inside the body."""
    paragraphs = story.paragraphs
    half = len(paragraphs) // 2
    heading1, heading2 = ("What happened?", "What happens next?") if story.lang == "en" else ("ماذا حدث؟", "ماذا بعد؟")
    bullets = [p.split(".")[0][:140] for p in paragraphs[:3]]
    quote = paragraphs[-1]
    body_html = (
        f"<h2>{heading1}</h2>{_paras(paragraphs[:half])}<ul>{''.join(f'<li>{html.escape(b)}</li>' for b in bullets)}"
        f"</ul><h2>{heading2}</h2>{_paras(paragraphs[half:-1])}<blockquote><p>{html.escape(quote)}</p></blockquote>"
    )
    page = (
        _head(story, _og(story))
        + f'<body><nav class="menu">{" ".join(f"<a href=/{n}>{t}</a>" for n, t in enumerate(EN_NAV))}</nav>'
        f'<div class="container"><div class="post-content"><h1>{html.escape(story.title)}</h1>{body_html}</div>'
        f'<div class="related-posts"><h4>Related</h4><ul>{_links(other.headlines[:5])}</ul></div></div>'
        "<footer>Contact · Jobs</footer></body></html>"
    )
    body = [heading1, *paragraphs[:half], *bullets, heading2, *paragraphs[half:-1], quote]
    return page, body


def bare_br_page(story: Story, other: Boilerplate) -> tuple[str, list[str]]:
    """Hardly any markup: a heading and the body as text with <br> line breaks, a few links."""
    body = "<br>\n<br>\n".join(html.escape(p) for p in story.paragraphs)
    page = (
        f"<html><head><title>{html.escape(story.title)}</title>"
        f'<meta name="date" content="{story.date}"></head>'
        f'<body><a href="/">{html.escape(story.site)}</a> | <a href="/archive">Archive</a>'
        f"<h2>{html.escape(story.title)}</h2>\n{body}\n<hr><small>{html.escape(story.site)}</small></body></html>"
    )
    return page, story.paragraphs


def arabic_with_comments(story: Story, other: Boilerplate) -> tuple[str, list[str]]:
    """A Hespress/Youm7-like page: itemprop metadata, the body in #articleBody, readers' comments that
    together outweigh the article, related news."""
    comments = other.comments * 3
    page = (
        _head(
            story,
            f'<meta property="og:title" content="{html.escape(story.title)}">'
            f'<meta itemprop="datePublished" content="{story.date}T14:05:00+01:00">'
            f'<meta property="og:site_name" content="{html.escape(story.site)}">',
        )
        + f'<body><div class="header"><ul class="nav">{_links(AR_NAV, "/c/")}</ul></div>'
        f'<div class="container"><div class="post"><h1 class="post-title">{html.escape(story.title)}</h1>'
        f'<span class="date-post">{story.date}</span>'
        f'<div id="articleBody" itemprop="articleBody">{_paras(story.paragraphs)}</div>'
        f'<div class="post-tags">{" ".join(f"<a href=/t/{n}>{t}</a>" for n, t in enumerate(AR_NAV[1:5]))}</div></div>'
        f'<div class="related-news"><h3>أخبار ذات صلة</h3>{_links(other.headlines[:4])}</div>'
        '<div class="comments-block"><h3>تعليقات الزوار</h3><ul class="comment-items">'
        + "".join(
            f'<li class="comment-item"><div class="comment-user">زائر {n}</div><div class="comment-text">'
            f"{html.escape(c)}</div></li>"
            for n, c in enumerate(comments)
        )
        + "</ul></div></div><div class='footer'>جميع الحقوق محفوظة</div></body></html>"
    )
    return page, story.paragraphs


def arabic_br_body(story: Story, other: Boilerplate) -> tuple[str, list[str]]:
    """A Sky News Arabia-like page: the body as text in one <div> broken by <br>, "اقرأ أيضاً" links
    between paragraphs, a follow-us promotion and a video playlist of other stories below."""
    parts = []
    for n, paragraph in enumerate(story.paragraphs):
        parts.append(html.escape(paragraph))
        if n == 1:
            parts.append(f'<a class="inline-link" href="/r/1">اقرأ أيضاً: {html.escape(other.headlines[20])}</a>')
    playlist = "".join(
        f'<div class="video-item"><a href="/v/{n}"><span class="duration">02:{10 + n}</span>'
        f"<span class='video-title'>{html.escape(h)}</span></a><p>{html.escape(t)}</p></div>"
        for n, (h, t) in enumerate(zip(other.headlines[22:28], other.teasers[22:28]))
    )
    page = (
        _head(story, _og(story) + _json_ld(story, author=False))
        + f'<body><div class="main-header"><ul>{_links(AR_NAV, "/c/")}</ul></div>'
        f'<div class="article-page"><h1 class="article-title">{html.escape(story.title)}</h1>'
        f'<div class="article-info"><span class="article-source">{html.escape(story.site)}</span>'
        f' - <span class="article-date">{story.date}</span></div>'
        f'<div class="article-body">{"<br><br>".join(parts)}</div>'
        '<div class="follow-us"><p>تابعونا على فيسبوك وتويتر وإنستغرام للحصول على آخر الأخبار العاجلة '
        "والتغطيات الحية من جميع أنحاء العالم على مدار الساعة.</p></div>"
        f'<div class="videos-playlist"><h3>فيديوهات</h3>{playlist}</div></div>'
        '<div class="main-footer">© سكاي نيوز عربية 2024</div></body></html>'
    )
    return page, story.paragraphs


def boxes_inside_article(story: Story, other: Boilerplate) -> tuple[str, list[str]]:
    """Everything inside <article>: a related-stories box with teaser paragraphs after the third
    paragraph, a newsletter sign-up and an author biography after the body."""
    first, rest = _split(story.paragraphs, 3)
    related = "".join(
        f'<div class="card"><h4><a href="/r/{n}">{html.escape(h)}</a></h4><p>{html.escape(t)}</p></div>'
        for n, (h, t) in enumerate(zip(other.headlines[30:33], other.teasers[30:33]))
    )
    newsletter = (
        "Sign up for our daily newsletter to get the most important stories of the day delivered straight "
        "to your inbox every morning, free of charge."
        if story.lang == "en"
        else "اشترك في نشرتنا البريدية اليومية لتصلك أهم أخبار اليوم إلى بريدك الإلكتروني كل صباح مجانا."
    )
    bio = (
        "The author is a senior correspondent who has covered politics and the economy for more than fifteen "
        "years, reporting from over thirty countries."
        if story.lang == "en"
        else "الكاتب مراسل أول يغطي شؤون السياسة والاقتصاد منذ أكثر من خمسة عشر عاما من أكثر من ثلاثين بلدا."
    )
    page = (
        _head(story, _og(story))
        + f'<body><div class="navbar">{" ".join(f"<a href=/{n}>{t}</a>" for n, t in enumerate(EN_NAV))}</div>'
        f'<article class="story"><h1>{html.escape(story.title)}</h1>{_paras(first)}'
        f'<div class="related-stories"><h3>Related stories</h3>{related}</div>{_paras(rest)}'
        f'<div class="newsletter-signup"><p>{html.escape(newsletter)}</p><input name="email"></div>'
        f'<div class="author-bio"><p>{html.escape(bio)}</p></div></article>'
        "<div class='copyright'>© 2024</div></body></html>"
    )
    return page, story.paragraphs


TEMPLATES: dict[str, Callable[[Story, Boilerplate], tuple[str, list[str]]]] = {
    "semantic": semantic_article,
    "wire-divs": wire_div_soup,
    "ar-portal": arabic_portal,
    "ar-table": arabic_table_layout,
    "wordpress": wordpress_blog,
    "bbc-blocks": bbc_blocks,
    "short-in-teasers": short_story_in_teasers,
    "explainer": explainer,
    "bare-br": bare_br_page,
    "ar-comments": arabic_with_comments,
    "ar-br-body": arabic_br_body,
    "boxes-inside": boxes_inside_article,
}
ARABIC_TEMPLATES = (
    "semantic",
    "wire-divs",
    "ar-portal",
    "ar-table",
    "bbc-blocks",
    "short-in-teasers",
    "ar-comments",
    "ar-br-body",
    "boxes-inside",
)
ENGLISH_TEMPLATES = (
    "semantic",
    "wire-divs",
    "wordpress",
    "bbc-blocks",
    "short-in-teasers",
    "explainer",
    "bare-br",
    "boxes-inside",
)


# ---------------------------------------------------------------- the pages


def fixture_pages() -> list[Page]:
    """The HTML the tests use, with what the tests expect."""
    from tests.test_loaders import HTML

    english = [
        "Dock workers at the country's largest port walked out on Monday, halting grain exports for the second "
        "time this year.",
        "The union said the strike would continue until the government agreed to review wages, which have not "
        "risen since 2019 despite rising food and fuel prices.",
        "Traders warned that a long stoppage could push up wheat prices across the region.",
    ]
    arabic = [
        "ارتفعت أسعار القمح في الأسواق العالمية خلال الأسبوع الماضي بنسبة تجاوزت عشرة في المئة، وسط مخاوف من تراجع "
        "الإمدادات القادمة من منطقة البحر الأسود.",
        "وقال محللون إن موجة الجفاف التي ضربت عدداً من الدول المنتجة أدت إلى خفض توقعات المحاصيل.",
        "وتعد مصر من أكبر مستوردي القمح في العالم، وتعتمد على الواردات لتأمين الخبز المدعوم.",
    ]
    return [
        Page("fixture-english", ENGLISH.decode(), english, "Port strike halts grain exports", "2024-03-05",
             "Harbour Times", "Jane Doe", "http://127.0.0.1/en/port-strike"),
        Page("fixture-arabic", ARABIC.decode(), arabic, "ارتفاع أسعار القمح في الأسواق العالمية", "", "أخبار الخليج",
             "", "http://127.0.0.1/ar/wheat"),
        Page("fixture-story", story(1).decode(),
             ["Story 1 reports that the city council met on day 1. " * 3,
              "Residents asked questions about roads, schools and the new bus lines."],
             "Story number 1", "", "", "", "http://127.0.0.1/s1"),
        Page("fixture-no-text", NO_TEXT.decode(), [], "Menu", "", "", "", "http://127.0.0.1/menu"),
        Page("fixture-loaders", HTML,
             ["Delegates from both sides met in Geneva on Monday for the first time in months, officials said.",
              "They agreed to meet again next week to discuss a ceasefire and the exchange of prisoners."],
             "Talks resume in Geneva", "2019-11-14", "Example News", "Jane Doe"),
    ]  # fmt: skip


def template_pages() -> list[Page]:
    example, caption, byline = _example_story()
    arabic, ar_headlines, ar_teasers = _shared_stories("news-ar-5000.jsonl.gz", "ar", 6, skip=0)
    english, en_headlines, en_teasers = _shared_stories("news-en-bbc-500.jsonl.gz", "en", 6, skip=0)
    if not english:  # without ../shared: the fixtures' text, so that the script still runs
        print("(../shared/bench not found: the templates use the example article only)", file=sys.stderr)
    ar_headlines = ar_headlines or [f"عنوان خبر آخر رقم {n} عن الأحداث الجارية في المنطقة" for n in range(60)]
    en_headlines = en_headlines or [f"Another headline number {n} about events across the region" for n in range(60)]
    ar_other = Boilerplate(ar_headlines, ar_teasers or ar_headlines, ARABIC_COMMENTS)
    en_other = Boilerplate(en_headlines, en_teasers or en_headlines, ENGLISH_COMMENTS)
    pages = []
    page, body = arabic_portal(example, ar_other, caption, byline)
    pages.append(_page("ar-portal-example", page, body, example))
    for n, story_ in enumerate([example, *arabic]):
        for template in ARABIC_TEMPLATES:
            page, body = TEMPLATES[template](story_, ar_other)
            pages.append(_page(f"{template}-ar{n}", page, body, story_, template))
    for n, story_ in enumerate(english):
        story_.site = story_.site or "BBC News"
        for template in ENGLISH_TEMPLATES:
            page, body = TEMPLATES[template](story_, en_other)
            pages.append(_page(f"{template}-en{n}", page, body, story_, template))
    return pages


# What each template declares: a page whose template does not give a field has "" as its truth.
_DECLARES = {
    "semantic": {"title", "date", "site", "author"},
    "wire-divs": {"title", "date", "site", "author"},
    "ar-portal": {"title", "date", "site", "author"},
    "ar-table": {"title", "date"},
    "wordpress": {"title", "date", "author"},
    "bbc-blocks": {"title", "date", "site"},
    "short-in-teasers": {"title", "date", "site", "author"},
    "explainer": {"title", "date", "site", "author"},
    "bare-br": {"title", "date"},
    "ar-comments": {"title", "date", "site"},
    "ar-br-body": {"title", "date", "site", "author"},
    "boxes-inside": {"title", "date", "site", "author"},
}


def _page(name: str, page: str, body: list[str], story_: Story, template: str = "ar-portal") -> Page:
    declares = _DECLARES[template]
    return Page(
        name,
        page,
        body,
        story_.title,
        story_.date if "date" in declares else "",
        story_.site if "site" in declares else "",
        story_.author if "author" in declares else "",
        "https://news.example/article",
    )


# ---------------------------------------------------------------- extractors and scores


def with_web_pages(page: Page) -> Extraction:
    started = time.perf_counter()
    try:
        found = extract_page(page.html, page.url)
    except UnreadablePage as exc:
        return Extraction(error=str(exc), seconds=time.perf_counter() - started)
    return Extraction(
        found.text, found.title, found.published, found.site_name, found.author, time.perf_counter() - started
    )


def with_trafilatura(page: Page) -> Extraction | None:
    """What index/sources/formats.py did before issue 14 (the title line left out of the text)."""
    try:
        import trafilatura
    except ImportError:
        return None
    started = time.perf_counter()
    try:
        doc = trafilatura.bare_extraction(page.html, url=page.url or None, with_metadata=True, include_comments=False)
    except Exception as exc:
        return Extraction(error=f"{type(exc).__name__}: {exc}", seconds=time.perf_counter() - started)
    seconds = time.perf_counter() - started
    if doc is None:
        return Extraction(seconds=seconds)
    text = (doc.text or "").strip()
    title = (doc.title or "").strip()
    if title and text.split("\n", 1)[0].strip() == title:
        text = text[len(text.split("\n", 1)[0]) :].strip()
    return Extraction(text, title, doc.date or "", doc.sitename or "", doc.author or "", seconds)


_WORD = re.compile(r"\w+")


def word_scores(extracted: str, body: list[str]) -> tuple[float, float, float]:
    """Precision, recall and F1 of the extracted words against the body's (multisets, case folded)."""
    got = Counter(w.casefold() for w in _WORD.findall(extracted))
    want = Counter(w.casefold() for w in _WORD.findall(" ".join(body)))
    if not got and not want:
        return 1.0, 1.0, 1.0
    common = sum((got & want).values())
    precision = common / sum(got.values()) if got else 0.0
    recall = common / sum(want.values()) if want else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


def _plain(value: str) -> str:
    return " ".join(value.replace(".", " ").split()).casefold()


def _same_site(found: str, page: Page) -> bool:
    """As the project uses it: the site name, else the page's host name; case and dots aside."""
    host = urlsplit(page.url).hostname or ""
    return _plain(found or host) == _plain(page.site or host)


def _same_author(found: str, page: Page) -> bool:
    """One holds the other ("Ankara" for "Ankara - AFP"), case aside; none found for none given."""
    found, given = _plain(found), _plain(page.author)
    return found == given or bool(found and given and (found in given or given in found))


def score(pages: list[Page], extract: Callable[[Page], Extraction | None]) -> dict | None:
    rows = []
    for page in pages:
        found = extract(page)
        if found is None:
            return None
        precision, recall, f1 = word_scores(found.text, page.body)
        rows.append(
            {
                "page": page.name,
                "precision": round(precision, 3),
                "recall": round(recall, 3),
                "f1": round(f1, 3),
                "title": _same(found.title, page.title),
                "date": found.date == page.date,
                "site": _same_site(found.site, page),
                "author": _same_author(found.author, page),
                "ms": round(found.seconds * 1000, 1),
                "error": found.error,
                "found": {"title": found.title, "date": found.date, "site": found.site, "author": found.author},
            }
        )
    n = len(rows)
    summary = {key: round(sum(r[key] for r in rows) / n, 3) for key in ("precision", "recall", "f1")}
    summary.update({key: f"{sum(r[key] for r in rows)}/{n}" for key in ("title", "date", "site", "author")})
    summary["pages F1 < 0.8"] = sum(r["f1"] < 0.8 for r in rows)
    summary["ms per page"] = round(sum(r["ms"] for r in rows) / n, 1)
    return {"summary": summary, "pages": rows}


def groups(pages: list[Page]) -> dict[str, list[Page]]:
    out: dict[str, list[Page]] = {"all": pages}
    out["Arabic"] = [p for p in pages if re.search(r"-ar\d|arabic|ar-", p.name)]
    out["English"] = [p for p in pages if p not in out["Arabic"]]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help=f"record the results in {RESULTS.relative_to(PROJECT)}")
    parser.add_argument("--show", metavar="NAME", help="print both extractions of the pages whose name has NAME")
    args = parser.parse_args()
    pages = fixture_pages() + template_pages()
    if args.show:
        for page in (p for p in pages if args.show in p.name):
            for label, extract in (("trafilatura", with_trafilatura), ("web_pages", with_web_pages)):
                found = extract(page)
                if found is not None:
                    print(f"== {page.name} / {label}: {word_scores(found.text, page.body)}")
                    print(f"   title={found.title!r} date={found.date!r} site={found.site!r} author={found.author!r}")
                    print(found.text, "\n")
        return
    results: dict[str, object] = {"pages": len(pages)}
    for label, extract in (("trafilatura", with_trafilatura), ("web_pages", with_web_pages)):
        scored = score(pages, extract)
        if scored is None:
            print(f"{label}: not installed, skipped")
            continue
        results[label] = scored
        print(f"{label}:")
        for group, members in groups(pages).items():
            part = score(members, extract)
            assert part is not None
            print(f"  {group:8} ({len(members):3} pages) {part['summary']}")
    if "trafilatura" in results and "web_pages" in results:
        print("pages where the two differ by 0.05 F1 or more:")
        for old, new in zip(results["trafilatura"]["pages"], results["web_pages"]["pages"]):  # type: ignore[index]
            if abs(old["f1"] - new["f1"]) >= 0.05:
                print(f"  {old['page']:28} trafilatura {old['f1']:.3f}  web_pages {new['f1']:.3f}")
    if args.write:
        RESULTS.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"written to {RESULTS.relative_to(PROJECT)}")


if __name__ == "__main__":
    main()
