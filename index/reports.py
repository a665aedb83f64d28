"""Summaries of builds and of an index's contents."""

from __future__ import annotations

from dataclasses import dataclass, field

from .documents import LoadProblem


@dataclass
class BuildReport:
    """What a build, add or remove did."""

    added: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0
    problems: list[LoadProblem] = field(default_factory=list)
    articles: int = 0  # articles in the index afterwards
    chunks: int = 0  # chunks in the index afterwards
    embedded_chunks: int = 0  # chunks encoded by this run
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"{self.articles} articles, {self.chunks} chunks in the index: "
            f"{self.added} added, {self.changed} changed, {self.unchanged} unchanged, "
            f"{self.removed} removed, {len(self.problems)} skipped "
            f"({self.embedded_chunks} chunks embedded in {self.seconds:.1f} s)."
        )


@dataclass(frozen=True)
class IndexStats:
    """What an index holds."""

    articles: int
    chunks: int
    sources: dict[str, int]  # outlet -> article count
    newest_published: str  # "" when no article has a date
    built_at: str  # ISO 8601 UTC
    model_id: str
    manifest: dict
