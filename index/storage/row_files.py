"""Arrays of rows on disk (vectors), written and read a block of rows at a time with plain file reads.

A build's vectors can be larger than it should hold at once (a million chunks of 64 float32s are 256 MB, of 384:
1.5 GB). Reading a file through a memory mapping is no way round that: the pages a process touches count in its
resident memory until it unmaps the file, so reading a whole mapped file grows the reader by the file's size.
``RowFile`` reads rows into arrays its caller holds only while it needs them, ``NpyBlocks`` the values of a
one-dimensional file (the keyword index's term ids and postings) a slice at a time, and may write over them;
``NpyWriter`` writes an ``.npy`` file a block at a time, byte for byte what ``np.save`` writes of the whole array.
"""

from __future__ import annotations

import contextlib
import io
import mmap
import os
import weakref
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, cast

import numpy as np

BLOCK_ROWS = 1 << 14  # rows read or written at a time by the callers that stream a whole file (4 MB of 64 floats)


def npy_header(dtype: np.dtype, shape: tuple[int, ...]) -> bytes:
    """The header ``np.save`` writes before a C-ordered array of ``shape`` (numpy pads it to a size that does not
    depend on the first dimension, so a file's header can be written again in place once its rows are counted)."""
    header = io.BytesIO()
    description = {
        "descr": np.lib.format.dtype_to_descr(np.dtype(dtype)),
        "fortran_order": False,
        "shape": tuple(int(size) for size in shape),  # Python ints: the header is their repr
    }
    np.lib.format.write_array_header_1_0(header, description)
    return header.getvalue()


def npy_layout(file: BinaryIO, name: str) -> tuple[tuple[int, ...], np.dtype, int]:
    """(shape, dtype, where the values start) of the C-ordered array of numbers in an open ``.npy`` file."""
    version = np.lib.format.read_magic(file)
    read = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    if version not in read:
        raise ValueError(f"{name}: .npy version {version} is not read here")
    shape, fortran_order, dtype = read[version](file)
    if fortran_order or dtype.hasobject:
        raise ValueError(f"{name} holds no C-ordered array of numbers ({shape}, {dtype})")
    return tuple(shape), dtype, file.tell()


class NpyWriter:
    """An ``.npy`` file written a block of rows at a time (a context manager), byte for byte what ``np.save`` writes
    of the whole array: rows of ``row_shape`` (``()``: one value a row). With ``rows`` the header says so from the
    start and the count is checked at the end; without, the header is written again at the end with the rows
    written."""

    def __init__(
        self, path: Path, dtype: np.dtype | type = np.float32, row_shape: tuple[int, ...] = (), rows: int | None = None
    ) -> None:
        self.path, self.dtype, self.row_shape = Path(path), np.dtype(dtype), tuple(int(size) for size in row_shape)
        self.rows = None if rows is None else int(rows)
        self.written = 0
        self._header = npy_header(self.dtype, (self.rows or 0, *self.row_shape))
        self._file = open(path, "w+b")  # noqa: SIM115 (closed by close or __exit__)
        self._file.write(self._header)

    def write(self, block: np.ndarray) -> None:
        too_many = self.rows is not None and self.written + len(block) > self.rows
        if block.shape[1:] != self.row_shape or too_many:
            raise ValueError(f"{block.shape} rows do not fit {self.path.name} after {self.written} of {self.rows}")
        self._file.write(np.ascontiguousarray(block, dtype=self.dtype).data)  # no copy of the block's bytes
        self.written += len(block)

    def copy(self, source: NpyBlocks, start: int, stop: int) -> None:
        """Append values ``start`` to ``stop`` - 1 of ``source`` (of this writer's type, one value a row), copied
        file to file by the kernel (``os.copy_file_range``; read and written here where it cannot)."""
        if source.dtype != self.dtype or self.row_shape != () or not 0 <= start <= stop <= source.length:
            raise ValueError(f"{source.path.name} values {start}..{stop} cannot be copied into {self.path.name}")
        self._file.flush()
        length = (stop - start) * self.dtype.itemsize
        at, position, done = source.start + start * self.dtype.itemsize, self._file.tell(), 0
        with contextlib.suppress(OSError):  # another file system, an old kernel: the rest copied below
            while done < length:
                copied = os.copy_file_range(
                    source.file.fileno(), self._file.fileno(), length - done, at + done, position + done
                )
                if not copied:
                    break
                done += copied
        self._file.seek(position + done)
        while done < length:
            source.file.seek(at + done)
            part = source.file.read(min(length - done, 1 << 24))
            if not part:
                raise ValueError(f"{source.path.name} is shorter than its header says")
            self._file.write(part)
            done += len(part)
        self.written += stop - start

    def close(self) -> None:
        with self._file:
            if self.rows is not None and self.written != self.rows:
                raise ValueError(f"{self.path.name} got {self.written} rows, not {self.rows}")
            header = npy_header(self.dtype, (self.written, *self.row_shape))
            if len(header) != len(self._header):
                raise ValueError(f"{self.path.name}: the header of {self.written} rows does not fit its place")
            if header != self._header:
                self._file.seek(0)
                self._file.write(header)

    def __enter__(self) -> NpyWriter:
        return self

    def __exit__(self, kind: type | None, error: BaseException | None, trace: TracebackType | None) -> None:
        if kind is None:
            self.close()
        else:
            self._file.close()


class NpyBlocks:
    """The values of a one-dimensional ``.npy`` file read a slice at a time (an open file; ``with`` closes it)."""

    def __init__(self, path: Path, mode: str = "rb") -> None:
        self.path = path
        self.file = cast(io.BufferedIOBase, open(path, mode))  # noqa: SIM115 - closed by close()
        try:
            shape, self.dtype, self.start = npy_layout(cast(BinaryIO, self.file), path.name)
            if len(shape) != 1:
                raise ValueError(f"{path.name}: not a one-dimensional array of numbers")
        except BaseException:
            self.file.close()
            raise
        self.length = int(shape[0])

    def read(self, start: int, stop: int) -> np.ndarray:
        """Values ``start`` to ``stop`` - 1."""
        values = np.empty(max(stop - start, 0), dtype=self.dtype)
        self.file.seek(self.start + start * self.dtype.itemsize)
        if self.file.readinto(values.data.cast("B")) != values.nbytes:
            raise ValueError(f"{self.path.name} is shorter than its header says")
        return values

    def overwrite(self, start: int, values: np.ndarray) -> None:
        """Replace values from ``start`` on (a file opened with mode ``"r+b"``)."""
        self.file.seek(self.start + start * self.dtype.itemsize)
        self.file.write(np.ascontiguousarray(values, dtype=self.dtype).data)

    def close(self) -> None:
        self.file.close()

    def __enter__(self) -> NpyBlocks:
        return self

    def __exit__(self, *exception: object) -> None:
        self.close()


class RowReader(ABC):
    """Rows of one width read on demand (``RowFile``, ``StackedRows``), indexed like the 2-d array they stand for:
    ``[slice]`` and ``[row numbers]`` return new arrays, ``np.asarray`` reads every row."""

    shape: tuple[int, int]
    dtype: np.dtype

    @abstractmethod
    def read(self, start: int, count: int, into: np.ndarray | None = None) -> np.ndarray:
        """``count`` rows from row ``start``, in a new array or ``into``."""

    @abstractmethod
    def rows(self, numbers: np.ndarray) -> np.ndarray:
        """The rows ``numbers`` (a 1-d array of row numbers), in that order."""

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def ndim(self) -> int:
        return 2

    def __getitem__(self, key: slice | np.ndarray) -> np.ndarray:
        if isinstance(key, slice):
            start, stop, step = key.indices(len(self))
            if step == 1:
                return self.read(start, max(0, stop - start))
            key = np.arange(start, stop, step)
        return self.rows(np.asarray(key))

    def __array__(self, dtype: np.dtype | None = None, copy: bool | None = None) -> np.ndarray:
        whole = self.read(0, len(self))
        return whole if dtype is None else whole.astype(dtype, copy=False)


def pread_into(fd: int, buffer: memoryview, position: int) -> bool:
    """Fill ``buffer`` with the file's bytes from ``position`` on (``os.preadv`` until it is full); False when the
    file ends first."""
    while len(buffer):
        got = os.preadv(fd, [buffer], position)
        if got == 0:
            return False
        buffer, position = buffer[got:], position + got
    return True


class RowFile(RowReader):
    """The rows of a 2-d C-ordered array stored in ``path`` from byte ``offset`` on, read with file reads.

    Indexed like the array it stores with a slice (``rows[a:b]``) or an array of row numbers (any order; read a
    run of consecutive rows at a time), it returns new arrays; ``np.asarray`` reads it whole."""

    def __init__(
        self, path: Path, shape: tuple[int, int], dtype: np.dtype | type = np.float32, offset: int = 0
    ) -> None:
        self.path, self.dtype, self.offset = Path(path), np.dtype(dtype), int(offset)
        self.shape = (int(shape[0]), int(shape[1]))
        self._row_bytes = self.shape[1] * self.dtype.itemsize
        self._fd = os.open(self.path, os.O_RDONLY)
        self._closer = weakref.finalize(self, os.close, self._fd)

    @classmethod
    def npy(cls, path: Path) -> RowFile:
        """The rows of a 2-d ``.npy`` file."""
        with open(path, "rb") as file:
            shape, dtype, offset = npy_layout(file, Path(path).name)
        if len(shape) != 2:
            raise ValueError(f"{Path(path).name} holds no C-ordered rows ({shape})")
        return cls(path, (shape[0], shape[1]), dtype, offset)

    @classmethod
    def of(cls, array: np.ndarray) -> RowFile | np.ndarray:
        """The file behind ``array`` when it is a whole mapped 2-d file (``np.load(mmap_mode=...)``), else
        ``array`` itself: either is read the same way (``[slice]``, ``[rows]``)."""
        whole_file = isinstance(array.base, mmap.mmap) and array.ndim == 2 and array.flags.c_contiguous
        if isinstance(array, np.memmap) and whole_file and array.filename:
            return cls(Path(array.filename), array.shape, array.dtype, array.offset)
        return array

    def read(self, start: int, count: int, into: np.ndarray | None = None) -> np.ndarray:
        """``count`` rows from row ``start``, in a new array or ``into`` (C-ordered rows of this file's width)."""
        rows = np.empty((count, self.shape[1]), dtype=self.dtype) if into is None else into
        if rows.shape != (count, self.shape[1]) or rows.dtype != self.dtype or not rows.flags.c_contiguous:
            raise ValueError(f"{rows.shape} {rows.dtype} rows cannot hold {count} rows of {self.path.name}")
        self._fill(rows, start)
        return rows

    def rows(self, numbers: np.ndarray) -> np.ndarray:
        """The rows ``numbers`` (a 1-d array of row numbers), in that order."""
        numbers = np.asarray(numbers, dtype=np.int64)
        rows = np.empty((len(numbers), self.shape[1]), dtype=self.dtype)
        if not len(numbers):
            return rows
        if numbers.min() < 0 or numbers.max() >= len(self):
            raise IndexError(f"row numbers outside the {len(self)} rows of {self.path.name}")
        breaks = np.flatnonzero(np.diff(numbers) != 1) + 1  # where a run of consecutive rows ends
        starts = np.concatenate(([0], breaks)).tolist()
        for first, end in zip(starts, [*breaks.tolist(), len(numbers)]):
            self._fill(rows[first:end], int(numbers[first]))
        return rows

    def blocks(self, step: int = BLOCK_ROWS) -> Iterator[np.ndarray]:
        """Every row, ``step`` rows at a time, in order."""
        for start in range(0, len(self), step):
            yield self.read(start, min(step, len(self) - start))

    def close(self) -> None:
        self._closer()

    def _fill(self, rows: np.ndarray, start: int) -> None:
        if start < 0 or start + len(rows) > len(self):
            raise IndexError(f"rows {start}..{start + len(rows)} outside the {len(self)} rows of {self.path.name}")
        if not rows.size:
            return
        view = rows.reshape(-1).view(np.uint8).data  # the rows' bytes, written in place
        if not pread_into(self._fd, view, self.offset + start * self._row_bytes):
            raise EOFError(f"{self.path.name} ends before its row {start + len(rows)}")


class StackedRows(RowReader):
    """The rows of several 2-d arrays or ``RowFile``s of one width, read as one array (a layered generation's base
    rows, then the rows added since: ``index/layered_vectors.py``). Indexed like ``RowFile``: ``[slice]``,
    ``[row numbers]``, ``read``; ``np.asarray`` reads it whole."""

    def __init__(self, layers: Sequence[np.ndarray | RowFile]) -> None:
        if not layers or len({layer.shape[1] for layer in layers}) != 1:
            raise ValueError("stacked rows need layers of one width")
        self.layers = list(layers)
        self.starts = np.cumsum([0] + [len(layer) for layer in layers])  # each layer's first row
        self.shape = (int(self.starts[-1]), int(layers[0].shape[1]))
        self.dtype = np.dtype(layers[0].dtype)

    def files(self) -> StackedRows:
        """The same rows read with file reads where a layer is a mapped file (``RowFile.of``)."""
        return StackedRows([layer if isinstance(layer, RowFile) else RowFile.of(layer) for layer in self.layers])

    def read(self, start: int, count: int, into: np.ndarray | None = None) -> np.ndarray:
        """``count`` rows from row ``start``, in a new array or ``into``."""
        rows = np.empty((count, self.shape[1]), dtype=self.dtype) if into is None else into
        if start < 0 or start + count > len(self) or rows.shape != (count, self.shape[1]):
            raise IndexError(f"rows {start}..{start + count} outside the {len(self)} stacked rows")
        for layer, first in zip(self.layers, self.starts[:-1].tolist()):
            begin, end = max(start, first), min(start + count, first + len(layer))
            if begin < end:
                rows[begin - start : end - start] = layer[begin - first : end - first]
        return rows

    def rows(self, numbers: np.ndarray) -> np.ndarray:
        """The rows ``numbers`` (a 1-d array of row numbers), in that order."""
        numbers = np.asarray(numbers, dtype=np.int64)
        if len(numbers) and (numbers.min() < 0 or numbers.max() >= len(self)):
            raise IndexError(f"row numbers outside the {len(self)} stacked rows")
        rows = np.empty((len(numbers), self.shape[1]), dtype=self.dtype)
        layer_of = np.searchsorted(self.starts, numbers, side="right") - 1
        for number, layer in enumerate(self.layers):
            mine = np.flatnonzero(layer_of == number)
            if len(mine):
                rows[mine] = layer[numbers[mine] - int(self.starts[number])]
        return rows

    def close(self) -> None:
        for layer in self.layers:
            if isinstance(layer, RowFile):
                layer.close()


Rows = np.ndarray | RowFile | StackedRows  # rows of vectors in memory, in a file, or in layers read as one


def changes_only_delta(old_row_of: np.ndarray, base: int, previous_rows: int, with_dead: bool = False) -> bool:
    """Whether an update (``old_row_of``: each row's row among the ``previous_rows``, -1 for a new one) keeps the
    previous base's ``base`` rows where they are and changes only what follows: appends rows, or removes or
    replaces rows of the previous delta (the kept ones in their order), and leaves some row after the base. It may
    then write a delta on that base. ``with_dead``: the update also marks rows of the base dead (``dead_rows.py``),
    a change of its own, and may leave no row after the base."""
    if len(old_row_of) < base or not np.array_equal(old_row_of[:base], np.arange(base)):
        return False
    after = old_row_of[base:]
    kept = after[after >= 0]
    changes = len(after) != previous_rows - base or len(kept) != len(after)  # not the previous generation again
    return (with_dead or (len(after) > 0 and changes)) and bool(
        np.all((kept >= base) & (kept < previous_rows)) and np.all(np.diff(kept) > 0)
    )


def write_taken_rows(
    path: Path, old: RowReader | np.ndarray | None, old_row_of: np.ndarray, fresh: np.ndarray, dimension: int
) -> None:
    """Write an ``.npy`` file of ``len(old_row_of)`` float32 rows: row ``i`` is ``old``'s row ``old_row_of[i]``, or,
    where that is -1, the next row of ``fresh``; ``BLOCK_ROWS`` rows at a time."""
    fresh_done = 0  # new rows written so far
    buffer = np.empty((min(BLOCK_ROWS, len(old_row_of)), dimension), dtype=np.float32)
    with NpyWriter(path, np.float32, (dimension,), len(old_row_of)) as out:
        for start in range(0, len(old_row_of), BLOCK_ROWS):
            old_rows = old_row_of[start : start + BLOCK_ROWS]
            block = buffer[: len(old_rows)]
            kept = old_rows >= 0
            if kept.any():
                assert old is not None
                block[kept] = old[old_rows[kept]]
            count = len(old_rows) - int(kept.sum())
            block[~kept] = fresh[fresh_done : fresh_done + count]
            fresh_done += count
            out.write(block)
