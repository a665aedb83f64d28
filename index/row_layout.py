"""Where each row of a new generation comes from, and which rows of a shared base are dead.

Rows are numbered by position. A build plans its articles in order (``builder._plan``) and each kept chunk's row
in the previous generation (``KeptChunks.rows``): numbered so, an update that removes or changes an article of the
previous base renumbers every row after it, and each layer's base files (vectors, keyword index, store) are written
again (3.5 GB at a million chunks). ``tombstoned`` numbers the rows instead with the base's rows in place: a
removed article's rows stay in the base, dead (``storage/dead_rows.py``), and the kept articles of the previous
delta and the new ones follow the base. Then every layer writes only its delta, as an ``add`` does. Dead rows are
rows no search returns; once they and the delta would pass a share of the base, the update numbers rows one after
another again and writes every layer whole (a merge), which drops them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

import index.layered_vectors as layered_vectors
import index.search.keyword_layers as keyword_layers
from index.search.keyword_layers import PreviousTerms
from index.settings import IndexSettings
from index.storage import store_layers
from index.storage.article_store import ArticleStore
from index.storage.row_files import StackedRows

T = TypeVar("T")


@dataclass(frozen=True)
class RowLayout:
    """The rows of a new generation: ``old_row_of`` (each row's row in the previous generation, -1 for a new one),
    ``dead`` (rows of removed articles kept in the base, ascending; none when rows follow one another),
    ``starts`` (each planned article's first row) and ``kept_articles`` (with dead rows: how many articles begin
    the plan as the previous base's live articles, in their order; they keep their rows and stories)."""

    old_row_of: np.ndarray
    dead: np.ndarray
    starts: np.ndarray
    kept_articles: int = 0

    @classmethod
    def consecutive(cls, sizes: Sequence[int], old_row_of: np.ndarray) -> RowLayout:
        """Each article's rows after the previous one's (``sizes``: its number of chunks): no dead row."""
        counts = np.asarray(sizes, dtype=np.int64)
        return cls(old_row_of, np.zeros(0, dtype=np.int64), np.cumsum(counts) - counts)

    @property
    def rows(self) -> int:
        return len(self.old_row_of)

    def first_row(self, position: int) -> int:
        """The row where the planned article at ``position`` begins (the rows' end past the last)."""
        return int(self.starts[position]) if position < len(self.starts) else self.rows

    def with_dead_runs(
        self, values: Sequence[T], sizes: Sequence[int], filler: Callable[[int], T]
    ) -> tuple[list[T], list[int]]:
        """(``values``, one an article with ``sizes`` rows each) with each run of dead rows as one more value,
        ``filler(i)`` for the i-th run, in row order: what a per-article column (``RowPayloads``,
        ``document_keys``) needs for rows with dead ones among them."""
        if not len(self.dead):
            return list(values), list(sizes)
        runs = np.flatnonzero(np.diff(self.dead) != 1) + 1  # where a run of consecutive dead rows begins
        run_starts = self.dead[np.concatenate(([0], runs))].tolist()
        run_sizes = np.diff(np.concatenate(([0], runs, [len(self.dead)]))).tolist()
        out_values: list[T] = []
        out_sizes: list[int] = []
        run = 0
        for value, size, start in zip(values, sizes, self.starts.tolist()):
            while run < len(run_starts) and run_starts[run] < start:
                out_values.append(filler(run))
                out_sizes.append(run_sizes[run])
                run += 1
            out_values.append(value)
            out_sizes.append(size)
        for later, size in enumerate(run_sizes[run:], run):  # runs at the end of the base, no article after
            out_values.append(filler(later))
            out_sizes.append(size)
        return out_values, out_sizes


def tombstoned(
    sizes: Sequence[int], old_row_of: np.ndarray, old_positions: np.ndarray, base_rows: int, base_articles: int
) -> RowLayout | None:
    """The rows of an update with the previous base's rows in place and the rows of its articles that go dead
    (``sizes``, ``old_row_of``: the plan's articles' chunks and rows numbered one after another; ``old_positions``:
    each article's position among the previous live articles, -1 for a new one; ``base_rows``: the previous base's
    rows, dead ones included; ``base_articles``: its live articles). None when the update cannot keep the base so:
    the base's kept articles do not begin the plan in their order, the base is under ``LAYER_MIN_ROWS`` rows, or
    the dead rows and the delta would pass the layers' share of the base; and none when no row is dead."""
    share = min(layered_vectors.DELTA_SHARE, keyword_layers.DELTA_SHARE, store_layers.DELTA_SHARE)
    in_base = (old_row_of >= 0) & (old_row_of < base_rows)
    kept = int(in_base.sum())
    if base_rows < max(layered_vectors.LAYER_MIN_ROWS, keyword_layers.LAYER_MIN_ROWS) or kept == base_rows:
        return None
    kept_rows = old_row_of[:kept]
    if not in_base[:kept].all() or np.any(np.diff(kept_rows) <= 0):
        return None
    dead = np.flatnonzero(~np.isin(np.arange(base_rows), kept_rows))
    delta = len(old_row_of) - kept
    if len(dead) + delta > share * base_rows:
        return None
    from_base = (old_positions >= 0) & (old_positions < base_articles)
    kept_articles = int(np.argmin(from_base)) if not from_base.all() else len(from_base)
    if from_base[kept_articles:].any() or np.any(np.diff(old_positions[:kept_articles]) <= 0):
        return None
    new_row = np.concatenate((kept_rows, base_rows + np.arange(delta)))  # each planned row's row now
    counts = np.asarray(sizes, dtype=np.int64)
    first = np.cumsum(counts) - counts
    starts = np.append(new_row, base_rows + delta)[first]  # (an article without chunks: the next row)
    old_row_of = np.concatenate((np.arange(base_rows), old_row_of[kept:]))
    return RowLayout(old_row_of, dead, starts, kept_articles)


def plan_rows(
    previous: Path | None,
    old_store: ArticleStore | None,
    old_vectors: np.ndarray | StackedRows | None,
    old_terms: PreviousTerms | None,
    settings: IndexSettings,
    planned: tuple[Sequence[int], np.ndarray, np.ndarray],
) -> RowLayout:
    """The rows of a build's generation (``planned``: its articles' sizes, rows and positions as ``tombstoned``
    takes them): with the previous base's rows in place and some dead when every layer can then write only its
    delta (vectors, keyword index, store), else one after another."""
    sizes, old_row_of, old_positions = planned
    consecutive = RowLayout.consecutive(sizes, old_row_of)
    if previous is None or old_store is None or old_terms is None or not old_store.has_signatures():
        return consecutive
    (base_articles, base_rows), *_ = old_store.layer_counts()  # as stored: removed articles' included
    base_live = base_articles - len(old_store.removed_rowids())
    layout = tombstoned(sizes, old_row_of, old_positions, base_rows, base_live)
    if layout is None:
        return consecutive
    vectors_layer = layered_vectors.appended_layer(previous, old_vectors, layout.old_row_of, settings, True)
    if vectors_layer is None or keyword_layers.layered_base(old_terms, layout.old_row_of, True) != base_rows:
        return consecutive
    return layout
