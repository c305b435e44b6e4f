"""What runs inside the untrusted child after the fork: load the program, run the probes,
stream plain results to the result pipe, exit.

The child never sees an expected value and never decides a verdict. For each probe it
reports what happened: the value returned (encoded by :mod:`._values`), the exception
raised, or that an assert-style statement completed. The supervisor compares.

Result stream: one JSON array per line, each starting with the job's nonce::

    [nonce, "load", "ok"] | [nonce, "load", "error", type, message]
    [nonce, "t", index, "ok", <value>, ns]          a call or expression returned
    [nonce, "t", index, "ok", null, ns]             a statement (assert) completed
    [nonce, "t", index, "fail", message, ns]        the statement raised AssertionError
    [nonce, "t", index, "err", [type, message], ns] any other exception
    [nonce, "t", index, "mem", null, ns]            MemoryError
    [nonce, "exit", code, type, message]            script mode: how the program ended
    [nonce, "done"]

Each line is one ``write`` to a file the zygote reads with ``pread`` (no wake-ups): a
thousand fast tests cost a thousand cheap syscalls, and a test that hangs still leaves
the earlier results behind.

Standard library only: this module is imported by the zygote before any fork.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import marshal
import os
import pickle
import random
import struct
import sys
import time
from collections.abc import Callable
from typing import Any

from . import _values

__all__ = ["BELL_FD", "PROGRAM_FILE", "RESULT_FD", "SETUP_FILE", "TEST_FILE", "run_job"]

# The file names sources are compiled under (in tracebacks; and the key under which the
# submitter's bytecode for a source is looked up, see ``_code``).
PROGRAM_FILE = "<solution>"
SETUP_FILE = "<setup>"
TEST_FILE = "<test>"

RESULT_FD = 3
BELL_FD = 4  # one byte here tells the zygote the results are complete
_MAX_MESSAGE = 300

# Bound at import (in the zygote), before candidate code could patch anything.
_write = os.write
_exit = os._exit
_now = time.perf_counter_ns
_mono = time.monotonic_ns
_sleep = time.sleep
_loads = pickle.loads
_pack = struct.pack
_encode = _values.encode
_compile = builtins.compile
_unmarshal = marshal.loads
_exec = builtins.exec
_eval = builtins.eval
_str = str
_repr = repr
_type = type
_len = len
_BaseException = BaseException
_MemoryError = MemoryError
_AssertionError = AssertionError
_SystemExit = SystemExit


class _NullWriter(io.TextIOBase):
    """Where ``print`` goes in function-call mode: nowhere, at no cost."""

    def write(self, s: str) -> int:
        return _len(s)

    def writable(self) -> bool:
        return True


class _Out:
    """The result stream: a file the zygote reads with ``pread`` (a memfd on Linux).

    Each line is written as soon as its test ends (one ``write``, no wake-up of anyone),
    so when a later test hangs and is killed, every earlier result is already there.
    """

    __slots__ = ("nonce",)

    def __init__(self, nonce: str) -> None:
        self.nonce = nonce

    def line(self, text: str, force: bool = False) -> None:
        view = memoryview(text.encode("utf-8", "surrogatepass") + b"\n")
        while view:
            try:
                n = _write(RESULT_FD, view)
            except InterruptedError:
                continue
            except OSError:
                _exit(70)
            view = view[n:]

    def flush(self) -> None:
        """Nothing is buffered; kept for symmetry with the callers."""


def _message(exc: BaseException) -> str:
    try:
        text = _str(exc)
    except _BaseException:
        text = "<unprintable>"
    return text if _len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def _q(text: str) -> str:
    """A JSON string literal (``repr`` of an ASCII-safe encoding)."""
    return _values._dumps(text)


def _exc_name(exc: BaseException) -> str:
    tp = _type(exc)
    return getattr(tp, "__name__", "Exception") if isinstance(getattr(tp, "__name__", None), str) else "Exception"


def _linger() -> None:
    """After the bell, wait to be killed rather than exit. Tearing down an address space
    takes a few hundred microseconds; exiting would spend them while the zygote waits to
    read the results (often on the same CPU), a killed child spends them after the report.
    The zygote kills every job whose bell rang; the wall-clock limit backs that up."""
    try:
        while True:
            _sleep(3600)
    except _BaseException:
        pass


def run_job(job: dict[str, Any], shm: Any) -> None:
    """Run one job in this (already isolated) child process and ``_exit``; never returns."""
    out = _Out(job["nonce"])
    nonce = _q(job["nonce"])
    try:
        if job["mode"] == "script":
            _run_script(job, out, nonce)
        else:
            _run_calls(job, out, nonce, shm)
        out.line(f'[{nonce},"done"]', force=True)
        _write(BELL_FD, b"!")
    except _BaseException:  # the harness itself was broken by the candidate
        _exit(71)
    _linger()
    _exit(0)


def _code(job: dict[str, Any], source: str, filename: str, mode: str) -> Any:
    """The code object for ``source``: the submitter's bytecode when it sent some (the same
    compile, made before the fork, see ``_compiled``), else compiled here."""
    data = job.get("compiled", {}).get((mode, filename, source))
    if data is not None:
        return _unmarshal(data)
    return _compile(source, filename, mode, dont_inherit=True, optimize=0)


def _load(job: dict[str, Any], namespace: dict[str, Any], out: _Out, nonce: str) -> bool:
    try:
        _exec(_code(job, job["program"], PROGRAM_FILE, "exec"), namespace)
        setup = job.get("setup") or ""
        if setup:
            _exec(_code(job, setup, SETUP_FILE, "exec"), namespace)
    except _BaseException as exc:
        out.line(f'[{nonce},"load","error",{_q(_exc_name(exc))},{_q(_message(exc))}]', force=True)
        return False
    return True


def _run_calls(job: dict[str, Any], out: _Out, nonce: str, shm: Any) -> None:
    sys.stdout = sys.stderr = _NullWriter()
    random.seed(job.get("seed", 0))
    namespace: dict[str, Any] = {}
    if job.get("main"):
        namespace["__name__"] = "__main__"
    if not _load(job, namespace, out, nonce):
        return
    entry_name = job.get("entry_point")
    entry: Callable[..., Any] | None = None
    if entry_name:
        entry = namespace.get(entry_name)
        if entry is None or not callable(entry):
            out.line(
                f'[{nonce},"load","error","NameError",{_q(f"the program defines no function {entry_name!r}")}]',
                force=True,
            )
            return
    out.line(f'[{nonce},"load","ok"]')
    if entry is not None:  # what rewritten HumanEval asserts call
        namespace["candidate"] = entry
    stop = job.get("stop_on_error", True)
    compiled: dict[str, Any] = {}
    for index, (kind, payload) in enumerate(job["probes"]):
        if shm is not None:  # one 16-byte copy (pack_into would zero the slot first)
            shm[0:16] = _pack("qq", index, _mono())
        start = _now()
        try:
            if kind == "call":
                args, kwargs = _loads(payload)
                value = entry(*args, **kwargs) if entry is not None else None
                text = _encode(value)
            elif kind == "eval":
                values = []
                for source in payload:
                    code = compiled.get(source)
                    if code is None:
                        code = compiled[source] = _code(job, source, TEST_FILE, "eval")
                    values.append(_eval(code, namespace))
                text = _encode(tuple(values))
            else:  # "exec": an assert-style statement, judged by completing
                code = compiled.get(payload)
                if code is None:
                    code = compiled[payload] = _code(job, payload, TEST_FILE, "exec")
                _exec(code, namespace)
                text = "null"
            took = _now() - start
            out.line(f'[{nonce},"t",{index},"ok",{text},{took}]')
        except _MemoryError:
            took = _now() - start
            out.line(f'[{nonce},"t",{index},"mem",null,{took}]', force=True)
            if stop:
                return
        except _AssertionError as exc:
            took = _now() - start
            code_ = "fail" if kind == "exec" else "err"
            body = _q(_message(exc)) if code_ == "fail" else f'["AssertionError",{_q(_message(exc))}]'
            out.line(f'[{nonce},"t",{index},"{code_}",{body},{took}]', force=True)
            if stop:
                return
        except _BaseException as exc:
            took = _now() - start
            out.line(f'[{nonce},"t",{index},"err",[{_q(_exc_name(exc))},{_q(_message(exc))}],{took}]', force=True)
            if stop:
                return


def _run_script(job: dict[str, Any], out: _Out, nonce: str) -> None:
    random.seed(job.get("seed", 0))
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
    code_, name, message = 0, "", ""
    try:
        code = _code(job, job["program"], PROGRAM_FILE, "exec")
    except _BaseException as exc:
        out.line(f'[{nonce},"load","error",{_q(_exc_name(exc))},{_q(_message(exc))}]', force=True)
        return
    out.line(f'[{nonce},"load","ok"]')
    try:
        _exec(code, namespace)
    except _SystemExit as exc:
        status = exc.code
        if status is None:
            code_ = 0
        elif _type(status) is int:
            code_ = status
        else:
            code_, name, message = 1, "SystemExit", _message(exc)
    except _MemoryError:
        code_, name, message = 1, "MemoryError", ""
    except _BaseException as exc:
        code_, name, message = 1, _exc_name(exc), _message(exc)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(_BaseException):
            stream.flush()
    out.line(f'[{nonce},"exit",{int(code_)},{_q(name)},{_q(message)}]', force=True)
