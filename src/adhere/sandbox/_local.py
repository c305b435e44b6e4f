"""The local executor: a pool of zygotes supervised from this (trusted) process.

One worker thread per zygote sends a job, reads the child's result stream as it comes,
judges each test here (the expected values never leave this process), cancels the
rest of a job after its first failure, and turns whatever happened into a
:class:`JobResult`. When a zygote dies or stops answering, the job in flight is retried
once on a fresh zygote and otherwise reported ``unscorable``: our machinery failed, the
program did not.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import logging
import os
import pickle
import queue
import select
import signal
import site
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ..errors import SandboxError
from . import _protocol
from ._compiled import bytecode_magic, compiled
from ._harness import PROGRAM_FILE, SETUP_FILE, TEST_FILE
from ._model import NO_EXPECTATION, Assert, Call, Check, Job, JobResult, Status, Stdio, TestResult
from ._values import decode, preview

__all__ = ["DEFAULT_PRELOAD", "LocalExecutor", "Protections", "default_executor"]

log = logging.getLogger("adhere.sandbox")

#: Modules each zygote imports once, so jobs that use them pay nothing. Kept to what
#: benchmark solutions commonly import: every megabyte in the zygote costs each fork.
DEFAULT_PRELOAD: tuple[str, ...] = (
    "math", "cmath", "re", "string", "collections", "itertools", "functools", "operator", "heapq", "bisect",
    "array", "copy", "typing", "random", "hashlib", "json",
)  # fmt: skip

_ZYGOTE = Path(__file__).with_name("_zygote.py")
_GRACE = 5.0  # beyond a job's own wall budget before we declare the zygote stuck
_STARVED_FACTOR = 4.0  # as in the zygote: how far a starved job's wall clock may stretch
_START_TIMEOUT = 60.0
_SIGNAL_NAMES = {int(s): s.name for s in signal.Signals}


@dataclass(frozen=True)
class Protections:
    """What isolation the zygotes actually got (reported by ``adhere doctor``)."""

    namespaces: dict[str, bool]
    filesystem: str
    seccomp: bool
    capabilities_dropped: bool
    no_new_privs: bool
    pid_cap: int | None
    pidfd: bool
    seccomp_library: str | None
    python: str
    zygote_rss_kb: int
    errors: tuple[str, ...]

    @classmethod
    def from_ready(cls, data: dict[str, Any]) -> Protections:
        return cls(
            namespaces={k: bool(v) for k, v in (data.get("namespaces") or {}).items()},
            filesystem=str(data.get("filesystem", "shared")),
            seccomp=bool(data.get("seccomp")),
            capabilities_dropped=bool(data.get("capabilities_dropped")),
            no_new_privs=bool(data.get("no_new_privs")),
            pid_cap=data.get("pid_cap"),
            pidfd=bool(data.get("pidfd")),
            seccomp_library=data.get("seccomp_library"),
            python=str(data.get("python", "")),
            zygote_rss_kb=int(data.get("rss_kb") or 0),
            errors=tuple(str(e) for e in data.get("errors") or ()),
        )

    @property
    def full(self) -> bool:
        """Every protection of the design is in force."""
        return (
            all(self.namespaces.get(n) for n in ("user", "pid", "net", "mount", "ipc", "uts"))
            and self.filesystem == "private-root"
            and self.seccomp
            and self.capabilities_dropped
        )

    def missing(self) -> list[str]:
        out = [f"{n} namespace" for n in ("user", "pid", "net", "mount", "ipc", "uts") if not self.namespaces.get(n)]
        if self.filesystem != "private-root":
            out.append("private read-only root (host files are visible to jobs)")
        if not self.seccomp:
            out.append("seccomp filter")
        if not self.capabilities_dropped:
            out.append("capability drop")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "namespaces": dict(self.namespaces),
            "filesystem": self.filesystem,
            "seccomp": self.seccomp,
            "seccomp_library": self.seccomp_library,
            "capabilities_dropped": self.capabilities_dropped,
            "no_new_privs": self.no_new_privs,
            "pid_cap": self.pid_cap,
            "pidfd": self.pidfd,
            "python": self.python,
            "zygote_rss_kb": self.zygote_rss_kb,
            "errors": list(self.errors),
        }


_warned = False
_warn_lock = threading.Lock()


def _warn_once(p: Protections) -> None:
    global _warned
    with _warn_lock:
        if _warned or p.full:
            return
        _warned = True
    log.warning(
        "adhere sandbox: running without %s; the rest still applies (rlimits, process groups). "
        "Run `adhere doctor` for details.",
        ", ".join(p.missing()),
    )


def _keep_paths(extra: Sequence[str]) -> list[str]:
    """What the zygote's private root shows read-only: Python and its packages."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    with contextlib.suppress(AttributeError):
        paths.update(site.getsitepackages())
    paths.add(str(Path(__file__).resolve().parents[2]))  # the directory holding ``adhere``
    paths.update(extra)
    return sorted(p for p in paths if p and os.path.isdir(p))


def _clean_env() -> dict[str, str]:
    """The zygote's whole environment: nothing of the caller's (no secrets, no tokens).

    ``LD_BIND_NOW``: the dynamic linker resolves every symbol when a library loads, in the
    zygote, instead of at a function's first call, which for the functions only jobs call
    (``setsid``, ``prctl``, ...) was in every job: a symbol search and a write to a page
    the job shares with the zygote (measured ad hoc: 12-14 fewer page faults per job, about 3%
    of its CPU).
    """
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "PYTHONHASHSEED": "0",
        "LD_BIND_NOW": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


class _Zygote:
    """One zygote process and its two pipes; used by a single worker thread."""

    def __init__(self, config: dict[str, Any], python: str, debug: bool) -> None:
        self.proc = subprocess.Popen(
            [python, "-S", "-s", "-B", str(_ZYGOTE), json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None if debug else subprocess.DEVNULL,
            env=_clean_env(),
            close_fds=True,
            start_new_session=True,
            cwd="/",
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.ctl = self.proc.stdin.fileno()
        self.out = self.proc.stdout.fileno()
        self.buf = bytearray()
        self.protections: Protections | None = None
        self.bytecode = ""

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_ready(self, timeout: float) -> Protections:
        msg = self.read(timeout)
        if msg is None:
            self.kill()
            raise SandboxError(f"the sandbox zygote did not start within {timeout:.0f} s")
        kind, _, payload = msg
        data = json.loads(payload) if kind == _protocol.READY else {"fatal": f"unexpected message {kind!r}"}
        if "fatal" in data:
            self.kill()
            raise SandboxError(f"the sandbox zygote could not start: {data['fatal']}")
        self.protections = Protections.from_ready(data)
        self.bytecode = str(data.get("bytecode") or "")
        return self.protections

    def send(self, kind: bytes, job_id: int, payload: bytes = b"") -> None:
        _protocol.send(self.ctl, kind, job_id, payload)

    def read(self, timeout: float) -> tuple[bytes, int, bytes] | None:
        """The next message; None on timeout. Raises EOFError when the zygote is gone."""
        deadline = time.monotonic() + timeout
        head = _protocol.HEADER.size
        while True:
            if len(self.buf) >= head:
                kind, job_id, n = _protocol.HEADER.unpack_from(self.buf)
                if len(self.buf) >= head + n:
                    payload = bytes(self.buf[head : head + n])
                    del self.buf[: head + n]
                    return kind, job_id, payload
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self.out], [], [], left)
            if not ready:
                return None
            try:
                chunk = os.read(self.out, 1 << 20)
            except InterruptedError:
                continue
            if not chunk:
                raise EOFError("the sandbox zygote exited")
            self.buf += chunk

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            self.proc.kill()
        with contextlib.suppress(Exception):
            self.proc.wait(timeout=5)
        for f in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                if f is not None:
                    f.close()

    def quit(self) -> None:
        with contextlib.suppress(OSError):
            self.send(_protocol.QUIT, 0)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=2)
        self.kill()


class _ZygoteGone(Exception):
    """The zygote died or stopped answering during a job."""


def _judgement(value: Any) -> tuple[bool, str]:
    if isinstance(value, tuple):
        return bool(value[0]), str(value[1])
    if isinstance(value, str):
        return False, value
    return bool(value), ""


class _Run:
    """The judging state of one job while its results stream in."""

    def __init__(self, job: Job, nonce: str) -> None:
        self.job = job
        self.nonce = nonce
        self.results: dict[int, TestResult] = {}
        self.next_index = 0
        self.loaded: bool | None = None
        self.load_error = ""
        self.finished = False
        self.tampered = ""
        self.failed = False
        self.exit_line: list[Any] | None = None
        self.partial = b""

    def feed(self, chunk: bytes) -> None:
        data = self.partial + chunk
        lines = data.split(b"\n")
        self.partial = lines.pop()
        for line in lines:
            if not self.tampered:
                self._line(line)

    def _line(self, line: bytes) -> None:
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            try:
                obj = json.loads(line)
            except ValueError:
                self.tampered = "the program wrote unreadable data into the harness's result channel"
                return
        if not isinstance(obj, list) or len(obj) < 2 or obj[0] != self.nonce or self.finished:
            self.tampered = "the program wrote into the harness's result channel"
            return
        kind = obj[1]
        if kind == "load" and self.loaded is None and len(obj) >= 3:
            self.loaded = obj[2] == "ok"
            if not self.loaded:
                self.load_error = (
                    f"{obj[3]}: {obj[4]}" if len(obj) >= 5 and obj[4] else str(obj[3] if len(obj) > 3 else "")
                )
        elif kind == "t" and self.loaded and len(obj) == 6 and obj[2] == self.next_index < len(self.job.tests):
            self.next_index += 1
            result = self._judge(obj[2], obj[3], obj[4], obj[5])
            self.results[result.index] = result
            if not result.passed:
                self.failed = True
        elif kind == "exit" and self.loaded and len(obj) == 5 and self.exit_line is None:
            self.exit_line = obj
        elif kind == "done" and self.loaded is not None:
            self.finished = True
        else:
            self.tampered = "the program wrote into the harness's result channel"

    def _judge(self, index: int, code: str, payload: Any, ns: Any) -> TestResult:
        test = self.job.tests[index]
        duration = ns / 1e9 if isinstance(ns, int) and ns >= 0 else None
        label = getattr(test, "label", "")
        if code == "err":
            name, message = ([*payload, "", ""])[:2] if isinstance(payload, list) else ("Exception", "")
            reason = f"raised {name}" + (f": {message}" if message else "")
            return TestResult(index, "error", duration, reason, label=label)
        if code == "mem":
            return TestResult(index, "memory", duration, "ran out of memory (MemoryError)", label=label)
        if code == "fail":
            reason = "assertion failed" + (f": {payload}" if payload else "")
            return TestResult(index, "failed", duration, reason, label=label)
        if code != "ok":
            self.tampered = "the program wrote into the harness's result channel"
            return TestResult(index, "error", duration, self.tampered, label=label)
        if isinstance(test, Assert):
            return TestResult(index, "passed", duration, label=label)
        value = decode(payload)
        try:
            if isinstance(test, Call):
                if test.expected is NO_EXPECTATION:
                    return TestResult(index, "passed", duration, value=value, label=label)
                raw = test.compare(value, test.expected) if test.compare else value == test.expected
                ok, why = _judgement(raw)
                if not ok and not why:
                    why = f"returned {preview(value)}, expected {preview(test.expected)}"
            elif isinstance(test, Check):
                values = tuple(value) if isinstance(value, tuple) else (value,)
                ok, why = _judgement(test.judge(values))
                if not ok and not why:
                    shown = ", ".join(preview(v) for v in values)
                    why = f"assertion failed (the program's values: {shown})"
                value = values
            else:  # pragma: no cover - Stdio tests never stream results
                ok, why = False, "unexpected result"
        except Exception as exc:  # a comparison of odd values (deep recursion, ...)
            ok, why = False, f"could not compare the result ({type(exc).__name__}: {exc})"
        return TestResult(index, "passed" if ok else "failed", duration, "" if ok else why, value=value, label=label)


def _kill_status(report: dict[str, Any], job: Job, index: int | None) -> tuple[Status, str]:
    """How the program ended when it did not finish its tests."""
    reason = report.get("reason")
    limits = job.limits
    if reason in ("timeout", "test_timeout"):
        if reason == "test_timeout" and index is not None:
            test = job.tests[index]
            seconds = getattr(test, "seconds", None) or limits.test_seconds
            return "timeout", f"timed out after {seconds:g} s"
        return "timeout", f"timed out after {limits.wall_seconds:g} s"
    if reason == "output_limit":
        return "output_limit", f"sent more than {limits.output_bytes:,} bytes"
    sig = report.get("signal")
    if sig is not None:
        name = _SIGNAL_NAMES.get(int(sig), f"signal {sig}")
        cpu_limit = limits.cpu_seconds or limits.wall_seconds
        if sig in (signal.SIGXCPU, signal.SIGKILL) and (report.get("cpu") or 0) >= 0.9 * cpu_limit:
            return "timeout", f"used its {cpu_limit:g} s of CPU time"
        if sig == signal.SIGXFSZ:
            return "error", f"wrote a file larger than {limits.file_bytes:,} bytes"
        return "error", f"crashed ({name})"
    code = report.get("exit")
    if code == 70:
        return "error", "the program closed the harness's result channel"
    if code == 71:
        return "error", "the program broke the test harness"
    return "error", f"the program exited (code {code}) before its tests finished"


_MAGIC = bytecode_magic()
_SHIP_SOURCE = 256 << 10
"""Sources up to this size are compiled here and shipped as bytecode; a larger one is
compiled in the child, under the job's time and memory limits (a hostile giant must not
stall the submitting process)."""


def _bytecode(request: dict[str, Any]) -> dict[tuple[str, str, str], bytes]:
    """Bytecode for every source the child would compile, keyed as the harness looks it up
    (``_harness._code``); sources that do not compile are left to the child to report."""
    sources = [("exec", PROGRAM_FILE, request["program"])]
    if request.get("setup"):
        sources.append(("exec", SETUP_FILE, request["setup"]))
    for kind, payload in request.get("probes") or ():
        if kind == "exec":
            sources.append(("exec", TEST_FILE, payload))
        elif kind == "eval":
            sources.extend(("eval", TEST_FILE, source) for source in payload)
    out: dict[tuple[str, str, str], bytes] = {}
    for key in sources:
        if key not in out and len(key[2]) <= _SHIP_SOURCE:
            code = compiled(key[2], key[1], key[0])
            if isinstance(code, bytes):
                out[key] = code
    return out


class LocalExecutor:
    """Runs jobs in a pool of zygotes on this machine (see the package docstring).

    Args:
        workers: zygotes (concurrent jobs); default ``ADHERE_WORKERS`` or the CPU count.
        isolation: ``"auto"`` (namespaces where the kernel allows, degrading with a
            warning) or ``"none"`` (rlimits, process groups and seccomp only); default
            ``ADHERE_SANDBOX_ISOLATION`` or ``"auto"``.
        preload: modules each zygote imports once.
        work_bytes: size of each zygote's writable work area (tmpfs).
        keep: more host directories to show, read-only, to jobs.
        python: the interpreter to run zygotes with (default: this one).
        bytecode: compile sources here and ship them to the child as bytecode (see
            ``_compiled``); False compiles every source in the child.
        spares: let an idle zygote fork the next job's child ahead (see ``_zygote._Spare``);
            False forks each child when its job comes.
        active: zygotes that take jobs at any time (default: all). The others are overflow:
            the k-th of them takes a job only while k other slots have each been running
            their current job for ``overflow_after`` seconds or more (a program looping until
            its limit). Fewer jobs in flight on the same cores cost less CPU each, and the
            overflow keeps the cores busy when loops hold slots for seconds.
        overflow_after: how long a job holds its slot before it counts as holding it long.

    Use as a context manager, or call :meth:`close`; jobs are accepted from any thread.
    """

    def __init__(
        self,
        workers: int | None = None,
        *,
        isolation: str | None = None,
        preload: Sequence[str] = DEFAULT_PRELOAD,
        work_bytes: int = 64 << 20,
        keep: Sequence[str] = (),
        python: str | None = None,
        debug: bool = False,
        bytecode: bool = True,
        spares: bool = True,
        active: int | None = None,
        overflow_after: float = 0.1,
    ) -> None:
        if workers is None:
            env = os.environ.get("ADHERE_WORKERS", "")
            workers = int(env) if env.isdigit() and int(env) > 0 else (os.cpu_count() or 1)
        if isolation is None:
            isolation = os.environ.get("ADHERE_SANDBOX_ISOLATION", "auto")
        if isolation not in ("auto", "none"):
            raise ValueError(f"isolation must be 'auto' or 'none', got {isolation!r}")
        self.workers = max(1, int(workers))
        self.active = self.workers if active is None else max(1, min(self.workers, int(active)))
        self._overflow_after = max(0.0, float(overflow_after))
        self._overflow_period = max(0.005, self._overflow_after / 2)  # how often overflow slots look
        self._busy_since: list[float | None] = [None] * self.workers  # per slot: its job's start
        self._closing = threading.Event()
        self._config = {
            "isolate": isolation,
            "preload": list(preload),
            "work_bytes": int(work_bytes),
            "keep": _keep_paths(keep),
            "sys_path": [p for p in sys.path if p],
            "seccomp": True,
            "spares": bool(spares),
        }
        self._python = python or sys.executable
        self._bytecode = bool(bytecode)
        self._debug = debug
        self._queue: queue.SimpleQueue[tuple[Job, Future[JobResult]] | None] = queue.SimpleQueue()
        self._zygotes: list[_Zygote | None] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._started = False
        self._closed = False
        self._job_ids = iter(range(1, 1 << 31))
        self._protections: Protections | None = None
        self.respawns = 0

    # -- lifecycle ------------------------------------------------------------------------
    def _spawn(self) -> _Zygote:
        z = _Zygote(self._config, self._python, self._debug)
        protections = z.wait_ready(_START_TIMEOUT)
        if self._protections is None:
            self._protections = protections
            _warn_once(protections)
        return z

    def start(self) -> LocalExecutor:
        """Start the zygotes now (otherwise the first job does)."""
        with self._lock:
            if self._closed:
                raise SandboxError("this executor is closed")
            if self._started:
                return self
            procs = [_Zygote(self._config, self._python, self._debug) for _ in range(self.workers)]
            try:
                for z in procs:
                    p = z.wait_ready(_START_TIMEOUT)
                    if self._protections is None:
                        self._protections = p
                        _warn_once(p)
            except BaseException:
                for z in procs:
                    z.kill()
                raise
            self._zygotes = list(procs)
            for i in range(self.workers):
                t = threading.Thread(target=self._work, args=(i,), name=f"adhere-sandbox-{i}", daemon=True)
                t.start()
                self._threads.append(t)
            self._started = True
        return self

    def close(self) -> None:
        """Stop the zygotes; pending jobs are cancelled."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._closing.set()
        for _ in self._threads:
            self._queue.put(None)
        for t in self._threads:
            t.join(timeout=30)
        for z in self._zygotes:
            if z is not None:
                z.quit()

    def __enter__(self) -> LocalExecutor:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def protections(self) -> Protections:
        """The protections the zygotes got (starts the pool if needed)."""
        self.start()
        assert self._protections is not None
        return self._protections

    def zygote_pids(self) -> list[int]:
        """Host pids of the zygotes (for tests and ``adhere doctor``)."""
        return [z.pid for z in self._zygotes if z is not None]

    # -- running --------------------------------------------------------------------------
    def submit(self, job: Job) -> Future[JobResult]:
        """Queue one job; the future resolves to its :class:`JobResult`."""
        if not isinstance(job, Job):
            raise TypeError(f"expected a Job, got {type(job).__name__}")
        self.start()
        fut: Future[JobResult] = Future()
        self._queue.put((job, fut))
        return fut

    def run(self, jobs: Iterable[Job]) -> list[JobResult]:
        """Run jobs concurrently on the pool; results in the order of ``jobs``."""
        futures = [self.submit(j) for j in jobs]
        try:
            return [f.result() for f in futures]
        except BaseException:
            for f in futures:
                f.cancel()
            raise

    async def run_async(self, jobs: Iterable[Job]) -> list[JobResult]:
        """:meth:`run` for asyncio code: awaits without blocking the event loop."""
        futures = [asyncio.wrap_future(self.submit(j)) for j in jobs]
        return list(await asyncio.gather(*futures))

    def _work(self, index: int) -> None:
        overflow = index >= self.active
        while True:
            if overflow and not self._overflow_needed(index):
                return  # closing
            try:
                # An overflow slot waits for a job only while its check holds (looked at again
                # every period): a job that comes after the long ones ended goes to an active slot.
                item = self._queue.get(timeout=self._overflow_period) if overflow else self._queue.get()
            except queue.Empty:
                continue
            if item is None:
                return
            job, fut = item
            if not fut.set_running_or_notify_cancel():
                continue
            self._busy_since[index] = time.monotonic()
            try:
                result = self._execute(index, job)
            except SandboxError as exc:
                fut.set_exception(exc)
                continue
            except Exception as exc:  # our bug: never lose the job silently
                result = JobResult("unscorable", reason=f"sandbox error: {type(exc).__name__}: {exc}", label=job.label)
            finally:
                self._busy_since[index] = None
            fut.set_result(result)

    def _overflow_needed(self, index: int) -> bool:
        """Block overflow slot ``index`` until as many other slots as it is deep among the
        overflow ones hold a long job; False when the executor closes.

        Looks every half ``overflow_after``: a few wake-ups a second per overflow slot, and
        nothing on the path of a job.
        """
        need = index - self.active + 1
        while not self._closing.is_set():
            now = time.monotonic()
            held = 0
            for i, since in enumerate(self._busy_since):
                if i != index and since is not None and now - since >= self._overflow_after:
                    held += 1
            if held >= need:
                return True
            self._closing.wait(self._overflow_period)
        return False

    def _zygote(self, index: int) -> _Zygote:
        z = self._zygotes[index]
        if z is None or not z.alive():
            if z is not None:
                z.kill()
            self.respawns += 1
            z = self._zygotes[index] = self._spawn()
        return z

    def _retire(self, index: int) -> None:
        z = self._zygotes[index]
        if z is not None:
            z.kill()
        self._zygotes[index] = None

    def _execute(self, index: int, job: Job) -> JobResult:
        for attempt in (1, 2):
            try:
                if job.is_script:
                    return self._run_script(index, job)
                return self._run_calls(index, job)
            except _ZygoteGone as exc:
                self._retire(index)
                if attempt == 2:
                    return JobResult("unscorable", reason=f"sandbox worker failed twice: {exc}", label=job.label)
        raise AssertionError("unreachable")  # pragma: no cover

    def _exchange(
        self, index: int, request: dict[str, Any], wall: float, on_output: Any, on_stdout: Any = None
    ) -> dict[str, Any]:
        """Send one request and pump its messages until the zygote reports it done."""
        z = self._zygote(index)
        job_id = next(self._job_ids)
        if self._bytecode and z.bytecode == _MAGIC:
            request["compiled"] = _bytecode(request)
        try:
            z.send(_protocol.JOB, job_id, pickle.dumps(request, protocol=5))
        except OSError as exc:
            raise _ZygoteGone(f"could not send the job ({exc})") from None
        # The zygote may stretch a starved job's wall clock up to _STARVED_FACTOR times.
        deadline = time.monotonic() + _STARVED_FACTOR * wall + _GRACE
        cancelled = False
        while True:
            left = deadline - time.monotonic()
            try:
                msg = z.read(max(0.0, left)) if left > 0 else None
            except EOFError:
                raise _ZygoteGone("the zygote exited during the job") from None
            if msg is None:
                raise _ZygoteGone(f"no answer within {_STARVED_FACTOR * wall + _GRACE:g} s")
            kind, jid, payload = msg
            if jid != job_id:
                continue
            if kind == _protocol.OUTPUT:
                if on_output(payload) and not cancelled:
                    cancelled = True
                    with contextlib.suppress(OSError):
                        z.send(_protocol.CANCEL, job_id)
            elif kind == _protocol.STDOUT:
                if on_stdout is not None:
                    on_stdout(payload)
            elif kind == _protocol.DONE:
                report: dict[str, Any] = json.loads(payload)
                if report.get("reason") in ("internal", "unkillable"):
                    raise _ZygoteGone(str(report.get("error") or report.get("reason")))
                return report

    def _run_calls(self, index: int, job: Job) -> JobResult:
        nonce = os.urandom(12).hex()
        tests = list(job.tests)
        per_test = [getattr(t, "seconds", None) or job.limits.test_seconds for t in tests]
        request = {
            "mode": "call",
            "program": job.program,
            "entry_point": job.entry_point,
            "setup": job.setup,
            "probes": [t.probe() for t in tests],  # type: ignore[union-attr]
            "nonce": nonce,
            "limits": job.limits.wire(),
            "test_limits": None if all(s is None for s in per_test) else [s or float("inf") for s in per_test],
            "stop_on_error": job.stop_on_failure,
            "main": job.main,
            "seed": 0,
        }
        run = _Run(job, nonce)

        def on_output(chunk: bytes) -> bool:
            run.feed(chunk)
            return bool(job.stop_on_failure and (run.failed or run.tampered))

        # A trailing partial line is a result cut by a kill (output cap, timeout): dropped.
        report = self._exchange(index, request, job.limits.wall_seconds, on_output)
        return self._finish_calls(job, run, report)

    def _finish_calls(self, job: Job, run: _Run, report: dict[str, Any]) -> JobResult:
        tests = job.tests

        def label(i: int) -> str:
            return getattr(tests[i], "label", "")

        if report.get("exit") == 73:
            return JobResult("unscorable", reason="the sandbox could not set up the job's process", label=job.label)
        results = dict(run.results)
        if job.stop_on_failure:
            # The harness cannot see a wrong answer (the comparison happens here), so the
            # job is cancelled when one arrives and the child may finish a few more tests
            # before the cancel lands: how many depends on timing. Keep what a stop at the
            # first failure gives, so the same program always gets the same verdict tree.
            first_bad = min((i for i, r in results.items() if r.status != "passed"), default=None)
            if first_bad is not None:
                results = {i: r for i, r in results.items() if i <= first_bad}
        problem: tuple[Status, str] | None = None
        if run.tampered:
            problem = ("error", run.tampered)
            if run.next_index < len(tests):
                results[run.next_index] = TestResult(
                    run.next_index, "error", None, run.tampered, label=label(run.next_index)
                )
        elif run.loaded is False:
            st: Status = "memory" if run.load_error.startswith("MemoryError") else "error"
            problem = (st, f"the program did not load: {run.load_error}")
        elif run.loaded is None:
            st, why = _kill_status(report, job, None)
            problem = (st, f"the program did not load: {why}")
        elif not run.finished and report.get("reason") != "cancelled" and run.next_index < len(tests):
            first = run.next_index
            if report.get("reason") == "test_timeout" and isinstance(report.get("test"), int):
                first = min(max(report["test"], first), len(tests) - 1)
            st, why = _kill_status(report, job, first if report.get("reason") == "test_timeout" else None)
            results[first] = TestResult(first, st, None, why, label=label(first))
        final = tuple(results.get(i) or TestResult(i, "not_run", label=label(i)) for i in range(len(tests)))
        bad = next((r for r in final if r.status not in ("passed", "not_run")), None)
        status: Status
        if bad is not None:
            status, reason = bad.status, f"test {bad.index}: {bad.reason}" if bad.reason else bad.status
        elif problem is not None:
            status, reason = problem
        elif any(r.status == "not_run" for r in final):
            status, reason = "error", "the program stopped before its tests finished"
        else:
            status, reason = "passed", ""
        return JobResult(
            status,
            final,
            reason,
            float(report.get("wall") or 0.0),
            report.get("cpu"),
            report.get("maxrss_kb"),
            job.label,
        )

    def _run_script(self, index: int, job: Job) -> JobResult:
        results: list[TestResult] = []
        total = 0.0
        cpu = 0.0
        stopped = False
        for i, test in enumerate(job.tests):
            assert isinstance(test, Stdio)
            if stopped:
                results.append(TestResult(i, "not_run", label=test.label))
                continue
            result, report = self._one_script(index, job, i, test)
            total += float(report.get("wall") or 0.0)
            cpu += float(report.get("cpu") or 0.0)
            results.append(result)
            if not result.passed and job.stop_on_failure:
                stopped = True
        bad = next((r for r in results if r.status not in ("passed", "not_run")), None)
        status: Status = "passed" if bad is None else bad.status
        reason = "" if bad is None else f"test {bad.index}: {bad.reason}"
        return JobResult(status, tuple(results), reason, total, cpu, None, job.label)

    def _one_script(self, index: int, job: Job, i: int, test: Stdio) -> tuple[TestResult, dict[str, Any]]:
        nonce = os.urandom(12).hex()
        seconds = test.seconds or job.limits.test_seconds or job.limits.wall_seconds
        limits = job.limits.wire()
        limits["wall"] = float(seconds)
        limits["cpu"] = float(min(limits["cpu"], seconds)) if job.limits.cpu_seconds else float(seconds)
        stdin = test.stdin.encode() if isinstance(test.stdin, str) else bytes(test.stdin)
        request = {
            "mode": "script",
            "program": job.program,
            "nonce": nonce,
            "limits": limits,
            "stdin": stdin,
            "seed": 0,
        }
        run = _Run(job, nonce)
        out = bytearray()

        def on_output(chunk: bytes) -> bool:
            run.feed(chunk)
            return False

        report = self._exchange(index, request, seconds, on_output, out.extend)
        if report.get("exit") == 73:
            return TestResult(i, "unscorable", None, "the sandbox could not set up the job's process"), report
        duration = float(report.get("wall") or 0.0)
        text = out.decode("utf-8", "replace")
        if run.tampered:
            return TestResult(i, "error", duration, run.tampered, text, test.label), report
        if run.loaded is False:
            return TestResult(
                i, "error", duration, f"the program did not load: {run.load_error}", text, test.label
            ), report
        if run.exit_line is None:
            st, why = _kill_status(report, job, None)
            if report.get("reason") in ("timeout", "test_timeout"):
                why = f"timed out after {seconds:g} s"
            return TestResult(i, st, duration, why, text, test.label), report
        _, _, code, name, message = run.exit_line
        if name == "MemoryError":
            return TestResult(i, "memory", duration, "ran out of memory (MemoryError)", text, test.label), report
        if code != 0 or name:
            why = f"exited with code {code}" + (f": {name}: {message}" if name else "")
            return TestResult(i, "error", duration, why, text, test.label), report
        if test.expected is None:
            return TestResult(i, "passed", duration, "", text, test.label), report
        expected = test.expected.decode("utf-8", "replace") if isinstance(test.expected, bytes) else test.expected
        ok, why = _compare_stdout(text, expected, test.compare)
        return TestResult(i, "passed" if ok else "failed", duration, why, text, test.label), report


def _compare_stdout(got: str, expected: str, mode: Any) -> tuple[bool, str]:
    if callable(mode):
        return _judgement(mode(got, expected))
    if mode == "whitespace":
        ok = got.split() == expected.split()
    elif mode == "lines":

        def lines(s: str) -> list[str]:
            out = [line.rstrip() for line in s.replace("\r\n", "\n").split("\n")]
            while out and not out[-1]:
                out.pop()
            return out

        ok = lines(got) == lines(expected)
    else:
        ok = got == expected
    return ok, "" if ok else f"printed {preview(got)}, expected {preview(expected)}"


_default: LocalExecutor | None = None
_default_lock = threading.Lock()


def default_executor() -> LocalExecutor:
    """The process-wide executor suites use unless given one (closed at exit)."""
    global _default
    with _default_lock:
        if _default is None or _default._closed:
            _default = LocalExecutor()
            atexit.register(_default.close)
        return _default
