"""Sliding-window question limits, with a clock the tests move."""

from __future__ import annotations

from bot.ratelimit import QuestionLimiter, SlidingWindow


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_sliding_window_frees_up_as_old_events_leave_it():
    clock = Clock()
    window = SlidingWindow(limit=2, window=60, clock=clock)
    window.record("alice")
    clock.now += 10
    window.record("alice")
    assert window.wait_time("alice") == 50
    clock.now += 50
    assert window.wait_time("alice") == 0
    assert window.wait_time("bob") == 0


def test_a_limit_of_zero_means_no_limit():
    window = SlidingWindow(limit=0, window=60, clock=Clock())
    for _ in range(1000):
        window.record("alice")
    assert window.wait_time("alice") == 0 and len(window) == 0


def test_users_are_limited_and_warned_once_per_refusal_streak():
    clock = Clock()
    limiter = QuestionLimiter(per_user=2, per_chat=100, clock=clock)
    assert limiter.check(1, 1).allowed and limiter.check(1, 1).allowed
    first, second = limiter.check(1, 1), limiter.check(1, 1)
    assert not first.allowed and first.notify and first.scope == "user" and first.retry_after == 60
    assert not second.allowed and not second.notify
    assert limiter.check(2, 2).allowed  # someone else
    clock.now += 60
    assert limiter.check(1, 1).allowed
    limiter.check(1, 1)
    assert limiter.check(1, 1).notify  # a new streak gets a new warning


def test_a_chat_is_limited_across_its_members():
    limiter = QuestionLimiter(per_user=10, per_chat=3, clock=Clock())
    verdicts = [limiter.check(user_id, -100) for user_id in (1, 2, 3, 4)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert verdicts[-1].scope == "chat"


def test_refused_questions_do_not_count():
    clock = Clock()
    limiter = QuestionLimiter(per_user=1, per_chat=100, clock=clock)
    limiter.check(1, 1)
    for _ in range(10):
        clock.now += 5
        limiter.check(1, 1)
    clock.now = 1060.0
    assert limiter.check(1, 1).allowed


def test_memory_follows_active_users_only():
    clock = Clock()
    window = SlidingWindow(limit=5, window=60, clock=clock)
    for user_id in range(3000):
        window.record(user_id)
        clock.now += 0.1
    assert len(window) <= 601  # pruned at every 1000th record: only the last minute remains
