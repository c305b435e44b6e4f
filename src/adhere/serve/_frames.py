"""Length-prefixed frames between the server and its worker processes.

A frame is an 8-byte header (payload length, message id; little endian) and a payload
of JSON bytes. Ids pair answers with questions, so a worker may answer out of order
(code jobs finish when they finish).
"""

from __future__ import annotations

import asyncio
import struct

__all__ = ["HEADER", "frame", "read"]

HEADER = struct.Struct("<II")


def frame(mid: int, payload: bytes) -> bytes:
    return HEADER.pack(len(payload), mid) + payload


async def read(reader: asyncio.StreamReader) -> tuple[int, bytes] | None:
    """The next (message id, payload), or None at end of stream."""
    try:
        head = await reader.readexactly(HEADER.size)
        n, mid = HEADER.unpack(head)
        return mid, await reader.readexactly(n)
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
