"""An update plans with the previous articles read in bulk (issue 16: an add of 100 articles to 1M chunks read
every stored article's hash, story, signature and chunk rows with ~2.9 million small queries): the plan, the
stories and the rows are the ones the per-article reads gave, kept here as the reference (the builder's code
before the bulk reads), on stores a build writes, with an article without chunks, and with chunks out of order."""

from __future__ import annotations

import random
from dataclasses import fields

import numpy as np
import pytest

from index.builder import _plan
from index.carry_over import KeptChunks, group_stories
from index.records import Article, BuildReport, Changes, Chunk, LoadProblem
from index.storage.article_store import ArticleStore
from index.text.near_duplicates import PERMUTATIONS, DuplicateFinder, signature

WORDS = ["oil", "port", "ship", "harbour", "army", "council", "vote", "court", "judge", "minister", "bank", "wheat"]
FIELDS = [field.name for field in fields(Article)]


def _text(chooser: random.Random) -> str:
    return " ".join(" ".join(chooser.choices(WORDS, k=12)).capitalize() + "." for _ in range(6))


def _copy(article: Article, new_id: str) -> Article:
    """A republished copy: the same story with its last word changed (grouped with it)."""
    return Article(new_id, article.title, article.text[:-6] + " port.", "Copy Wire", f"https://copy.test/{new_id}")


def _articles(count: int, seed: int) -> list[Article]:
    chooser = random.Random(seed)
    articles = [
        Article(
            f"n-{seed}-{number}",
            f"Story {number}",
            _text(chooser),
            ("Wire", "Herald")[number % 2],
            f"https://x.test/{seed}/{number}",
            f"2021-0{1 + number % 9}-1{number % 10}",
            "",
            f"f{number}.txt",
        )
        for number in range(count)
    ]
    return articles + [_copy(articles[number], f"copy-{seed}-{number}") for number in range(0, count, 4)]


def _chunks(article: Article) -> list[Chunk]:
    """Made-up spans: 1 to 4 chunks an article, none for an empty text."""
    count = 1 + len(article.text) % 4 if article.text else 0
    return [
        Chunk(article.id, ordinal, ordinal, ordinal + 5, article.text[ordinal : ordinal + 5])
        for ordinal in range(count)
    ]


def _store(path, articles: list[Article], kind: str) -> ArticleStore:
    """A store as a build writes it (chunks at consecutive rows in article order, stories from the finder), or, for
    ``kind`` "moved", with its rows in reverse (no build writes that: the store is read the general way)."""
    store = ArticleStore.create(path)
    signatures = np.stack([signature(article.text) for article in articles]).astype(np.uint32)
    stories = DuplicateFinder().stories_of([article.id for article in articles], signatures)
    row = 0
    for article, story, sig in zip(articles, stories, signatures):
        chunks = _chunks(article)
        store.add_article(
            article, [(row + i, chunk) for i, chunk in enumerate(chunks)], story, sig.astype("<u8").tobytes()
        )
        row += len(chunks)
    if kind == "moved":  # every row in reverse: articles and their chunks in the opposite order
        store.move_chunks(range(row), [row - 1 - old for old in range(row)])
    store.commit()
    return store


def _per_article(changes: Changes, store: ArticleStore, fresh_sizes: dict[str, int]):
    """The plan, stories and rows as the builder made them before (commit ee0ce6d): an article's fields, hash and
    chunk rows looked up one by one; the stories of an add from grouping every article again."""
    report = BuildReport()
    old_hashes = store.content_hashes()
    incoming: dict[str, int] = {}
    for position, article in enumerate(changes.articles):
        incoming[article.id] = position
    removed = set(changes.remove_ids)
    final: list[Article] = []
    fresh: list[Article] = []
    if not changes.replace_all:
        for article in store.articles():
            if article.id in removed:
                report.removed += 1
            elif article.id not in incoming:
                final.append(article)
    else:
        report.removed += sum(1 for old_id in old_hashes if old_id not in incoming or old_id in removed)
    for article_id, position in incoming.items():
        if article_id in removed:
            continue
        article = changes.articles[position]
        old_hash = old_hashes.get(article_id)
        if old_hash == article.content_hash:
            report.unchanged += 1
            final.append(store.article(article_id))
            continue
        report.added += old_hash is None
        report.changed += old_hash is not None
        final.append(article)
        fresh.append(article)
    report.problems += [
        LoadProblem(i, "no article with this id is in the index") for i in sorted(removed - set(old_hashes))
    ]
    fresh_ids = {article.id for article in fresh}
    old_ids, kept = store.signature_rows()
    row_of = {article_id: row for row, article_id in enumerate(old_ids)}
    signatures = np.empty((len(final), PERMUTATIONS), dtype=np.uint32)
    for position, article in enumerate(final):
        row = -1 if article.id in fresh_ids else row_of.get(article.id, -1)
        signatures[position] = kept[row] if row >= 0 else signature(article.text)
    ids = [article.id for article in final]
    stories = dict(zip(ids, DuplicateFinder().stories_of(ids, signatures)))
    rows = store.chunk_rows()
    sizes = [fresh_sizes[a.id] if a.id in fresh_ids else len(rows.get(a.id, [])) for a in final]
    old_row_of = [
        row for a, size in zip(final, sizes) for row in ([-1] * size if a.id in fresh_ids else rows.get(a.id, []))
    ]
    return final, fresh, report, stories, signatures, sizes, old_row_of


def _bulk(changes: Changes, store: ArticleStore, fresh_sizes: dict[str, int]):
    report = BuildReport()
    kept = KeptChunks(store)
    final, fresh, old_positions = _plan(changes, kept, report)
    stories, signatures = group_stories(final, old_positions, kept)
    sizes, old_row_of = kept.rows(old_positions, [fresh_sizes[article.id] for article in fresh])
    return final, fresh, report, stories, signatures, sizes, old_row_of.tolist()


def _scenarios(stored: list[Article]) -> dict[str, Changes]:
    new = _articles(6, seed=9)
    changed = Article(stored[3].id, "Changed", stored[3].text + " Wheat rose.", "Wire")
    story_first = stored[0].id  # the first of a story: its copy's story changes
    shuffled = random.Random(5).sample(stored, len(stored))
    return {
        "add": Changes([*new, _copy(stored[2], "copy-of-a-stored-one")]),
        "removals and a change": Changes(
            [changed, new[0], stored[5], _copy(stored[4], "late-copy")], remove_ids=[story_first, stored[7].id, "nope"]
        ),
        "reordered refresh": Changes(
            [*shuffled[2:], changed, new[1], _copy(new[1], "twice"), Article("twice", "Last of an id", "Text.")],
            remove_ids=[stored[9].id],
            replace_all=True,
        ),
        "removals only": Changes([], remove_ids=[stored[1].id, stored[-1].id]),
        # the articles before the first removed one keep their stories, the others are grouped again: the copy of
        # the removed story's first article (after it) begins a story of its own
        "a removal after a kept prefix": Changes([], remove_ids=[stored[8].id]),
    }


@pytest.mark.parametrize("kind", ["built", "with an empty article", "moved"])
@pytest.mark.parametrize(
    "scenario", ["add", "removals and a change", "reordered refresh", "removals only", "a removal after a kept prefix"]
)
def test_bulk_reads_plan_as_the_per_article_reads(tmp_path, kind, scenario):
    stored = _articles(24, seed=1)
    if kind == "with an empty article":
        stored.insert(10, Article("empty", "No text", ""))
    store = _store(tmp_path / "store.sqlite", stored, kind)
    assert (KeptChunks(store).articles.chunk_rows is None) == (kind != "moved")  # the fast reading, or the general
    changes = _scenarios(stored)[scenario]
    fresh_sizes = {article.id: 1 + len(article.text) % 3 for article in changes.articles}
    expected, got = _per_article(changes, store, fresh_sizes), _bulk(changes, store, fresh_sizes)
    (final, fresh, report, stories, signatures, sizes, old_row_of) = got
    assert [[getattr(a, name) for name in FIELDS] for a in final] == [
        [getattr(a, name) for name in FIELDS] for a in expected[0]
    ]
    assert [a.id for a in fresh] == [a.id for a in expected[1]] and report == expected[2]
    assert stories == expected[3] and np.array_equal(signatures, expected[4])
    assert sizes == expected[5] and old_row_of == expected[6]
    assert len(set(stories.values())) < len(stories)  # copies were grouped: the stories were compared
    store.close()
