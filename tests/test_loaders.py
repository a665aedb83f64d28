"""Loading articles from files and folders, and reporting what could not be loaded."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path

import pytest

from index.records import Article
from index.sources.loaders import LoadResult, load_articles

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "articles" / "aljazeera-haftar-2019-11.txt"

TXT_EN = (
    "Talks resume in Geneva\n\nBy A. Reporter\n\nDelegates met on Monday.\n\n"
    "They agreed to meet again.\n\nSource: Reuters\n"
)

HTML = """<html><head><title>Ignored title</title>
<meta property="og:title" content="Talks resume in Geneva">
<meta property="og:site_name" content="Example News">
<meta name="author" content="Jane Doe">
<meta property="article:published_time" content="2019-11-14T10:00:00Z">
<link rel="canonical" href="https://example.com/news/talks"></head>
<body><nav>Home | World | Sport</nav><article><h1>Talks resume in Geneva</h1>
<p>Delegates from both sides met in Geneva on Monday for the first time in months, officials said.</p>
<p>They agreed to meet again next week to discuss a ceasefire and the exchange of prisoners.</p>
</article><footer>Copyright Example News</footer></body></html>"""


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    return path


def jsonl(*records: dict | str) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in records)


def only_article(result: LoadResult) -> Article:
    assert result.problems == []
    assert len(result.articles) == 1
    return result.articles[0]


# Plain text ---------------------------------------------------------------------------


def test_example_article_title_outlet_and_text() -> None:
    article = only_article(load_articles([EXAMPLE]))
    assert article.id == "aljazeera-haftar-2019-11"
    assert article.title == "روسيا كلمة السر.. لماذا تحركت واشنطن الآن لوقف مغامرة حفتر في طرابلس؟"
    assert article.source == "الجزيرة"
    assert "المصدر : الجزيرة" not in article.text
    assert article.text.startswith("Haftar’s forces target a home in Libya")
    assert article.text.endswith('وهو الآن يرقص على الجليد".')
    assert "محمد المنشاوي–واشنطن" in article.text
    assert article.origin == str(EXAMPLE)
    assert article.published == ""


def test_example_article_text_is_the_file_between_title_and_source_line() -> None:
    raw = EXAMPLE.read_text(encoding="utf-8")
    article = only_article(load_articles([EXAMPLE]))
    assert article.text in raw  # byte for byte, blank lines and no-break spaces included
    assert "\xa0" in article.text


def test_plain_text_in_english_with_crlf_newlines(tmp_path: Path) -> None:
    path = write(tmp_path / "geneva.txt", TXT_EN.replace("\n", "\r\n"))
    article = only_article(load_articles([path]))
    assert (article.id, article.title, article.source) == ("geneva", "Talks resume in Geneva", "Reuters")
    assert article.text == "By A. Reporter\n\nDelegates met on Monday.\n\nThey agreed to meet again."


def test_plain_text_without_source_line_keeps_its_last_line(tmp_path: Path) -> None:
    path = write(tmp_path / "a.txt", "\n\n  Title line  \nBody one.\nLast line.\n\n")
    article = only_article(load_articles([path]))
    assert (article.title, article.text, article.source) == ("Title line", "Body one.\nLast line.", "")


def test_plain_text_with_only_a_title_is_a_problem(tmp_path: Path) -> None:
    path = write(tmp_path / "a.txt", "Just a title\n\n")
    result = load_articles([path])
    assert result.articles == []
    assert [p.origin for p in result.problems] == [str(path)]
    assert "no article text" in result.problems[0].reason


def test_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = write(tmp_path / "bom.txt", "\ufeffعنوان\nنص المقال.\n".encode("utf-8"))
    article = only_article(load_articles([path]))
    assert (article.title, article.text) == ("عنوان", "نص المقال.")


# Markdown -----------------------------------------------------------------------------


def test_markdown_heading_is_the_title_and_leaves_the_text(tmp_path: Path) -> None:
    path = write(tmp_path / "note.md", "# Talks resume\n\nDelegates met on **Monday**.\n\n- one\n- two\n")
    article = only_article(load_articles([path]))
    assert (article.id, article.title) == ("note", "Talks resume")
    assert article.text == "Delegates met on **Monday**.\n\n- one\n- two"


def test_markdown_front_matter(tmp_path: Path) -> None:
    text = (
        '---\ntitle: "محادثات جنيف"\nsource: BBC Arabic\nurl: https://example.com/a\n'
        "published: 14 November 2019\nauthor: Jane Doe\n---\n# محادثات جنيف\n\nالتقى الوفدان.\n"
    )
    article = only_article(load_articles([write(tmp_path / "a.markdown", text)]))
    assert article.title == "محادثات جنيف"
    assert (article.source, article.url, article.published, article.author) == (
        "BBC Arabic",
        "https://example.com/a",
        "2019-11-14",
        "Jane Doe",
    )
    assert article.text == "التقى الوفدان."


def test_markdown_without_title_uses_its_first_line(tmp_path: Path) -> None:
    path = write(tmp_path / "a.md", "Delegates met.\n\n```\n# not a heading\n```\n")
    article = only_article(load_articles([path]))
    assert article.title == "Delegates met."
    assert "# not a heading" in article.text


# HTML ---------------------------------------------------------------------------------


def test_html_main_text_and_metadata(tmp_path: Path) -> None:
    article = only_article(load_articles([write(tmp_path / "talks.html", HTML)]))
    assert article.id == "talks"
    assert article.title == "Talks resume in Geneva"
    assert article.source == "Example News"
    assert article.author == "Jane Doe"
    assert article.url == "https://example.com/news/talks"
    assert article.published == "2019-11-14"
    assert article.text.startswith("Delegates from both sides met in Geneva")
    assert "prisoners" in article.text
    assert "Home | World" not in article.text and "Copyright" not in article.text


def test_html_without_text_is_a_problem(tmp_path: Path) -> None:
    html = "<html><head><title>Nothing</title></head><body><script>var a = 1;</script></body></html>"
    path = write(tmp_path / "empty.htm", html)
    result = load_articles([path])
    assert result.articles == []
    assert result.problems[0].origin == str(path)


# JSON Lines ---------------------------------------------------------------------------

RECORD = {
    "id": "BB-1",
    "url": "http://www.bbc.co.uk/arabic/middleeast-1",
    "source": "BBC",
    "title": "القبض على هشام عشماوي",
    "published": "Mon, 08 Oct 2018 13:40:35 GMT",
    "author": "",
    "text": "ألقت القوات القبض على عشماوي.\nوقال المسماري إن العملية تمت في درنة.",
}


def test_jsonl_record(tmp_path: Path) -> None:
    path = write(tmp_path / "news.jsonl", jsonl(RECORD))
    article = only_article(load_articles([path]))
    assert article == Article(
        id="BB-1",
        title="القبض على هشام عشماوي",
        text=RECORD["text"],
        source="BBC",
        url="http://www.bbc.co.uk/arabic/middleeast-1",
        published="2018-10-08T13:40:35+00:00",
        author="",
        origin=f"{path}:1",
    )


def test_jsonl_gz_and_missing_title(tmp_path: Path) -> None:
    long_line = " ".join(["word"] * 60)
    records = [{"id": 7, "text": "Short first line.\nMore text."}, {"id": "8", "text": long_line}]
    path = write(tmp_path / "news.jsonl.gz", gzip.compress(jsonl(*records).encode("utf-8")))
    result = load_articles([path])
    assert result.problems == []
    first, second = result.articles
    assert (first.id, first.title, first.origin) == ("7", "Short first line.", f"{path}:1")
    assert second.title.endswith("…") and len(second.title) <= 121
    assert long_line.startswith(second.title[:-1])
    assert second.title[:-1].endswith("word")


def test_broken_lines_are_problems_and_good_lines_still_load(tmp_path: Path) -> None:
    good = [dict(RECORD, id=f"ok-{n}") for n in range(3)]
    lines = jsonl(
        good[0],
        '{"id": "broken", "text": "unterminated',
        good[1],
        {"id": "no-text"},
        {"text": "no id"},
        {"id": "blank", "text": "  \n "},
        '["a list"]',
        good[2],
    )
    path = write(tmp_path / "mixed.jsonl", lines.replace("\n", "\n\n", 1))  # a blank line is skipped
    result = load_articles([path])
    assert [a.id for a in result.articles] == ["ok-0", "ok-1", "ok-2"]
    assert [a.origin for a in result.articles] == [f"{path}:1", f"{path}:4", f"{path}:9"]
    reasons = {p.origin: p.reason for p in result.problems}
    assert set(reasons) == {f"{path}:{n}" for n in (3, 5, 6, 7, 8)}
    assert "not valid JSON" in reasons[f"{path}:3"]
    assert "'text'" in reasons[f"{path}:5"]
    assert "'id'" in reasons[f"{path}:6"]
    assert "empty" in reasons[f"{path}:7"]
    assert "list" in reasons[f"{path}:8"]


def test_jsonl_line_with_bad_bytes_names_line_byte_and_offset(tmp_path: Path) -> None:
    first = jsonl(dict(RECORD, id="a")).encode("utf-8")
    bad = b'{"id": "b", "text": "caf\xe9"}\n'
    path = write(tmp_path / "bytes.jsonl", first + bad + jsonl(dict(RECORD, id="c")).encode("utf-8"))
    result = load_articles([path])
    assert [a.id for a in result.articles] == ["a", "c"]
    (problem,) = result.problems
    assert problem.origin == f"{path}:2"
    offset = len(first) + bad.index(b"\xe9")
    assert f"byte 0xe9 at offset {offset}" in problem.reason


def test_corrupt_gzip_is_one_problem(tmp_path: Path) -> None:
    data = bytearray(gzip.compress(jsonl(RECORD).encode("utf-8")))
    data[len(data) // 2] ^= 0xFF
    corrupt = write(tmp_path / "corrupt.jsonl.gz", bytes(data))
    not_gzip = write(tmp_path / "plain.jsonl.gz", jsonl(RECORD))
    result = load_articles([corrupt, not_gzip, EXAMPLE])
    assert [a.id for a in result.articles] == ["aljazeera-haftar-2019-11"]
    assert [p.origin for p in result.problems] == [str(corrupt), str(not_gzip)]
    assert all("gzip" in p.reason for p in result.problems)


@pytest.mark.parametrize(
    ("published", "expected"),
    [
        ("Mon, 08 Oct 2018 13:40:35 GMT", "2018-10-08T13:40:35+00:00"),
        ("Thu, 11 Oct 2018 15:33:04 +0000", "2018-10-11T15:33:04+00:00"),
        ("2019-11-14", "2019-11-14"),
        ("2019-11-14T10:05:00Z", "2019-11-14T10:05:00+00:00"),
        ("2019-11-14 10:05", "2019-11-14T10:05:00"),
        ("2019/11/14", "2019-11-14"),
        ("14 November 2019", "2019-11-14"),
        ("Nov 14, 2019", "2019-11-14"),
        ("14 نوفمبر 2019", "2019-11-14"),
        ("١٤ تشرين الثاني ٢٠١٩", "2019-11-14"),
        ("last Tuesday", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_published_dates_become_iso(tmp_path: Path, published: str | None, expected: str) -> None:
    path = write(tmp_path / "d.jsonl", jsonl({"id": "d", "text": "Text.", "published": published}))
    assert only_article(load_articles([path])).published == expected


def test_five_thousand_articles_load_quickly(tmp_path: Path) -> None:
    text = " ".join(f"كلمة{n} word{n}." for n in range(120))
    records = (
        json.dumps({"id": f"a{n}", "title": f"t{n}", "text": f"{n} {text}"}, ensure_ascii=False) for n in range(5000)
    )
    path = write(tmp_path / "big.jsonl.gz", gzip.compress("\n".join(records).encode("utf-8")))
    started = time.perf_counter()
    result = load_articles([path])
    assert time.perf_counter() - started < 5
    assert len(result.articles) == 5000 and result.problems == []


# Files and folders --------------------------------------------------------------------


def test_folder_is_walked_sorted_with_relative_ids(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    write(root / "b.md", "# B\n\nBody b.\n")
    write(root / "2019" / "haftar.txt", "Haftar\nBody.\n")
    write(root / "2019" / "deeper" / "c.htm", HTML)
    write(root / "a.jsonl", jsonl({"id": "j1", "text": "Line one."}))
    write(root / ".hidden.txt", "Hidden\nBody.\n")
    write(root / ".git" / "x.txt", "Hidden\nBody.\n")
    write(root / "README.md", "# About this folder\n\nNot an article.\n")
    write(root / "notes.docx", b"\x00\x01")
    write(root / "image.png", b"\x89PNG")
    result = load_articles([str(root)])
    assert result.problems == []
    assert [a.id for a in result.articles] == ["2019/deeper/c", "2019/haftar", "j1", "b"]
    assert result.articles[1].origin == str(root / "2019" / "haftar.txt")


def test_empty_folder_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = load_articles([tmp_path / "empty"])
    assert result.articles == [] and result.problems[0].origin == str(tmp_path / "empty")


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"", "is empty"),
        ("blank.md", "  \n\xa0\n".encode(), "is empty"),
        ("empty.jsonl", b"\n\n", "is empty"),
        (
            "latin1.txt",
            "Titre\nCafé crème.\n".encode("latin-1"),
            "is not UTF-8 text (byte 0xe9 at offset 9); save it as UTF-8",
        ),
        ("cp1256.html", "<p>مرحبا</p>".encode("cp1256"), "is not UTF-8 text (byte 0xe3 at offset 3); save it as UTF-8"),
        ("notes.docx", b"PK\x03\x04", "unsupported extension"),
    ],
)
def test_bad_files_are_problems(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    path = write(tmp_path / name, content)
    result = load_articles([path, EXAMPLE])
    assert [a.id for a in result.articles] == ["aljazeera-haftar-2019-11"]
    (problem,) = result.problems
    assert problem.origin == str(path)
    assert reason in problem.reason
    assert str(problem).startswith(f"skipped {path}: ")


def test_missing_path_is_a_problem(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.txt"
    result = load_articles([missing, EXAMPLE])
    assert len(result.articles) == 1
    assert [(p.origin, p.reason) for p in result.problems] == [(str(missing), "does not exist; check the path")]


def test_unreadable_file_in_a_folder_is_a_problem(tmp_path: Path) -> None:
    write(tmp_path / "good.txt", "Title\nBody.\n")
    (tmp_path / "dangling.txt").symlink_to(tmp_path / "gone.txt")
    result = load_articles([tmp_path])
    assert [a.id for a in result.articles] == ["good"]
    assert result.problems[0].origin == str(tmp_path / "dangling.txt")
    assert "could not be read" in result.problems[0].reason


def test_duplicate_ids_are_reported_not_dropped_silently(tmp_path: Path) -> None:
    first = write(tmp_path / "one" / "same.txt", "First\nBody one.\n")
    second = write(tmp_path / "two" / "same.txt", "Second\nBody two.\n")
    lines = write(tmp_path / "lines.jsonl", jsonl({"id": "x", "text": "A."}, {"id": "x", "text": "B."}))
    result = load_articles([first, second, lines])
    assert [(a.id, a.title) for a in result.articles] == [("same", "First"), ("x", "A.")]
    assert [(p.origin, p.reason) for p in result.problems] == [
        (str(second), f"duplicate id 'same', first seen in {first}; give each article its own id"),
        (f"{lines}:2", f"duplicate id 'x', first seen in {lines}:1; give each article its own id"),
    ]


def test_the_same_file_named_twice_loads_once(tmp_path: Path) -> None:
    path = write(tmp_path / "a.txt", "Title\nBody.\n")
    result = load_articles([path, tmp_path, str(path)])
    assert [a.id for a in result.articles] == ["a"] and result.problems == []
