"""A real HTTP server on 127.0.0.1, in a thread, for the fakes to answer from."""

from __future__ import annotations

import contextlib
import json
import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, BinaryIO, cast
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    at: float

    def form(self) -> dict[str, list[str]]:
        kind = self.headers.get("content-type", "")
        if kind.startswith("application/json"):
            data = json.loads(self.body or b"{}")
            return {k: v if isinstance(v, list) else [v] for k, v in data.items() if v is not None}
        return parse_qs(self.body.decode(), keep_blank_values=True)


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    stream: Callable[[Callable[[bytes], bool]], bool] | None = None
    """A body sent in chunks as it comes: called with ``write`` (False once the client is
    gone); returns True to end the body cleanly, False to cut the connection."""
    upgrade: Callable[[socket.socket, BinaryIO], None] | None = None
    """``101 Switching Protocols`` (with ``headers``), then the connection is this one's to
    speak on (the socket, and the buffered reader of what the client sends)."""

    @classmethod
    def json(cls, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return cls(status, json.dumps(data).encode(), headers=headers or {})


@dataclass
class Fault:
    """Answer the next ``times`` matching requests with this instead (after ``delay`` seconds)."""

    method: str
    path_prefix: str
    response: Response | None
    times: int = 1
    delay: float = 0.0
    delay_after: float = 0.0
    """With ``response=None``: handle the request for real, then wait this long to answer."""


@dataclass
class Chaos:
    """Random trouble on every matching request: errors, and timeouts that either never reach
    the handler or reach it and then never answer in time."""

    rng: random.Random
    error_rate: float
    timeout_rate: float
    timeout_delay: float
    error: Response
    path_prefix: str = "/"
    errors: int = 0
    timeouts: int = 0


class LoopbackServer:
    """Serves ``handle(request) -> Response`` on 127.0.0.1 at a free port until closed."""

    def __init__(self, handle: Callable[[Request], Response]) -> None:
        self.requests: list[Request] = []
        self.faults: list[Fault] = []
        self.chaos: Chaos | None = None
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query, keep_blank_values=True),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                    at=time.monotonic(),
                )
                with outer._lock:
                    outer.requests.append(request)
                    fault = outer._take_fault(request) or outer._chaos_fault(request)
                if fault is not None and fault.delay:
                    time.sleep(fault.delay)
                if fault is not None and fault.response is not None:
                    response = fault.response
                else:
                    response = handle(request)
                    if fault is not None and fault.delay_after:
                        time.sleep(fault.delay_after)
                if response.upgrade is not None:
                    self._upgrade(response)
                    return
                if response.stream is not None:
                    self._stream(response)
                    return
                self.send_response(response.status)
                self.send_header("Content-Type", response.content_type)
                self.send_header("Content-Length", str(len(response.body)))
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(response.body)

            def _upgrade(self, response: Response) -> None:
                assert response.upgrade is not None
                self.send_response(101, "Switching Protocols")
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.flush()
                self.close_connection = True
                with contextlib.suppress(OSError):
                    response.upgrade(self.connection, cast(BinaryIO, self.rfile))

            def _stream(self, response: Response) -> None:
                assert response.stream is not None
                self.send_response(response.status)
                self.send_header("Content-Type", response.content_type)
                self.send_header("Transfer-Encoding", "chunked")
                self.send_header("Cache-Control", "no-store")
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.close_connection = True

                def write(data: bytes) -> bool:
                    try:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                        self.wfile.flush()
                    except OSError:
                        return False
                    return True

                if response.stream(write):
                    with contextlib.suppress(OSError):
                        self.wfile.write(b"0\r\n\r\n")
                else:  # cut mid-body, as a dying server or proxy does
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(socket.SHUT_RDWR)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def fail(
        self,
        method: str,
        path_prefix: str,
        response: Response | None,
        times: int = 1,
        delay: float = 0.0,
        delay_after: float = 0.0,
    ) -> None:
        with self._lock:
            self.faults.append(Fault(method, path_prefix, response, times, delay, delay_after))

    def _chaos_fault(self, request: Request) -> Fault | None:
        chaos = self.chaos
        if chaos is None or not request.path.startswith(chaos.path_prefix):
            return None
        roll = chaos.rng.random()
        if roll < chaos.error_rate:
            chaos.errors += 1
            return Fault(request.method, "", chaos.error)
        if roll < chaos.error_rate + chaos.timeout_rate:
            chaos.timeouts += 1
            if chaos.rng.random() < 0.5:
                return Fault(
                    request.method, "", Response(504, b"", "text/plain"), delay=chaos.timeout_delay
                )
            return Fault(request.method, "", None, delay_after=chaos.timeout_delay)
        return None

    def _take_fault(self, request: Request) -> Fault | None:
        for fault in self.faults:
            if fault.method == request.method and request.path.startswith(fault.path_prefix):
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
