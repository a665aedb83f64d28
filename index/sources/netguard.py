"""Guarded HTTP GETs: public http(s) hosts only, bounded in size and time, retried when transient."""

from __future__ import annotations

import ipaddress
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import httpcore
import httpx
from httpcore import SOCKET_OPTION

logger = logging.getLogger(__name__)

MAX_REDIRECTS = 10
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
TRANSIENT_CODES = frozenset({429, 500, 502, 503, 504})


def is_private_address(address: str) -> bool:
    """True when an IP address is loopback, private, link-local, multicast, reserved or unspecified."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # ::ffff:a.b.c.d connects to a.b.c.d
            return is_private_address(str(ip.ipv4_mapped))
        embedded = ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and is_private_address(str(embedded)):
            return True
    return (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


class AddressRefused(Exception):
    """A connection the guard refused; ``str()`` is one sentence."""


class AddressGuard:
    """Vets where a URL may be fetched from, and remembers the addresses it vetted.

    Each host is resolved once per request (``refusal``); the connection then goes to one of
    those very addresses (``addresses``, used by ``PinnedBackend``), so a resolver that answers
    differently the second time (DNS rebinding) cannot switch the connection to a private one.
    """

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private
        self._lock = threading.Lock()
        self._vetted: dict[str, list[str]] = {}  # host -> the addresses it resolved to when last vetted

    def refusal(self, url: httpx.URL) -> str | None:
        """Why ``url`` must not be fetched, as one sentence, or None when it may be."""
        if url.scheme not in ("http", "https"):
            if not url.scheme:
                return "it is not a web address (it does not start with http:// or https://)"
            return f"only http and https URLs can be fetched, not {url.scheme}"
        if not url.host:
            return "the URL has no host"
        if self.allow_private:
            return None
        try:
            self._vet(url.raw_host.decode("ascii"))
        except AddressRefused as exc:
            return str(exc)
        except UnicodeError as exc:
            return f"the host {url.host} could not be resolved ({exc})"
        return None

    def addresses(self, host: str) -> list[str]:
        """The addresses a connection to ``host`` may go to: those vetted last, or, when the host was
        not vetted before (or private addresses are allowed), its addresses vetted now."""
        with self._lock:
            vetted = self._vetted.get(host)
        return vetted or self._vet(host)

    def _vet(self, host: str) -> list[str]:
        try:
            infos = socket.getaddrinfo(host, 80, proto=socket.IPPROTO_TCP)
        except OSError as exc:
            raise AddressRefused(f"the host {host} could not be resolved ({exc})") from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if not addresses:
            raise AddressRefused(f"the host {host} could not be resolved (no addresses)")
        if not self.allow_private and any(is_private_address(address) for address in addresses):
            raise AddressRefused(f"refused: {host} resolves to a private address (set FETCH_ALLOW_PRIVATE=1 to allow)")
        with self._lock:
            self._vetted[host] = addresses
        return addresses


class PinnedBackend(httpcore.NetworkBackend):
    """httpcore's network backend, connecting only to the addresses the guard vetted for a host.

    TLS still names the host (SNI, and the certificate is checked against it): httpcore passes the
    URL's host as ``server_hostname``, and the Host header comes from the URL, not the address."""

    def __init__(self, guard: AddressGuard) -> None:
        self._guard = guard
        self._system = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        failure: httpcore.ConnectError | None = None
        for address in self._guard.addresses(host):
            try:
                return self._system.connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                failure = exc
        raise failure or httpcore.ConnectError(f"no address to connect to for {host}")

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[SOCKET_OPTION] | None = None
    ) -> httpcore.NetworkStream:
        raise AddressRefused("connections through Unix sockets are not allowed")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class PinnedTransport(httpx.HTTPTransport):
    """httpx's transport with connections through ``PinnedBackend``. It reads no proxy from the
    environment: a proxy would resolve the host again. ``ssl_context`` defaults to httpx's (certifi)."""

    def __init__(self, guard: AddressGuard, limits: httpx.Limits, ssl_context: ssl.SSLContext | None = None) -> None:
        # httpx has no public way to give its transport a network backend: its pool is built here instead
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context or httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=PinnedBackend(guard),
        )


def _redirect_target(current: httpx.URL, location: str) -> httpx.URL:
    try:
        return current.join(location.strip()).copy_with(fragment=None)
    except httpx.InvalidURL as exc:
        raise DownloadError(f"it redirected to an invalid URL ({exc})") from None


class DownloadError(Exception):
    """A URL could not be downloaded; ``str()`` is one sentence and ``transient`` says a retry may help."""

    def __init__(self, reason: str, transient: bool = False) -> None:
        super().__init__(reason)
        self.transient = transient


@dataclass(frozen=True)
class Download:
    """The outcome of one GET: a 200 with its body, or a 304 with none."""

    url: str  # the final URL, after redirects
    status: int
    content_type: str  # lower case, without parameters; "" when the server sent none
    charset: str | None
    body: bytes
    etag: str = ""
    last_modified: str = ""


class Downloader:
    """GETs URLs through ``client``, having ``guard`` vet every redirect hop, and counts requests.

    ``client`` should connect through ``PinnedTransport(guard, ...)``, so that each connection goes
    to an address the guard vetted."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        guard: AddressGuard,
        max_bytes: int,
        timeout_seconds: float,
        retries: int,
        retry_delay_seconds: float,
    ) -> None:
        self._client = client
        self._guard = guard
        self._max_bytes = max_bytes
        self._timeout = timeout_seconds
        self._retries = retries
        self._retry_delay = retry_delay_seconds
        self._lock = threading.Lock()
        self._requests = 0

    @property
    def requests(self) -> int:
        """HTTP requests sent so far, redirect hops and retries included."""
        return self._requests

    def get(self, url: str, headers: Mapping[str, str], accept: Callable[[str], bool] = lambda _: True) -> Download:
        """Download ``url``; raise DownloadError if it cannot be had or ``accept(content_type)`` is false."""
        attempt = 0
        while True:
            try:
                return self._get_once(url, headers, accept)
            except DownloadError as exc:
                if not exc.transient or attempt >= self._retries:
                    if attempt:
                        raise DownloadError(f"{exc} (gave up after {attempt + 1} attempts)") from exc
                    raise
                delay = self._retry_delay * 2**attempt
                logger.info("retrying %s in %.2fs: %s", url, delay, exc)
                attempt += 1
                time.sleep(delay)

    def _get_once(self, url: str, headers: Mapping[str, str], accept: Callable[[str], bool]) -> Download:
        try:
            current = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise DownloadError(f"it is not a valid URL ({exc})") from None
        for _ in range(MAX_REDIRECTS + 1):
            reason = self._guard.refusal(current)
            if reason:
                raise DownloadError(reason)
            request = self._client.build_request("GET", current, headers=headers)
            with self._lock:
                self._requests += 1
            deadline = time.monotonic() + self._timeout
            try:
                response = self._client.send(request, stream=True, follow_redirects=False)
                try:
                    location = response.headers.get("location")
                    if response.status_code in REDIRECT_CODES and location:
                        current = _redirect_target(current, location)
                        continue
                    return self._finish(response, deadline, accept)
                finally:
                    response.close()
            except AddressRefused as exc:  # raised at connect time when the host was not vetted before
                raise DownloadError(str(exc)) from None
            except httpx.TimeoutException:
                raise DownloadError(f"timed out after {self._timeout:g} seconds", transient=True) from None
            except httpx.RemoteProtocolError as exc:
                prefix = "Invalid URL in location header: "  # httpx parses Location even when not following
                if str(exc).startswith(prefix):
                    detail = str(exc)[len(prefix) :].rstrip(".")
                    raise DownloadError(f"it redirected to an invalid URL ({detail})") from None
                raise DownloadError(f"the request to {current.host} failed ({exc})", transient=True) from None
            except httpx.HTTPError as exc:
                detail = str(exc) or type(exc).__name__
                raise DownloadError(f"the request to {current.host} failed ({detail})", transient=True) from None
        raise DownloadError(f"it redirected more than {MAX_REDIRECTS} times")

    def _finish(self, response: httpx.Response, deadline: float, accept: Callable[[str], bool]) -> Download:
        status = response.status_code
        if status >= 300 and status != 304:
            phrase = f" {response.reason_phrase}" if response.reason_phrase else ""
            raise DownloadError(f"the server answered {status}{phrase}", transient=status in TRANSIENT_CODES)
        raw_type = response.headers.get("content-type", "")
        content_type = raw_type.split(";")[0].strip().lower()
        if status != 304 and not accept(content_type):
            kind = content_type or "(none)"
            raise DownloadError(f"its content type {kind} is neither HTML nor an RSS/Atom feed")
        body = b"" if status == 304 else self._read_capped(response, deadline)
        return Download(
            url=str(response.url),
            status=status,
            content_type=content_type,
            charset=response.charset_encoding,
            body=body,
            etag=response.headers.get("etag", ""),
            last_modified=response.headers.get("last-modified", ""),
        )

    def _read_capped(self, response: httpx.Response, deadline: float) -> bytes:
        too_big = DownloadError(f"it is larger than {self._max_bytes} bytes")
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > self._max_bytes:
            raise too_big
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self._max_bytes:
                raise too_big
            if time.monotonic() > deadline:
                raise httpx.ReadTimeout("the body arrived too slowly")
            chunks.append(chunk)
        return b"".join(chunks)
