"""The answer of the LLM step for the command line and the terminal chat, as text or JSON, with where it came
from (the LLM or the extractive path)."""

from __future__ import annotations

from index.answer.render import answer_as_json, answer_as_text
from index.llm.answering import LlmAnswer
from index.records import Answer


def answer_text(extractive: Answer, llm: LlmAnswer | None) -> str:
    """The shown answer as plain text; with an LLM configured, a last line says where it came from."""
    if llm is None:
        return answer_as_text(extractive)
    return f"{answer_as_text(llm.shown(extractive))}\n\n{llm.origin}"


def answer_json(extractive: Answer, llm: LlmAnswer | None, seconds: float | None = None) -> dict:
    """``answer_as_json`` of the shown answer, with ``answered_by`` ("llm" or "extractive") and ``llm`` (what the
    LLM step did, or null without an LLM)."""
    data = answer_as_json(llm.shown(extractive) if llm else extractive, seconds)
    data["answered_by"] = llm.answered_by if llm else "extractive"
    data["llm"] = llm.to_json() if llm else None
    return data
