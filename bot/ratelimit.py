"""Per-user and per-chat sliding-window limits on questions."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    """Whether a question may be answered; if not, how long to wait and whether to say so."""

    allowed: bool
    retry_after: float = 0.0  # seconds until the oldest counted question leaves the window
    scope: str = ""  # "user" or "chat" when refused
    notify: bool = False  # True for the first refusal in a row, so the "slow down" reply is sent once


class SlidingWindow:
    """At most ``limit`` events per key in any ``window`` seconds (``limit == 0``: no limit)."""

    def __init__(self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._events: dict[Hashable, deque[float]] = {}
        self._records_since_prune = 0

    def _recent(self, key: Hashable, now: float) -> deque[float]:
        events = self._events.get(key)
        if events is None:
            return deque()
        while events and events[0] <= now - self.window:
            events.popleft()
        if not events:
            del self._events[key]
        return events

    def wait_time(self, key: Hashable) -> float:
        """Seconds until ``key`` may have another event; 0.0 when it may now."""
        if not self.limit:
            return 0.0
        now = self._clock()
        events = self._recent(key, now)
        if len(events) < self.limit:
            return 0.0
        return max(events[0] + self.window - now, 0.0)

    def record(self, key: Hashable) -> None:
        if not self.limit:
            return
        now = self._clock()
        self._events.setdefault(key, deque()).append(now)
        self._records_since_prune += 1
        if self._records_since_prune >= 1000:
            self._prune(now)

    def _prune(self, now: float) -> None:
        """Forget keys whose events have all left the window, so memory follows active keys only."""
        self._records_since_prune = 0
        for key in list(self._events):
            self._recent(key, now)

    def __len__(self) -> int:
        """How many keys have events in memory."""
        return len(self._events)


class QuestionLimiter:
    """Questions per user and per chat, each in a sliding window (one minute by default)."""

    def __init__(
        self, per_user: int, per_chat: int, clock: Callable[[], float] = time.monotonic, window: float = 60.0
    ) -> None:
        self.users = SlidingWindow(per_user, window, clock)
        self.chats = SlidingWindow(per_chat, window, clock)
        self._clock = clock
        self._warned_until: dict[tuple[str, Hashable], float] = {}  # refused keys, until their window frees

    def check(self, user_id: int | None, chat_id: int) -> Verdict:
        """Count a question if it is allowed; otherwise say how long to wait."""
        now = self._clock()
        self._forget_old_warnings(now)
        keys = (("user", self.users, user_id), ("chat", self.chats, chat_id))
        for scope, windows, key in keys:
            wait = windows.wait_time(key) if key is not None else 0.0
            if wait > 0:
                notify = (scope, key) not in self._warned_until
                self._warned_until[(scope, key)] = now + wait
                return Verdict(False, wait, scope, notify)
        for _scope, windows, key in keys:
            if key is not None:
                windows.record(key)
        return Verdict(True)

    def _forget_old_warnings(self, now: float) -> None:
        for scope_key in [scope_key for scope_key, until in self._warned_until.items() if until <= now]:
            del self._warned_until[scope_key]
