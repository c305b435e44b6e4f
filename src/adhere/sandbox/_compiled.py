"""Sources compiled once, in the process that submits jobs, and shipped to the child as bytecode.

Compiling in the forked child is the costliest way to compile: the compiler writes to
dozens of the zygote's shared pages (interned strings, AST types, parser state), and
every page written is copied. ``python benchmarks/bench_jobs.py`` runs HumanEval label
jobs with this on and off: 0.3-0.45 ms less child CPU and 50-60 fewer page faults per job
with it, 1.08-1.22x the jobs/s (four runs on 2026-11-27). A job's test file is also
shared by every sample of its task, so its bytecode comes from this cache after the first.

The code is the child's own compile, made early: same source, file name and flags
(``dont_inherit=True``, ``optimize=0``, so asserts are never stripped), and shipped only
to a zygote whose interpreter has this interpreter's bytecode magic (see
:func:`bytecode_magic`). A source that does not compile here is not shipped: the child
compiles it and reports the error exactly as before.

Compile-time warnings (``SyntaxWarning: "is" with a literal``) are silenced here; in
the child they went to ``/dev/null``.
"""

from __future__ import annotations

import marshal
import threading
import warnings
from collections import OrderedDict

from ._harness import PROGRAM_FILE

__all__ = ["BytecodeCache", "CompileFailure", "bytecode_magic", "compiled"]


class CompileFailure:
    """Why a source does not compile: the exception ``compile`` raised."""

    __slots__ = ("exception",)

    def __init__(self, exception: BaseException) -> None:
        self.exception = exception


def bytecode_magic() -> str:
    """This interpreter's bytecode magic number (hex): code objects marshalled here load
    in an interpreter with the same magic, and only there."""
    import importlib.util

    return importlib.util.MAGIC_NUMBER.hex()


class BytecodeCache:
    """Compile results by (mode, file name, source), least recently used dropped past ``max_bytes``."""

    def __init__(self, max_bytes: int = 32 << 20) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, str, str], tuple[bytes | CompileFailure, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, source: str, filename: str, mode: str = "exec") -> bytes | CompileFailure:
        """``marshal`` bytes of the source's code object, or why it does not compile."""
        key = (mode, filename, source)
        # One lock for lookups and compiles: catch_warnings swaps the process's warning
        # filters, and two threads doing it at once could leave them swapped.
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None:
                self._entries.move_to_end(key)
                return hit[0]
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    code = compile(source, filename, mode, dont_inherit=True, optimize=0)
                result: bytes | CompileFailure = marshal.dumps(code)
            except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError) as exc:
                result = CompileFailure(exc)
            cost = (len(result) if isinstance(result, bytes) else 64) + len(source)
            if cost <= self.max_bytes // 8:  # a giant program is compiled, not kept
                self._entries[key] = (result, cost)
                self.size += cost
                while self.size > self.max_bytes:
                    _, (_, old) = self._entries.popitem(last=False)
                    self.size -= old
            return result


_CACHE = BytecodeCache()


def compiled(source: str, filename: str = PROGRAM_FILE, mode: str = "exec") -> bytes | CompileFailure:
    """``marshal`` bytes of the source's code object, or why it does not compile (this process's cache).

    ``filename`` defaults to the one a job's program is compiled under, so a program
    checked here is the one the executor then finds in the cache.
    """
    return _CACHE.get(source, filename, mode)
