"""The server side of RFC 6455, written for the fakes from the RFC itself (not from the
bot's client library), so the fakes can misbehave on purpose: split a frame across writes,
fall silent, answer no ping, close with any code.

Only what the streaming servers use: the upgrade handshake (section 4.2), frames of text,
close, ping and pong (section 5), client frames masked, server frames not.
"""

from __future__ import annotations

import base64
import hashlib
import socket
import struct
import time
from collections.abc import Callable
from typing import BinaryIO

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA
POLICY_VIOLATION = 1008


def accept(key: str) -> str:
    """``Sec-WebSocket-Accept`` for a client's ``Sec-WebSocket-Key``."""
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()  # noqa: S324 -- the RFC's own hash


def frame(opcode: int, payload: bytes) -> bytes:
    """One unmasked, final frame, as a server sends it."""
    head = bytes([0x80 | opcode])
    size = len(payload)
    if size < 126:
        head += bytes([size])
    elif size < 1 << 16:
        head += bytes([126]) + struct.pack("!H", size)
    else:
        head += bytes([127]) + struct.pack("!Q", size)
    return head + payload


def close_frame(code: int, reason: str = "") -> bytes:
    return frame(CLOSE, struct.pack("!H", code) + reason.encode())


def read_frame(stream: BinaryIO) -> tuple[int, bytes] | None:
    """One frame from the client (opcode, unmasked payload); None when the connection ends."""
    head = stream.read(2)
    if len(head) < 2:
        return None
    opcode, size = head[0] & 0x0F, head[1] & 0x7F
    if size == 126:
        size = struct.unpack("!H", stream.read(2))[0]
    elif size == 127:
        size = struct.unpack("!Q", stream.read(8))[0]
    mask = stream.read(4) if head[1] & 0x80 else b"\0\0\0\0"
    data = stream.read(size)
    return opcode, bytes(b ^ mask[i % 4] for i, b in enumerate(data))


class Writer:
    """Writes frames to the socket, whole or cut into pieces of ``chunk`` bytes with a pause
    between them, as a proxy or a busy link does; False once the client is gone."""

    def __init__(self, sock: socket.socket, chunk: Callable[[], int | None]) -> None:
        self._sock = sock
        self._chunk = chunk

    def __call__(self, data: bytes) -> bool:
        size = self._chunk() or len(data)
        try:
            for i in range(0, len(data), size):
                self._sock.sendall(data[i : i + size])
                if size < len(data):
                    time.sleep(0.002)
        except OSError:
            return False
        return True
