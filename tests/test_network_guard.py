"""The guard of tests/conftest.py: a test reaches this machine only, and a swallowed attempt still counts."""

from __future__ import annotations

import socket

import httpx
import pytest

from tests.local_http import ENGLISH, serving


def test_a_connection_to_another_machine_is_refused_and_recorded(_network_attempts: list[str]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock, pytest.raises(AssertionError, match="192.0.2.1"):
        sock.connect(("192.0.2.1", 80))  # TEST-NET-1: never routed
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock, pytest.raises(AssertionError):
        sock.connect_ex(("2001:db8::1", 80, 0, 0))
    with pytest.raises(AssertionError, match="a name lookup"):
        socket.getaddrinfo("example.com", 443)
    assert len(_network_attempts) == 3
    _network_attempts.clear()  # else this test fails at teardown, as it should for any other test


def test_an_attempt_the_code_swallowed_is_still_seen(_network_attempts: list[str]) -> None:
    try:
        httpx.get("http://example.com/", timeout=1)
    except BaseException:  # as careless code might
        pass
    assert _network_attempts == ["'example.com' (a name lookup)"]
    _network_attempts.clear()


def test_this_machine_is_reachable() -> None:
    with serving() as server:
        url = server.route("/en", ENGLISH)
        assert httpx.get(url, timeout=5).status_code == 200
        assert httpx.get(url.replace("127.0.0.1", "localhost"), timeout=5).status_code == 200
    assert socket.getaddrinfo("93.184.216.34", 80)  # an address literal asks no name server
