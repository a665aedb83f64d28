"""A build holds its articles' texts outside Python's memory (issue 16): files load into a spool file
(``storage/article_spool.py``), the build plans light references that read a text when it is needed, and the
generation it writes is the one a build from a list of articles writes, byte for byte."""

from __future__ import annotations

import json

import pytest

from index.builder import _plan
from index.records import Article, BuildReport, Changes
from index.sources.loaders import load_articles
from index.storage import generations
from index.storage.article_spool import ArticleRef, ArticleSpool, Shelf
from tests.conftest import generation_files

ODD = [
    Article("a-1", "Port strike", "Dock workers stopped.\nGrain waits.", "Wire", "https://x.test/1", "2021-03-04"),
    Article("a-2", "", "", origin="file.jsonl:2"),
    Article("a-3", "ميناء", "توقف العمال عن العمل. \ud800 ÿ \x00 end", author="كاتب", origin="f.md"),
]


def test_a_spool_gives_back_every_article_as_appended():
    spool = ArticleSpool()
    spool.extend(ODD)
    assert len(spool) == 3 and list(spool) == ODD and spool[-1] == ODD[2] and spool[1] == ODD[1]
    assert list(spool[1:]) == ODD[1:] and list(spool.subset([2, 0, 2])) == [ODD[2], ODD[0], ODD[2]]
    with pytest.raises(IndexError):
        spool[3]
    part = spool[:1]
    part.append(ODD[1])  # appended after the shared file's records: the spool it came from is unchanged
    assert list(part) == [ODD[0], ODD[1]] and list(spool) == ODD
    spool.close()


def test_a_reference_holds_no_text_and_reads_the_whole_article_when_asked():
    spool = ArticleSpool()
    spool.extend(ODD)
    reads = []
    shelf = Shelf(lambda position: reads.append(position) or spool[position])
    ref = ArticleRef(ODD[0], shelf, 0)
    assert set(vars(ref)) == {"id", "title", "source", "published", "_shelf", "_key"}
    assert (ref.text, ref.url, ref.author, ref.origin) == (ODD[0].text, ODD[0].url, "", "")
    assert ref.content_hash == ODD[0].content_hash and reads == [0]  # the last article read is kept
    assert ArticleRef(ODD[1], shelf, 1).text == "" and reads == [0, 1]


def test_a_plan_keeps_references_not_texts():
    spool = ArticleSpool()
    spool.extend([ODD[0], ODD[1], Article("a-1", "Port strike", "A later copy of a-1.")])
    final, fresh, _ = _plan(Changes(spool), None, BuildReport())
    assert [article.id for article in final] == ["a-1", "a-2"] and fresh == final
    assert all(isinstance(article, ArticleRef) and "text" not in vars(article) for article in final)
    assert [article.text for article in final] == ["A later copy of a-1.", ""]  # the last of an id, as before


def _write(path, records):
    path.write_text("".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records), encoding="utf-8")


def _records(count, start=0, variant=""):
    words = ["oil", "port", "ship", "grain", "wheat", "harbour", "minister", "rain", "river", "bank", "market"]
    return [
        {
            "id": f"n-{number:03d}",
            "title": f"Story {number} {words[number % len(words)]}{variant}",
            "text": " ".join(
                f"{words[(number * 7 + i) % len(words)].capitalize()} {words[(number + i) % len(words)]} rose."
                for i in range(4 + number % 9)
            )
            + variant,
            "source": ("Wire", "Herald")[number % 2],
            "published": f"2021-0{1 + number % 9}-1{number % 10}",
        }
        for number in range(start, start + count)
    ]


def _updates(hashing_engine, folder, tmp_path, from_files: bool) -> list[dict[str, bytes]]:
    """Build from a file, rebuild with some of its articles changed, add another file: each generation's files.
    ``from_files``: as the CLI does (the collector spools the files); else the articles loaded into lists."""
    engine = hashing_engine(index_dir=folder, chunk_tokens=40, chunk_overlap_tokens=10)
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    _write(second, _records(4, start=40))

    def update(path, replace_all):
        if from_files:
            engine.update([path], replace_all=replace_all)
        else:  # the same articles in the same order: the changed ones, then the carried ones in index order
            engine.apply(Changes(load_articles([path]).articles, replace_all=replace_all))
        return _files(engine)

    _write(first, _records(25))
    seen = [update(first, True)]
    _write(first, _records(5, variant=" again") + _records(20, start=5))
    seen.append(update(first, True))  # from files: 5 changed, 20 carried from the index (spooled after them)
    seen.append(update(second, False))
    return seen


def _files(engine) -> dict[str, bytes]:
    return generation_files(generations.current_generation(engine.index_dir))


def test_builds_from_a_spool_write_the_files_of_builds_from_lists(hashing_engine, tmp_path):
    spooled = _updates(hashing_engine, tmp_path / "spooled", tmp_path, from_files=True)
    listed = _updates(hashing_engine, tmp_path / "listed", tmp_path, from_files=False)
    assert len(spooled[0]) > 10 and [len(files) for files in spooled] == [len(files) for files in listed]
    for built, expected in zip(spooled, listed, strict=True):
        assert {name for name in expected if built.get(name) != expected[name]} == set()


def test_the_collector_hands_a_build_a_spool_of_what_the_files_hold(hashing_engine, tmp_path):
    path = tmp_path / "news.jsonl"
    _write(path, _records(6))
    engine = hashing_engine(index_dir=tmp_path / "index")
    collected = engine.collector.collect([str(path)])
    assert isinstance(collected.articles, ArticleSpool)
    assert list(collected.articles) == load_articles([path]).articles


def test_a_spool_that_cannot_be_written_is_a_build_error_naming_the_full_disk(monkeypatch, tmp_path):
    import errno
    import os

    import index.storage.article_spool as article_spool
    from index.errors import BuildError

    spool = ArticleSpool(tmp_path)
    spool.append(ODD[0])

    def full(*args):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(article_spool.os, "pwrite", full)
    with pytest.raises(BuildError, match=f"The disk holding {tmp_path} is full"):
        spool.append(ODD[1])
    monkeypatch.undo()
    spool.append(ODD[2])  # the failed record takes no place
    assert list(spool) == [ODD[0], ODD[2]]
