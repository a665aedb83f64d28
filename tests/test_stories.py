"""Republished wire stories are grouped at indexing time; different stories stay apart."""

from index import Article
from index.storage import generations
from index.storage.article_store import ArticleStore
from tests.test_duplicates import ENGLISH, REPUBLISHED, SAME_EVENT_OTHER_STORY, WIRE


def _stories(engine) -> dict[str, str]:
    store = ArticleStore(generations.current_generation(engine.index_dir) / generations.STORE)
    try:
        return store.story_of(article.id for article in store.articles())
    finally:
        store.close()


def test_copies_share_a_story_and_other_stories_do_not(hashing_engine):
    engine = hashing_engine()
    engine.add_articles(
        [
            Article("wire", "اشتباكات جنوب طرابلس", WIRE, source="Reuters", published="2019-11-14"),
            Article("other", "ليلة دامية في طرابلس", SAME_EVENT_OTHER_STORY, source="BBC", published="2019-11-14"),
            Article("english", "Clashes south of Tripoli", ENGLISH, source="AP", published="2019-11-14"),
        ]
    )
    engine.add_articles(
        [Article("copy", "طرابلس: القوات تتقدم", REPUBLISHED, source="Sky News", published="2019-11-15")]
    )
    assert _stories(engine) == {"wire": "wire", "other": "other", "english": "english", "copy": "wire"}


def test_story_survives_incremental_updates_and_removal_of_others(hashing_engine):
    engine = hashing_engine()
    engine.add_articles(
        [Article("wire", "t", WIRE, source="Reuters"), Article("copy", "t2", REPUBLISHED, source="Sky")]
    )
    engine.add_articles([Article("english", "t3", ENGLISH, source="AP")])
    assert _stories(engine)["copy"] == "wire"
    engine.remove(["wire"])
    assert _stories(engine) == {"copy": "copy", "english": "english"}


def test_an_index_of_the_previous_format_is_refused_then_upgraded_without_reembedding(hashing_engine, news_folder):
    import json
    import sqlite3

    import pytest

    from index import HashingEmbedder, IndexMismatchError

    embedder = HashingEmbedder()
    engine = hashing_engine(embedder=embedder)
    engine.update([news_folder], replace_all=True)
    generation = generations.current_generation(engine.index_dir)
    manifest = json.loads((generation / generations.MANIFEST).read_text())
    manifest["format"] = 1  # make it look like an index written before stories existed
    (generation / generations.MANIFEST).write_text(json.dumps(manifest))
    with sqlite3.connect(generation / generations.STORE) as db:
        db.execute("DROP INDEX articles_by_story")
        db.execute("ALTER TABLE articles DROP COLUMN signature")
        db.execute("ALTER TABLE articles DROP COLUMN story_id")
    old = hashing_engine(index_dir=engine.index_dir, embedder=embedder)
    with pytest.raises(IndexMismatchError, match="older version.*keep their vectors"):
        old.ask("olive oil")
    embedded = embedder.texts_embedded
    report = old.update([news_folder], replace_all=True)
    assert (report.unchanged, embedder.texts_embedded - embedded) == (3, 0)
    assert old.ask("olive oil prices").found
