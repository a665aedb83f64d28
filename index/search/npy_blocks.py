"""One-dimensional ``.npy`` files written and read a block at a time with plain file reads and writes (no memory
map: the pages of a mapped file a process touches count in its resident memory). A file written here is the
file ``np.save`` writes of the whole array, byte for byte."""

from __future__ import annotations

import io
from pathlib import Path
from types import TracebackType
from typing import cast

import numpy as np


def _header(dtype: np.dtype, length: int) -> bytes:
    """The header ``np.save`` writes before ``length`` values of ``dtype`` (numpy pads it so that its length does
    not depend on the length of the array, to let a file grow in place)."""
    header = io.BytesIO()
    description = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": (length,)}
    np.lib.format.write_array_header_1_0(header, description)
    return header.getvalue()


class NpyWriter:
    """An ``.npy`` file of one dimension written a block at a time; its header, written first, gets the length
    written when the file is closed (or must be given, ``length``, and is then checked)."""

    def __init__(self, path: Path, dtype: np.dtype | type, length: int | None = None) -> None:
        self.dtype = np.dtype(dtype)
        self.written = 0
        self._expected = length
        self._header = _header(self.dtype, length or 0)
        self._file = open(path, "w+b")  # noqa: SIM115 - closed by close()
        self._file.write(self._header)

    def write(self, values: np.ndarray) -> None:
        values = np.ascontiguousarray(values, dtype=self.dtype)
        self._file.write(values.data)
        self.written += len(values)

    def close(self) -> None:
        with self._file:
            if self._expected is not None and self.written != self._expected:
                raise ValueError(f"{self._file.name}: {self.written} values written, {self._expected} expected")
            header = _header(self.dtype, self.written)
            if len(header) != len(self._header):
                raise ValueError(f"{self._file.name}: the header of {self.written} values does not fit its place")
            if header != self._header:
                self._file.seek(0)
                self._file.write(header)

    def __enter__(self) -> NpyWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None):
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
            version = np.lib.format.read_magic(self.file)
            read = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
            if version not in read:
                raise ValueError(f"{path.name}: .npy version {version} is not read here")
            shape, fortran_order, self.dtype = read[version](self.file)
            if len(shape) != 1 or fortran_order or self.dtype.hasobject:
                raise ValueError(f"{path.name}: not a one-dimensional array of numbers")
        except BaseException:
            self.file.close()
            raise
        self.length = int(shape[0])
        self._start = self.file.tell()

    def read(self, start: int, stop: int) -> np.ndarray:
        """Values ``start`` to ``stop`` - 1."""
        values = np.empty(max(stop - start, 0), dtype=self.dtype)
        self.file.seek(self._start + start * self.dtype.itemsize)
        if self.file.readinto(values.data.cast("B")) != values.nbytes:
            raise ValueError(f"{self.path.name} is shorter than its header says")
        return values

    def overwrite(self, start: int, values: np.ndarray) -> None:
        """Replace values from ``start`` on (a file opened with mode ``"r+b"``)."""
        self.file.seek(self._start + start * self.dtype.itemsize)
        self.file.write(np.ascontiguousarray(values, dtype=self.dtype).data)

    def close(self) -> None:
        self.file.close()

    def __enter__(self) -> NpyBlocks:
        return self

    def __exit__(self, *exception: object) -> None:
        self.close()
