"""Qdrant as the vector store (``VECTOR_STORE=qdrant``; the ``qdrant`` extra installs its client).

Where a generation's vectors go:

- without ``QDRANT_URL``, Qdrant's local mode (qdrant-client's embedded store, exact search) in the
  generation's own folder (``qdrant/``, collection ``chunks``): it is written in the staging folder,
  published by its rename and pruned with it, like every other file of a generation. Local mode serves
  one process at a time and keeps its points pickled in SQLite: it is for development and tests;
- with ``QDRANT_URL``, a Qdrant server: one collection per generation, ``PREFIX-<12 hex>``, filled
  completely before the generation is published. The generation's folder names it (``qdrant.json``,
  written before the collection is made) and its manifest records it, so readers find it through
  CURRENT, which still switches every part of an index at once; a reader of the previous generation
  keeps its collection until that generation is pruned, when the collection is dropped with it (a failed
  build drops its own; one killed outright, at the next build, which finds its staging folder).

Each point is a chunk row (its id), its vector and the payload ``article_id``, ``published``,
``published_day`` (days since 1970, absent when the article has no date) and ``source``; the server
indexes the last two for the filters. Scores are inner products (``Distance.DOT``), as in FAISS.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import BuildError, IndexCorruptError, SettingsError, VectorStoreError
from index.storage.vector_base import (
    RowPayload,
    VectorFilter,
    VectorStore,
    VectorStoreSettings,
    no_results,
    published_day,
)

logger = logging.getLogger(__name__)

LOCAL_FOLDER = "qdrant"
LOCAL_COLLECTION = "chunks"
NAME_FILE = "qdrant.json"  # in a generation (or staging) folder whose vectors are on a server: which collection
UPLOAD_BATCH = 256  # points sent at a time
QUERY_BATCH = 64  # searches sent at a time (the build's hubness pass sends thousands)
HNSW_EF = 128  # a server's search-time breadth, as FAISS's HNSW_EF_SEARCH
TIMEOUT_SECONDS = 60
MISSING_CLIENT = "VECTOR_STORE=qdrant needs the Qdrant client; install it with `pip install 'article-qa-bot[qdrant]'`."


def require_client() -> None:
    """SettingsError unless qdrant-client (the ``qdrant`` extra) is installed."""
    try:
        found = importlib.util.find_spec("qdrant_client") is not None
    except (ImportError, ValueError):  # ValueError: a module set to None in sys.modules
        found = False
    if not found:
        raise SettingsError(MISSING_CLIENT)


class QdrantStore(VectorStore):
    """A generation's vectors in a Qdrant collection, local or on a server."""

    def __init__(self, client: Any, collection: str, count: int, record: dict, server: str) -> None:
        self._client = client
        self._collection = collection
        self._count = count
        self.record = record
        self._server = server  # the server's address, "" in local mode

    @classmethod
    def write(
        cls, folder: Path, vectors: np.ndarray, payloads: Sequence[RowPayload], settings: VectorStoreSettings
    ) -> QdrantStore:
        """Write ``vectors`` (one ``payloads`` entry a row) for the generation being built in ``folder``;
        returns the store opened for search."""
        require_client()
        from qdrant_client import models

        if settings.qdrant_url:
            collection = f"{settings.qdrant_prefix}-{uuid.uuid4().hex[:12]}"
            record = {"store": "qdrant", "location": "server", "collection": collection}
            (folder / NAME_FILE).write_text(json.dumps(record), encoding="utf-8")  # first: a failed build finds it
        else:
            collection = LOCAL_COLLECTION
            record = {"store": "qdrant", "location": "local", "path": LOCAL_FOLDER, "collection": collection}
        client = _connect(settings, None if settings.qdrant_url else folder / LOCAL_FOLDER)
        try:
            with _server_errors(settings.qdrant_url, "store the vectors", writing=True):
                client.create_collection(
                    collection,
                    vectors_config=models.VectorParams(size=int(vectors.shape[1]), distance=models.Distance.DOT),
                )
                if settings.qdrant_url:  # local mode searches exactly and has no use for them
                    client.create_payload_index(collection, "source", models.PayloadSchemaType.KEYWORD)
                    client.create_payload_index(collection, "published_day", models.PayloadSchemaType.INTEGER)
                if len(vectors):
                    client.upload_collection(
                        collection,
                        vectors=np.asarray(vectors, dtype=np.float32),
                        payload=(_payload(payload) for payload in payloads),
                        ids=range(len(vectors)),
                        batch_size=UPLOAD_BATCH,
                        wait=True,
                    )
                count = client.count(collection, exact=True).count
        except BaseException:
            client.close()
            raise
        if count != len(vectors):
            client.close()
            raise BuildError(
                f"The Qdrant collection {collection} took {count} of {len(vectors)} vectors: "
                "the index was left as it was."
            )
        return cls(client, collection, count, record, settings.qdrant_url)

    @classmethod
    def open(cls, generation: Path, record: dict, rows: int | None, settings: VectorStoreSettings) -> QdrantStore:
        """The store of a generation; IndexCorruptError when it is missing or holds another number of rows."""
        require_client()
        collection = str(record.get("collection", ""))
        folder = generation / str(record.get("path", LOCAL_FOLDER)) if record.get("location") == "local" else None
        if folder is not None:
            if not (folder / "meta.json").is_file():
                raise _damaged(generation, f"{generation.name}/{folder.name} is missing")
            where = f"{generation.name}/{folder.name}"
        elif not settings.qdrant_url:
            raise SettingsError(
                f"The index in {generation.parent} keeps its vectors on a Qdrant server; "
                "set QDRANT_URL (and QDRANT_API_KEY) to reach it."
            )
        else:
            where = f"the Qdrant server at {settings.qdrant_url}"
        client = _connect(settings, folder, generation)
        try:
            with _server_errors(settings.qdrant_url, "open the index's collection"):
                if not collection or not client.collection_exists(collection):
                    raise _damaged(generation, f"its vectors' collection {collection!r} is missing from {where}")
                count = client.count(collection, exact=True).count
        except BaseException:
            client.close()
            raise
        if rows is not None and count != rows:
            client.close()
            raise _damaged(generation, f"its vectors' collection in {where} holds {count} vectors, not {rows}")
        return cls(client, collection, count, record, "" if folder is not None else settings.qdrant_url)

    @property
    def count(self) -> int:
        return self._count

    def search(self, queries: np.ndarray, k: int, where: VectorFilter | None = None) -> tuple[np.ndarray, np.ndarray]:
        from qdrant_client import models

        queries = np.asarray(queries, dtype=np.float32)
        width = max(0, min(k, self._count))
        scores, rows = no_results(len(queries), width)
        if width == 0 or (where is not None and where.sources is not None and not where.sources):
            return scores, rows
        condition = _condition(where)
        params = models.SearchParams(hnsw_ef=max(HNSW_EF, width)) if self._server else None
        for start in range(0, len(queries), QUERY_BATCH):
            requests = [
                models.QueryRequest(query=query.tolist(), limit=width, filter=condition, params=params)
                for query in queries[start : start + QUERY_BATCH]
            ]
            with _server_errors(self._server, "search the index's vectors"):
                responses = self._client.query_batch_points(self._collection, requests)
            for offset, response in enumerate(responses):
                found = response.points[:width]
                rows[start + offset, : len(found)] = [int(point.id) for point in found]
                scores[start + offset, : len(found)] = [point.score for point in found]
        return scores, rows

    def close(self) -> None:
        self._client.close()


def discard_collection(folder: Path, settings: VectorStoreSettings) -> None:
    """Drop the server collection a generation or staging folder names, before the folder is removed. Best
    effort: a collection that cannot be dropped is only never read again, and a warning says so."""
    try:
        record = json.loads((folder / NAME_FILE).read_text(encoding="utf-8"))
        collection = str(record["collection"])
    except (OSError, ValueError, KeyError, TypeError):
        return  # vectors in the folder itself (or an unreadable record: nothing known to drop)
    if not settings.qdrant_url:
        logger.warning("Qdrant collection %s was left on its server: QDRANT_URL is not set", collection)
        return
    try:
        client = _connect(settings, None)
        try:
            with _server_errors(settings.qdrant_url, f"drop the collection {collection}"):
                client.delete_collection(collection)
        finally:
            client.close()
    except (VectorStoreError, SettingsError) as exc:
        logger.warning("Qdrant collection %s was left on its server: %s", collection, exc)


def _connect(settings: VectorStoreSettings, local_folder: Path | None, generation: Path | None = None) -> Any:
    """A client of the server (``local_folder`` None) or of the local store in ``local_folder``."""
    require_client()
    from qdrant_client import QdrantClient

    if local_folder is None:
        return QdrantClient(
            url=settings.qdrant_url,
            api_key=settings.qdrant_api_key or None,
            timeout=TIMEOUT_SECONDS,
            check_compatibility=False,  # it would ask the server now and only warn; the first call says more
        )
    try:
        return QdrantClient(path=str(local_folder), force_disable_check_same_thread=True)  # searched from threads
    except Exception as exc:  # a lock held elsewhere; a damaged meta.json or storage (JSON, SQLite, pickle errors)
        if isinstance(exc, RuntimeError) and "already accessed" in str(exc):
            raise VectorStoreError(
                f"Qdrant's local store in {local_folder} is open in another process, and its local mode serves "
                "one process at a time; stop the other one, or run a Qdrant server and set QDRANT_URL."
            ) from None
        if generation is None:
            raise
        raise _damaged(generation, f"{generation.name}/{local_folder.name} cannot be read ({_reason(exc)})") from exc


@contextmanager
def _server_errors(server: str, doing: str, writing: bool = False) -> Iterator[None]:
    """A server's refusal or silence as one sentence: BuildError while writing, else VectorStoreError."""
    from qdrant_client.http.exceptions import ApiException, UnexpectedResponse

    try:
        yield
    except (ApiException, OSError) as exc:
        if not server:
            raise
        if isinstance(exc, UnexpectedResponse):
            reason = f"HTTP {exc.status_code} {exc.reason_phrase}".strip()
        else:
            reason = _reason(exc)
        if writing:
            raise BuildError(
                f"The build could not {doing} on the Qdrant server at {server} ({reason}): "
                "the index was left as it was."
            ) from exc
        raise VectorStoreError(
            f"Could not {doing} on the Qdrant server at {server} ({reason}); "
            "check that it runs, and QDRANT_URL and QDRANT_API_KEY."
        ) from exc


def _payload(payload: RowPayload) -> dict:
    fields: dict[str, object] = {
        "article_id": payload.article_id,
        "published": payload.published,
        "source": payload.source,
    }
    day = published_day(payload.published)
    if day is not None:
        fields["published_day"] = day
    return fields


def _condition(where: VectorFilter | None) -> Any:
    from qdrant_client import models

    if where is None:
        return None
    must: list[Any] = []
    if where.dated:
        first, last = where.day_range()
        must.append(models.FieldCondition(key="published_day", range=models.Range(gte=first, lte=last)))
    if where.sources is not None:
        must.append(models.FieldCondition(key="source", match=models.MatchAny(any=sorted(where.sources))))
    return models.Filter(must=must) if must else None


def _reason(exc: BaseException) -> str:
    """The first line of an exception's message (at most 200 characters), or its type."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def _damaged(generation: Path, problem: str) -> IndexCorruptError:
    return IndexCorruptError.damaged(generation.parent, problem)
