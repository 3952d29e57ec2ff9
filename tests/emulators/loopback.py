"""A threaded HTTPS server on 127.0.0.1 with a throwaway CA, the base of every TLS emulator.

Features
--------
- Real TLS from one test CA: by default every server in the process is certified by one
  lazily made, process-wide ``trustme`` CA (`shared_ca`), so ``ca_file`` is the same PEM file
  for every emulator and a client needs one CA bundle for all of them. The file lives until the
  process exits. ``LoopbackServer(ca=trustme.CA())`` gives a server its own CA instead, whose
  PEM file is deleted on stop (for tests about an untrusted or different CA).
- A route table: subclasses list ``Route(method, "/{param}/literal/path", "handler_name")`` in
  ``ROUTES``; a handler takes the `Request` and the path parameters and returns a `Reply`.
  Adding an endpoint is one method and one line in the table.
- ``requests_served`` counts requests by ``"METHOD /path"`` (query string left out), including
  ones that matched no route or got an injected fault, so tests can assert how often a client
  called.
- Faults for every emulator: ``inject(reply, times=N, method=..., path=...)`` answers the next N
  matching requests with ``reply`` instead of the handler's; ``DROP`` as the reply closes the
  connection without a byte of HTTP (clients see ``RemoteDisconnected``). ``clear_faults()``.
- ``latency`` (seconds, default 0) is slept before every reply, to measure a client as if the
  server were a round trip away.
- Starts with ``start()`` or ``with``; ``stop()`` joins every thread and closes every socket, so
  tests running with ``-W error`` see no ResourceWarning.

One request per connection (HTTP/1.0 replies), which keeps shutdown simple and costs nothing on
loopback.
"""

from __future__ import annotations

import atexit
import json
import logging
import re
import shutil
import socket
import socketserver
import ssl
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Self
from urllib.parse import parse_qs, urlsplit

import trustme

log = logging.getLogger(__name__)

# A client that connects and then goes quiet must not keep a thread (and stop()) waiting forever.
_IO_TIMEOUT_SECONDS = 5


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request as a handler sees it."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    body: bytes

    def form(self) -> dict[str, str]:
        """Return the url-encoded form body, last value winning."""
        parsed = parse_qs(self.body.decode("utf-8"), keep_blank_values=True)
        return {name: values[-1] for name, values in parsed.items()}


@dataclass(frozen=True, slots=True)
class Reply:
    """What a handler answers: a status, a body and extra headers.

    The body is sent as JSON, except None (no body) and bytes (sent as they are, as text/html
    unless ``content_type`` says otherwise: what a proxy or captive portal answers instead of
    the API). ``content_type`` also overrides ``application/json`` for a JSON body.
    """

    status: int
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str | None = None


#: Answer with this to close the connection without any HTTP reply (a crashed server or proxy).
DROP = Reply(0)


@dataclass(frozen=True, slots=True)
class Route:
    """Send ``method`` requests whose path matches ``pattern`` to the handler named ``handler``."""

    method: str
    pattern: str
    handler: str

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """Return the path parameters if this route serves the request, else None."""
        if method != self.method:
            return None
        found = _compile(self.pattern).fullmatch(path)
        return None if found is None else found.groupdict()


def _compile(pattern: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", pattern)
    # re.split with one group alternates literal text and parameter names.
    regex = "".join(
        re.escape(part) if i % 2 == 0 else f"(?P<{part}>[^/]+)" for i, part in enumerate(parts)
    )
    return re.compile(regex)


@dataclass(slots=True)
class Fault:
    """Answer the next ``remaining`` requests matching ``method`` and ``path`` with ``reply``."""

    reply: Reply
    remaining: int
    method: str | None = None
    path: str | None = None  # a prefix of the request path

    def matches(self, request: Request) -> bool:
        """Return whether this fault applies to ``request``."""
        return (self.method is None or request.method == self.method.upper()) and (
            self.path is None or request.path.startswith(self.path)
        )


@dataclass(frozen=True, slots=True)
class LoopbackCa:
    """A CA, the certificate it issued for 127.0.0.1, and the PEM file clients trust."""

    ca: trustme.CA
    server_cert: trustme.LeafCert
    ca_file: str

    @classmethod
    def make(cls, ca: trustme.CA, directory: str) -> LoopbackCa:
        """Issue the server certificate and write the CA's PEM into ``directory``."""
        path = Path(directory) / "ca.pem"
        ca.cert_pem.write_to_path(str(path))
        return cls(ca, ca.issue_cert("127.0.0.1", "localhost"), str(path))


_shared: LoopbackCa | None = None
_shared_lock = threading.Lock()


def shared_ca() -> LoopbackCa:
    """Return the process-wide test CA, making it (and its PEM file) on first use."""
    global _shared
    with _shared_lock:
        if _shared is None:
            directory = tempfile.mkdtemp(prefix="sidepane-test-ca-")
            # Every emulator of the process shares the file, so it outlives any one of them.
            atexit.register(shutil.rmtree, directory, ignore_errors=True)
            _shared = LoopbackCa.make(trustme.CA(), directory)
        return _shared


class LoopbackServer:
    """Serve ``ROUTES`` over HTTPS on 127.0.0.1 until stopped."""

    ROUTES: ClassVar[tuple[Route, ...]] = ()
    name: ClassVar[str] = "Loopback emulator"

    def __init__(self, *, port: int = 0, ca: trustme.CA | None = None) -> None:
        self.port = port
        self.latency = 0.0
        self.requests_served: Counter[str] = Counter()
        self._own_ca = ca
        self._count_lock = threading.Lock()
        self._faults: list[Fault] = []
        self._server: _TlsHttpServer | None = None
        self._thread: threading.Thread | None = None
        self._ca_dir: tempfile.TemporaryDirectory[str] | None = None
        self._url = ""
        self._ca_file = ""

    @property
    def url(self) -> str:
        """Return the base URL, ``https://127.0.0.1:PORT`` (no trailing slash)."""
        if not self._url:
            raise RuntimeError(f"{self.name} is not running; call start() first.")
        return self._url

    @property
    def ca_file(self) -> str:
        """Return the path of the PEM file of the CA that signed this server's certificate."""
        if not self._ca_file:
            raise RuntimeError(f"{self.name} is not running; call start() first.")
        return self._ca_file

    def start(self) -> Self:
        """Get the CA and certificate, bind the port and serve in a background thread."""
        if self._server is not None:
            raise RuntimeError(f"{self.name} is already running at {self._url}.")
        if self._own_ca is None:
            test_ca = shared_ca()
        else:
            self._ca_dir = tempfile.TemporaryDirectory(prefix="sidepane-emulator-")
            test_ca = LoopbackCa.make(self._own_ca, self._ca_dir.name)
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        test_ca.server_cert.configure_cert(tls)
        self._server = _TlsHttpServer(("127.0.0.1", self.port), tls, self)
        self._url = f"https://127.0.0.1:{self._server.server_address[1]}"
        self._ca_file = test_ca.ca_file
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{self.name} {self._url}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wait for every request thread, close the socket (own CA: delete it)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()  # joins the request threads as well
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._ca_dir is not None:
            self._ca_dir.cleanup()
            self._ca_dir = None
        self._url = self._ca_file = ""

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- faults -------------------------------------------------------------------------------

    def inject(
        self, reply: Reply, *, times: int = 1, method: str | None = None, path: str | None = None
    ) -> None:
        """Answer the next ``times`` requests (of ``method``, under ``path``) with ``reply``.

        ``DROP`` closes those connections without a reply. Faults apply in the order injected.
        """
        with self._count_lock:
            self._faults.append(Fault(reply, times, method, path))

    def clear_faults(self) -> None:
        """Forget every fault not yet used up."""
        with self._count_lock:
            self._faults.clear()

    def _take_fault(self, request: Request) -> Reply | None:
        with self._count_lock:
            for fault in self._faults:
                if fault.remaining > 0 and fault.matches(request):
                    fault.remaining -= 1
                    return fault.reply
            self._faults = [fault for fault in self._faults if fault.remaining > 0]
        return None

    # -- dispatch -----------------------------------------------------------------------------

    def _dispatch(self, request: Request) -> Reply:
        """Count the request, then answer it with a fault or the first route that matches."""
        with self._count_lock:
            self.requests_served[f"{request.method} {request.path}"] += 1
        fault = self._take_fault(request)
        if fault is not None:
            return fault
        return self.route(request)

    def route(self, request: Request) -> Reply:
        """Hand the request to the first route that matches it (subclasses may wrap this)."""
        for route in self.ROUTES:
            params = route.match(request.method, request.path)
            if params is not None:
                handler: Callable[..., Reply] = getattr(self, route.handler)
                return handler(request, **params)
        return self.not_found(request)

    def not_found(self, request: Request) -> Reply:
        """Answer a request that no route serves."""
        return Reply(404, {"error": "not_found", "error_description": f"No route {request.path}"})


class _TlsHttpServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer that does each TLS handshake in the request's own thread."""

    # Each request thread is joined by server_close(), so none outlives stop().
    block_on_close = True

    def __init__(
        self, address: tuple[str, int], tls: ssl.SSLContext, emulator: LoopbackServer
    ) -> None:
        self.tls = tls
        self.emulator = emulator
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host name (getfqdn), which can stall for seconds
        # on a machine with slow DNS; the name is only used for CGI variables.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(_IO_TIMEOUT_SECONDS)
        # wrap_socket takes over the accepted socket; closing the TLS socket closes both.
        with self.tls.wrap_socket(request, server_side=True) as tls_socket:
            super().finish_request(tls_socket, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, ssl.SSLError | ConnectionError | TimeoutError | socket.timeout):
            # A client that does not trust our CA, or hangs up: expected in TLS tests.
            log.debug("Connection from %s ended: %r", client_address, error)
        else:
            log.exception("Emulator connection from %s failed", client_address)


class _Handler(BaseHTTPRequestHandler):
    """Turn HTTP into a `Request`, and a `Reply` back into HTTP."""

    server: _TlsHttpServer
    server_version = "SidepaneEmulator/1"
    timeout = _IO_TIMEOUT_SECONDS

    def do_GET(self) -> None:
        self._respond()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def _respond(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        request = Request(
            method=self.command,
            path=url.path,
            query=parse_qs(url.query, keep_blank_values=True),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        emulator = self.server.emulator
        try:
            reply = emulator._dispatch(request)
        except Exception as error:
            # Answer like a broken server instead of dropping the connection, and say why.
            log.exception("Emulator handler for %s %s failed", request.method, request.path)
            reply = Reply(500, {"error": "emulator_error", "error_description": repr(error)})
        if emulator.latency > 0:
            time.sleep(emulator.latency)
        if reply.status == DROP.status:
            self.close_connection = True  # the TLS socket closes when the request ends
            return
        self._send(reply)

    def _send(self, reply: Reply) -> None:
        if reply.body is None or isinstance(reply.body, bytes):
            payload, content_type = reply.body or b"", "text/html; charset=utf-8"
        else:
            payload, content_type = json.dumps(reply.body).encode("utf-8"), "application/json"
        self.send_response(reply.status)
        if payload:
            self.send_header("Content-Type", reply.content_type or content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)
