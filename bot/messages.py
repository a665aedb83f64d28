"""What the bot says, apart from answers: greetings, help, refusals, one-line explanations."""

from __future__ import annotations

import html

from index import Added, Article, BuildReport, IndexStats

from .formatting import article_line_html, isolate

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

NOT_ADMIN_ADD = "Sorry, only the bot's admins can add articles."
ADD_USAGE = "Send /add followed by the article's link, e.g. /add https://www.example.com/news/story"
NO_LATEST = "I have no articles indexed yet."
LATEST_SHOWN = 10  # articles /latest lists


def commands(everyone_may_add: bool = False) -> tuple[tuple[str, str], ...]:
    """The commands, as /help lists them and Telegram's command menu shows them."""
    return (
        ("ask", "Ask a question about the articles"),
        ("sources", "Full passages behind the last answer"),
        ("latest", "The newest articles I know"),
        ("stats", "What the index holds and when it was built"),
        ("help", "How to ask, and the commands"),
        ("start", "What I know and how to ask"),
        ("add", "Add an article by its link" + ("" if everyone_may_add else " (admins only)")),
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


def help_text(username: str, everyone_may_add: bool = False) -> str:
    listed = "\n".join(f"/{name} — {description}" for name, description in commands(everyone_may_add))
    return f"{how_to_ask(username)}\n\n{listed}"


def _size(size_bytes: int) -> str:
    size = float(size_bytes)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
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
    seconds = max(1, round(retry_after))
    return f"Slow down, please: {who} can ask {per_minute} questions a minute; try again in {seconds} seconds."


def rebuild_started(sources: tuple[str, ...]) -> str:
    return f"Rebuilding the index from {_h(', '.join(sources))}… I keep answering from the current index meanwhile."


def rebuild_progress(sources: tuple[str, ...], progress: tuple[str, int, int] | None) -> str:
    if progress is None:
        return rebuild_started(sources)
    stage, done, total = progress
    share = f" ({100 * done // total}%)" if total else ""
    return (
        f"Rebuilding the index… {_h(stage)}: {done} of {total}{share}. "
        "I keep answering from the current index meanwhile."
    )


def rebuild_done(report: BuildReport) -> str:
    lines = [f"Rebuilt the index: {_h(report.summary())}"]
    lines += [f"• {_h(str(problem))}" for problem in report.problems[:10]]
    if len(report.problems) > 10:
        lines.append(f"• and {len(report.problems) - 10} more skipped inputs")
    return "\n".join(lines)


def rebuild_failed(reason: str) -> str:
    return f"The rebuild failed: {_h(reason)} I keep answering from the previous index."


def latest_html(articles: list[Article]) -> str:
    """The /latest text: the newest articles, newest first."""
    if not articles:
        return NO_LATEST
    lines = [f"{number}. {article_line_html(article)}" for number, article in enumerate(articles, start=1)]
    return "<b>Newest articles</b>\n" + "\n".join(lines)


URL_SHOWN = 200  # characters of a link an /add status shows: any link leaves every edit under Telegram's limit
REASON_SHOWN = 600  # characters of a reason it shows


def short_url(url: str, limit: int = URL_SHOWN) -> str:
    """``url`` as a status shows it: whole up to ``limit`` characters, else its start and its end around "…"."""
    if len(url) <= limit:
        return url
    head = (limit - 1) * 2 // 3
    return f"{url[:head]}…{url[len(url) - (limit - 1 - head) :]}"


def _reason(reason: str, url: str) -> str:
    """A failure's reason, with the link in it shortened, and itself at most REASON_SHOWN characters."""
    return _h(short_url(reason.replace(url, short_url(url)) if url else reason, REASON_SHOWN))


def adding(url: str, waiting_for: str = "") -> str:
    """The /add status while it works; ``waiting_for`` names the index job it waits for, if any."""
    after = f" once the running {_h(waiting_for)} of the index has ended" if waiting_for else ""
    return f"Fetching {_h(short_url(url))}{after} …"


def added_html(url: str, added: Added) -> str:
    """The result of /add: the article indexed (title, outlet, date), or the one-line reason it was not."""
    new, unchanged = added.new, added.unchanged
    if not new and not unchanged:
        if not added.problems:
            return f"I could not add {_h(short_url(url))}: I found no article there."
        return f"I could not add {_h(short_url(url))}: {_reason(added.problems[0].reason, url)}"
    report = added.report
    if len(new) + len(unchanged) == 1:
        if unchanged:
            return f"Already in the index, unchanged: {article_line_html(unchanged[0])}"
        verb = "Updated in the index" if report is not None and report.changed else "Added to the index"
        return f"{verb}: {article_line_html(new[0])}"
    lines = [
        f"Added {len(new)} article{'s' if len(new) != 1 else ''} from that feed"
        + (f" ({len(unchanged)} already in the index)" if unchanged else "")
        + ":"
    ]
    lines += [f"• {article_line_html(article)}" for article in new[:5]]
    if len(new) > 5:
        lines.append(f"• and {len(new) - 5} more")
    if added.problems:
        lines.append(f"{len(added.problems)} could not be added, e.g. {_reason(str(added.problems[0]), url)}")
    return "\n".join(lines)


def add_failed(url: str, reason: str) -> str:
    return f"I could not add {_h(short_url(url))}: {_reason(reason, url)}"
