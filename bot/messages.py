"""What the bot says, apart from answers: greetings, help, refusals, one-line explanations."""

from __future__ import annotations

import html

from index.reports import BuildReport, IndexStats

from .formatting import isolate

EXAMPLE_QUESTION = "who met Haftar?"
APOLOGY = "Sorry, something went wrong while answering; please try again later."
NO_INDEX = "I have no articles indexed yet; an admin can build the index with /reindex."
INDEX_MISMATCH = "My index was built with another model and must be rebuilt; an admin can do it with /reindex."
INDEX_BUILDING = "I am still building my index of the articles; please ask again in a minute."
NOT_ADMIN = "Sorry, only the bot's admins can rebuild the index."
TEXT_ONLY = "I can only read text: send me your question about the articles as a message."
NO_ANSWER_YET = "There is no answer in this chat yet; ask a question first, then /sources shows its passages."
ANSWER_FORGOTTEN = "I no longer have that answer; please ask again."
SOURCES_BUTTON = "Show full passages"

COMMANDS = (
    ("ask", "Ask a question about the articles"),
    ("sources", "Full passages behind the last answer"),
    ("stats", "What the index holds and when it was built"),
    ("help", "How to ask, and the commands"),
    ("start", "What I know and how to ask"),
    ("reindex", "Rebuild the index from the articles (admins only)"),
)


def _h(text: str) -> str:
    return html.escape(isolate(text), quote=False)


def _outlets(stats: IndexStats, shown: int = 5) -> str:
    ranked = sorted(stats.sources.items(), key=lambda item: (-item[1], item[0]))
    names = [_h(name) for name, _ in ranked[:shown] if name]
    more = len(ranked) - shown
    if not names:
        return ""
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")


def how_to_ask(username: str) -> str:
    return (
        f"Send me a question in this chat, e.g. “{EXAMPLE_QUESTION}”. In a group, mention me "
        f"(@{_h(username)} your question), reply to one of my messages, or use /ask your question."
    )


def greeting(stats: IndexStats | None, username: str) -> str:
    """The /start text: what the bot knows (from the index's stats) and how to ask."""
    if stats is None:
        knows = "I answer questions about news articles and cite them, but my index is not built yet."
    else:
        outlets = _outlets(stats)
        newest = f", the newest from {_h(stats.newest_published[:10])}" if stats.newest_published else ""
        knows = (
            f"I answer questions about {stats.articles} news article{'s' if stats.articles != 1 else ''}"
            + (f" from {outlets}" if outlets else "")
            + f"{newest}, in Arabic and English, and I quote the passages I rely on."
        )
    return f"Hello! {knows}\n\n{how_to_ask(username)}\n\n/help lists my commands."


def help_text(username: str) -> str:
    commands = "\n".join(f"/{name} — {description}" for name, description in COMMANDS)
    return f"{how_to_ask(username)}\n\n{commands}"


def _size(size_bytes: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size_bytes < 1024 or unit == "GB":
            return f"{size_bytes:.0f} {unit}" if unit == "bytes" else f"{size_bytes:.1f} {unit}"
        size_bytes /= 1024
    raise AssertionError("unreachable")


def stats_html(stats: IndexStats, size_bytes: int) -> str:
    """The /stats text: index size and build time."""
    lines = [
        "<b>Index</b>",
        f"Articles: {stats.articles}",
        f"Passages: {stats.chunks}",
        f"Outlets: {_outlets(stats, shown=10) or '—'}",
        f"Newest article: {_h(stats.newest_published[:10]) or '—'}",
        f"Built: {_h(stats.built_at) or '—'}",
        f"Model: {_h(stats.model_id) or '—'}",
        f"Size on disk: {_size(size_bytes)}",
    ]
    return "\n".join(lines)


def slow_down(scope: str, retry_after: float, per_minute: int) -> str:
    who = "you" if scope == "user" else "this chat"
    return f"Slow down, please: {who} can ask {per_minute} questions a minute; try again in {max(1, round(retry_after))} seconds."


def rebuild_started(sources: tuple[str, ...]) -> str:
    return f"Rebuilding the index from {_h(', '.join(sources))}… I keep answering from the current index meanwhile."


def rebuild_progress(sources: tuple[str, ...], progress: tuple[str, int, int] | None) -> str:
    if progress is None:
        return rebuild_started(sources)
    stage, done, total = progress
    share = f" ({100 * done // total}%)" if total else ""
    return f"Rebuilding the index… {_h(stage)}: {done} of {total}{share}. I keep answering from the current index meanwhile."


def rebuild_done(report: BuildReport) -> str:
    lines = [f"Rebuilt the index: {_h(report.summary())}"]
    lines += [f"• {_h(str(problem))}" for problem in report.problems[:10]]
    if len(report.problems) > 10:
        lines.append(f"• and {len(report.problems) - 10} more skipped inputs")
    return "\n".join(lines)


def rebuild_failed(reason: str) -> str:
    return f"The rebuild failed: {_h(reason)} I keep answering from the previous index."
