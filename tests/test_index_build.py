"""Building, updating and opening indexes: real FAISS and SQLite, the fake encoder."""

from __future__ import annotations

import json
import os
import sqlite3
import threading

import numpy as np
import pytest

from index import BuildError, HashingEmbedder, IndexMismatchError, IndexNotFoundError, QuestionError
from index.storage import generations
from tests.conftest import NEWS, write_articles


def test_build_then_search_finds_the_article(hashing_engine, news_folder):
    engine = hashing_engine()
    report = engine.update([news_folder], replace_all=True)
    assert (report.added, report.articles, report.problems) == (3, 3, [])
    hits = engine.search("olive oil prices in Europe", k=3)
    assert hits[0].article_id == "olive-harvest"
    article_text = engine._index().article("olive-harvest").text
    for hit in hits:
        assert engine._index().article(hit.article_id).text[hit.start : hit.end] == hit.text
    assert article_text.startswith("Farmers in Sfax")


def test_generation_holds_manifest_store_and_faiss_and_no_pickle(hashing_engine, news_folder):
    engine = hashing_engine()
    engine.update([news_folder], replace_all=True)
    generation = generations.current_generation(engine.index_dir)
    names = sorted(path.name for path in generation.iterdir())
    assert names == [
        "embeddings.npy",
        "hubness-floors.npy",
        "hubness.npy",
        "keywords",
        "lexicon",
        "manifest.json",
        "sentences",
        "store.sqlite",
        "vector-rows.npz",
        "vectors.faiss",
    ]
    manifest = json.loads((generation / "manifest.json").read_text())
    assert manifest["model"] == {
        "id": "test:hashing",
        "fingerprint": HashingEmbedder().fingerprint,
        "dimension": 64,
        "max_tokens": 128,
    }
    assert manifest["counts"] == {"articles": 3, "chunks": engine.stats().chunks}
    assert manifest["chunking"]["chunk_tokens"] == 200 and "faiss-cpu" in manifest["versions"]
    assert manifest["vectors"] == {
        "store": "faiss",
        "file": "vectors.faiss",
        "rows": "vector-rows.npz",
        "factory": "Flat",
    }
    np.load(generation / "embeddings.npy", allow_pickle=False)  # plain arrays only


def test_add_skips_unchanged_replaces_changed_and_embeds_only_those(hashing_engine, news_folder):
    embedder = HashingEmbedder()
    engine = hashing_engine(embedder=embedder)
    engine.update([news_folder], replace_all=True)
    embedded_before = embedder.texts_embedded
    (news_folder / "olive-harvest.txt").write_text(
        NEWS["olive-harvest"].replace("two weeks", "three weeks"), encoding="utf-8"
    )
    write_articles(news_folder, {"new-port": "Port of Misrata reopens\n\nShips returned to Misrata harbour on Monday."})
    report = engine.update([news_folder])
    assert (report.added, report.changed, report.unchanged, report.removed) == (1, 1, 2, 0)
    assert (report.embedded_chunks, report.embedded_sentences) == (2, 2)  # the two sentences that are new
    assert embedder.texts_embedded - embedded_before == 2 + 2 * 2  # sentences with both prompts
    assert engine.search("three weeks olives", k=1)[0].article_id == "olive-harvest"
    assert engine.search("Misrata harbour ships", k=1)[0].article_id == "new-port"


def test_add_keeps_articles_not_in_the_sources_unless_asked(hashing_engine, news_folder, tmp_path):
    engine = hashing_engine()
    engine.update([news_folder], replace_all=True)
    other = write_articles(tmp_path / "other", {"extra": "Extra story\n\nA story about camels in the desert."})
    assert engine.update([other]).articles == 4
    report = engine.update([other], replace_all=True)
    assert (report.removed, report.articles) == (3, 1)


def test_build_replaces_the_whole_collection(hashing_engine, news_folder, tmp_path):
    engine = hashing_engine()
    engine.update([news_folder], replace_all=True)
    other = write_articles(tmp_path / "other", {"extra": "Extra story\n\nA story about camels in the desert."})
    report = engine.update([other], replace_all=True)
    assert (report.added, report.removed, report.articles) == (1, 3, 1)


def test_remove_by_id(hashing_engine, news_folder):
    engine = hashing_engine()
    engine.update([news_folder], replace_all=True)
    report = engine.remove(["olive-harvest", "no-such-id"])
    assert (report.removed, report.articles) == (1, 2)
    assert [str(p) for p in report.problems] == ["skipped no-such-id: no article with this id is in the index"]
    assert all(hit.article_id != "olive-harvest" for hit in engine.search("olive oil", k=5))


def test_unchanged_rebuild_reuses_every_vector(hashing_engine, news_folder):
    embedder = HashingEmbedder()
    engine = hashing_engine(embedder=embedder)
    engine.update([news_folder], replace_all=True)
    report = engine.update([news_folder], replace_all=True)
    assert (report.unchanged, report.embedded_chunks) == (3, 0)


def test_bad_files_are_skipped_and_counted(hashing_engine, news_folder):
    (news_folder / "broken.txt").write_bytes(b"\xff\xfe not utf-8 \xc3")
    report = hashing_engine().update([news_folder], replace_all=True)
    assert report.articles == 3 and len(report.problems) == 1
    assert "broken.txt" in str(report.problems[0]) and "1 skipped" in report.summary()


def test_nothing_to_index_is_an_error_and_leaves_no_index(hashing_engine, tmp_path):
    engine = hashing_engine()
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(BuildError, match="no articles"):
        engine.update([empty], replace_all=True)
    assert not engine.has_index()


def test_interrupted_build_leaves_the_previous_index_serving(hashing_engine, news_folder, tmp_path):
    engine = hashing_engine()
    engine.update([news_folder], replace_all=True)
    before = generations.current_generation(engine.index_dir)
    bigger = write_articles(
        tmp_path / "more", {f"story-{i}": f"Story {i}\n\nCamels number {i} walked." for i in range(5)}
    )

    def interrupt(stage, done, total):
        if stage == "embedding":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        engine.update([bigger], progress=interrupt)
    assert generations.current_generation(engine.index_dir) == before
    assert not list(engine.index_dir.glob(".staging-*"))
    assert engine.search("olive oil prices", k=1)[0].article_id == "olive-harvest"
    fresh = hashing_engine(index_dir=engine.index_dir)  # a new process sees the old index too
    assert fresh.stats().articles == 3


def test_killed_build_leaves_previous_index_and_next_build_cleans_up(hashing_engine, news_folder):
    engine = hashing_engine()
    engine.update([news_folder], replace_all=True)
    leftover = engine.index_dir / ".staging-deadbeef"
    leftover.mkdir()
    (leftover / "store.sqlite").write_bytes(b"half written")
    assert engine.stats().articles == 3
    engine.update([news_folder], replace_all=True)
    assert not leftover.exists()


def test_a_reader_keeps_answering_from_the_generation_it_opened(hashing_engine, news_folder, tmp_path):
    engine = hashing_engine()
    engine.update([news_folder], replace_all=True)
    reader = hashing_engine(index_dir=engine.index_dir)
    assert reader.search("olive oil", k=1)[0].article_id == "olive-harvest"
    other = write_articles(tmp_path / "other", {"camels": "Camels\n\nCamels cross the desert."})
    engine.update([other], replace_all=True)
    assert reader.search("camels desert", k=1)[0].article_id == "camels"  # picks up the new generation


def test_closing_the_engine_waits_for_the_questions_reading_it(hashing_engine, news_folder):
    """A bot stopping closes its engine while questions still run: the store and the vectors stay open until the last
    of them is done (closing them under a running SQLite query or FAISS search crashed the process)."""
    engine = hashing_engine()
    engine.update([news_folder], replace_all=True)
    opened = engine._index()
    inside, go_on = threading.Event(), threading.Event()
    read_stories = opened.stories

    def paused_stories(article_ids):
        inside.set()
        go_on.wait(10)
        return read_stories(article_ids)

    opened.stories = paused_stories
    found = []
    asking = threading.Thread(target=lambda: found.append(engine.search("olive oil", k=1)))
    asking.start()
    assert inside.wait(10)
    engine.close()  # while the question is between its FAISS search and its store reads
    go_on.set()
    asking.join(10)
    assert found and found[0][0].article_id == "olive-harvest"
    with pytest.raises(sqlite3.ProgrammingError):  # closed once the question was done
        opened._store._db.execute("SELECT 1")
    assert engine.search("olive oil", k=1)[0].article_id == "olive-harvest"  # a new question opens it again


def test_index_built_with_another_model_is_refused(hashing_engine, news_folder):
    hashing_engine().update([news_folder], replace_all=True)
    other = hashing_engine(embedder=HashingEmbedder(dimension=32, model_id="test:other"))
    with pytest.raises(IndexMismatchError, match="built with the model test:hashing.*rebuild it"):
        other.ask("who met Haftar?")
    with pytest.raises(IndexMismatchError):
        other.update([news_folder])
    assert other.update([news_folder], replace_all=True).added == 3  # a full rebuild with the new model is allowed
    assert other.search("olive oil", k=1)[0].article_id == "olive-harvest"


def test_changed_chunking_needs_a_rebuild(hashing_engine, news_folder):
    hashing_engine().update([news_folder], replace_all=True)
    finer = hashing_engine(chunk_tokens=40)
    with pytest.raises(IndexMismatchError, match="chunked with"):
        finer.update([news_folder])
    assert finer.update([news_folder], replace_all=True).embedded_chunks > 0


def test_missing_index_is_one_clear_error(hashing_engine):
    with pytest.raises(IndexNotFoundError, match="python -m index build"):
        hashing_engine().ask("who met Haftar?")


@pytest.mark.parametrize("question, message", [("", "empty"), ("   \n ", "empty"), ("x" * 501, "501 characters")])
def test_bad_questions(hashing_engine, news_folder, question, message):
    engine = hashing_engine()
    engine.update([news_folder], replace_all=True)
    with pytest.raises(QuestionError, match=message):
        engine.ask(question)


def test_stats(hashing_engine, news_folder):
    engine = hashing_engine()
    engine.update([news_folder], replace_all=True)
    stats = engine.stats()
    assert (stats.articles, stats.model_id) == (3, "test:hashing")
    assert stats.sources == {"Example Wire": 1, "Farm News": 1, "الجزيرة": 1}
    assert stats.built_at.endswith("Z")


def test_concurrent_build_is_refused(hashing_engine, news_folder):
    engine = hashing_engine()
    engine.update([news_folder], replace_all=True)
    with generations.build_lock(engine.index_dir), pytest.raises(BuildError, match="Another build"):
        engine.update([news_folder], replace_all=True)


@pytest.mark.parametrize("factory", ["HNSW32", "IVF16,Flat"])
def test_approximate_index_recall_against_exact(hashing_engine, tmp_path, factory):
    rng = np.random.default_rng(7)
    words = [f"w{i}" for i in range(400)]
    articles = {f"a{i:03d}": f"Title {i}\n\n" + " ".join(rng.choice(words, size=60)) + "." for i in range(600)}
    folder = write_articles(tmp_path / "many", articles)
    exact = hashing_engine(index_dir=tmp_path / "exact")
    approximate = hashing_engine(index_dir=tmp_path / "approx", faiss_factory=factory)
    exact.update([folder], replace_all=True)
    approximate.update([folder], replace_all=True)
    assert (
        json.loads((generations.current_generation(approximate.index_dir) / "manifest.json").read_text())["faiss"][
            "factory"
        ]
        == factory
    )
    recalls = []
    for _ in range(40):
        question = " ".join(rng.choice(words, size=6))
        truth = {hit.chunk_id for hit in exact.search(question, k=10)}
        found = {hit.chunk_id for hit in approximate.search(question, k=10)}
        recalls.append(len(truth & found) / len(truth))
    assert np.mean(recalls) >= 0.9, f"{factory} recall@10 against exact search is {np.mean(recalls):.2f}"


def test_invalid_faiss_factory_is_one_clear_error(hashing_engine, news_folder):
    engine = hashing_engine(faiss_factory="NoSuchIndex99")
    with pytest.raises(BuildError, match="FAISS_FACTORY"):
        engine.update([news_folder], replace_all=True)
    assert not engine.has_index()


def test_index_directory_is_a_symlinked_generation(hashing_engine, news_folder):
    engine = hashing_engine()
    engine.update([news_folder], replace_all=True)
    first = generations.current_generation(engine.index_dir)
    engine.update([news_folder], replace_all=True)
    second = generations.current_generation(engine.index_dir)
    assert first != second and first.exists()  # the previous generation stays for readers
    engine.update([news_folder], replace_all=True)
    assert not first.exists() and second.exists()
    assert os.readlink(engine.index_dir / "CURRENT") == generations.current_generation(engine.index_dir).name


@pytest.mark.parametrize("raw, expected", [("", None), ("0.8", 0.8), ("1", 1.0)])
def test_answer_threshold_setting(raw, expected):
    from index import IndexSettings

    assert IndexSettings.from_env({"ANSWER_THRESHOLD": raw}).answer_threshold == expected


@pytest.mark.parametrize("raw", ["high", "1.5", "-0.1"])
def test_bad_answer_threshold_is_one_sentence(raw):
    from index import IndexSettings, SettingsError

    with pytest.raises(SettingsError, match="ANSWER_THRESHOLD must be a number between 0 and 1"):
        IndexSettings.from_env({"ANSWER_THRESHOLD": raw})


def test_answer_threshold_decides_not_in_my_articles(hashing_engine, news_folder):
    lenient = hashing_engine(answer_threshold=0.0)
    lenient.update([news_folder], replace_all=True)
    assert lenient.ask("olive oil prices in Europe").found
    strict = hashing_engine(answer_threshold=1.0)
    answer = strict.ask("olive oil prices in Europe")
    assert not answer.found and answer.citations  # the closest passages are still offered


def test_encoder_runtime_is_numpy_by_default_onnx_on_request_and_nothing_else():
    from index import IndexSettings, SettingsError

    assert IndexSettings.from_env({}).encoder_runtime == "numpy"
    assert IndexSettings.from_env({"ENCODER_RUNTIME": " ONNX "}).encoder_runtime == "onnx"
    with pytest.raises(SettingsError, match="ENCODER_RUNTIME must be one of numpy, onnx, not 'torch'"):
        IndexSettings.from_env({"ENCODER_RUNTIME": "torch"})
