"""Columns a build keeps one an article and reads one a row: the vector store's payloads and hubness's document keys."""

from __future__ import annotations

import numpy as np
import pytest

from index.search.hubness import document_keys
from index.storage.faiss_vectors import FaissStore
from index.storage.vector_base import RowPayload, RowPayloads

ARTICLES = [
    RowPayload("a", "2024-03-05", "Reuters"),
    RowPayload("b", "", "Al Jazeera"),
    RowPayload("c", "2024-03-05T10:00:00+03:00", "BBC"),
    RowPayload("d", "not a date", "Reuters"),
    RowPayload("e", "2023-12-31", "Al Jazeera"),
]
SIZES = [3, 0, 1, 4, 2]


def _rows() -> list[RowPayload]:
    return [payload for payload, size in zip(ARTICLES, SIZES) for _ in range(size)]


def test_row_payloads_read_as_one_payload_a_row() -> None:
    payloads, rows = RowPayloads(ARTICLES, SIZES), _rows()
    assert len(payloads) == len(rows) == 10 and list(payloads) == rows
    assert [payloads[row] for row in range(-10, 10)] == rows + rows
    assert payloads[2:8:2] == rows[2:8:2] and payloads[::-1] == rows[::-1]
    with pytest.raises(IndexError):
        payloads[10]
    assert list(RowPayloads([], [])) == [] and len(RowPayloads([], [])) == 0


def test_vector_store_columns_are_the_same_from_payloads_kept_an_article(tmp_path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    by_article = FaissStore._write_columns(tmp_path / "a", RowPayloads(ARTICLES, SIZES))
    by_row = FaissStore._write_columns(tmp_path / "b", _rows())
    for column, expected in zip(by_article, by_row):
        np.testing.assert_array_equal(column, expected)
    assert list(by_row[2]) == ["Al Jazeera", "BBC", "Reuters"]  # outlets sorted, each row's code into them
    assert by_row[1].tolist() == [2, 2, 2, 1, 2, 2, 2, 2, 0, 0]
    assert (tmp_path / "a" / FaissStore.ROWS).read_bytes() == (tmp_path / "b" / FaissStore.ROWS).read_bytes()


def test_document_keys_kept_an_article_are_each_rows_keys() -> None:
    """The same documents (rows alike in a key) as each row's keys coded one by one; the codes may differ (an
    article without rows has a code of its own), the partition may not."""
    documents = [("t1", "s1"), ("t2", "s1"), ("t1", "s3"), ("t4", "s4"), ("t5", "s5")]
    per_row = [document for document, size in zip(documents, SIZES) for _ in range(size)]
    by_article, by_row = document_keys(documents, SIZES), document_keys(per_row)
    assert by_article.shape == by_row.shape == (2, 10)
    for codes, expected in zip(by_article, by_row):
        np.testing.assert_array_equal(codes[:, None] == codes[None, :], expected[:, None] == expected[None, :])
    assert by_row[0].tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 2, 2]  # t1 (article a, then c), t4, t5
    assert document_keys([]).shape == (0, 0)
