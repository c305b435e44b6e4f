"""Framing between the supervisor and a zygote (standard library only; both sides use it).

Every message is ``kind (1 byte) | job id (u32) | length (u32) | payload``.

Supervisor to zygote: ``J`` a job (pickle: the supervisor is trusted), ``C`` cancel
the running job, ``Q`` quit. Zygote to supervisor: ``R`` ready (JSON: the protections
in force), ``O`` a chunk of the child's result stream, ``S`` a chunk of the child's
standard output (script mode), ``D`` the job is over (JSON: exit, signal, reason,
usage). The supervisor never unpickles anything that comes out of the sandbox.
"""

from __future__ import annotations

import os
import struct

__all__ = ["HEADER", "read_exact", "send"]

HEADER = struct.Struct("!cII")

JOB = b"J"
CANCEL = b"C"
QUIT = b"Q"
READY = b"R"
OUTPUT = b"O"
STDOUT = b"S"
DONE = b"D"


def send(fd: int, kind: bytes, job: int, payload: bytes = b"") -> None:
    """Write one whole message (blocking)."""
    view = memoryview(HEADER.pack(kind, job, len(payload)) + payload)
    while view:
        try:
            n = os.write(fd, view)
        except InterruptedError:
            continue
        view = view[n:]


def read_exact(fd: int, size: int) -> bytes:
    """Read exactly ``size`` bytes; ``b""`` on end of file before the first byte.

    Raises:
        EOFError: the stream ended in the middle of a message.
    """
    chunks: list[bytes] = []
    got = 0
    while got < size:
        try:
            chunk = os.read(fd, size - got)
        except InterruptedError:
            continue
        if not chunk:
            if got == 0:
                return b""
            raise EOFError("stream ended inside a message")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)
