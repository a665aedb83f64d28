"""Optional answers written by an LLM over any OpenAI-compatible Chat Completions API, in the asker's language,
grounded in the retrieved passages and verified sentence by sentence before anything is sent.

``LlmSettings.from_env()`` reads LLM_*; ``LlmAnswerer(settings).answer(extractive_answer, hits)`` returns an
``LlmAnswer`` (``Engine.ask_with_llm`` does both steps). The extractive answer stays the default, and the
fallback whenever the model fails or nothing it wrote can be checked against the passages.
"""

from index.llm.answering import LlmAnswer, LlmAnswerer, LlmStats
from index.llm.settings import LlmSettings

__all__ = ["LlmAnswer", "LlmAnswerer", "LlmSettings", "LlmStats"]
