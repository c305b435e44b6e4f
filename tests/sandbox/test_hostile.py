"""Hostile programs, one test each: none may pass, and the host and the pool must stay as
they were (no files outside the work area, no network, no stray processes, the same
zygotes still serving).

Every hostile program answers the task *wrongly* and attacks; if an attack worked (a
forged result, an ``__eq__`` that always says yes, a killed supervisor) the sample would
pass or the harness would break. The task: ``add(a, b)``, tested with ``add(2, 3) == 5``.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from adhere.sandbox import Call, Check, Job, JobResult, Limits, LocalExecutor, Stdio

TESTS = [Call((2, 3), 5), Call((10, -4), 6)]


@pytest.fixture(autouse=True)
def _full_sandbox(executor: LocalExecutor) -> None:
    """These tests hold the sandbox to its full design; where the kernel refuses namespaces
    or seccomp, they skip and say so (``adhere doctor`` shows what is missing)."""
    protections = executor.protections()
    if not protections.full:
        pytest.skip("degraded sandbox here, missing: " + ", ".join(protections.missing()))


FAST = Limits(wall_seconds=2.0, memory_bytes=512 << 20)


def run(executor: LocalExecutor, program: str, limits: Limits = FAST, tests: list[Any] | None = None) -> JobResult:
    [result] = executor.run([Job(program, tests or TESTS, entry_point="add", limits=limits)])
    return result


def assert_not_passed(result: JobResult, *allowed: str) -> None:
    assert result.passed is False, result
    if allowed:
        assert result.status in allowed, result


def assert_work_area_clean(executor: LocalExecutor) -> None:
    """The next job of each zygote starts in an empty work area."""
    probe = "import os\ndef add(a, b):\n    return [os.listdir('/tmp'), os.listdir('.'), os.getcwd()]\n"
    results = executor.run([Job(probe, [Call((0, 0))], entry_point="add") for _ in range(4)])
    for r in results:
        assert r.passed
        listing, here, cwd = r.tests[0].value
        if cwd == "/tmp/job":  # the private root
            assert listing == ["job"]
        assert here == []


def test_fork_bomb(executor: LocalExecutor, pool: Any) -> None:
    program = (
        "import os\n"
        "def add(a, b):\n"
        "    n = 0\n"
        "    while True:\n"
        "        try:\n"
        "            os.fork()\n"
        "            n += 1\n"
        "        except OSError:\n"
        "            return n\n"
    )
    result = run(executor, program)
    assert_not_passed(result, "failed")
    assert result.tests[0].value == 0  # fork is not allowed at all with processes=1
    pool.assert_intact()


def test_fork_bomb_when_processes_are_allowed(executor: LocalExecutor, pool: Any) -> None:
    program = (
        "import os, time\n"
        "def add(a, b):\n"
        "    for _ in range(100000):\n"
        "        try:\n"
        "            os.fork()\n"
        "        except OSError:\n"
        "            time.sleep(0.01)\n"
        "    return a + b + 1\n"
    )
    result = run(executor, program, Limits(wall_seconds=1.5, processes=8, memory_bytes=512 << 20))
    assert_not_passed(result)
    pool.assert_intact()


def test_memory_bomb(executor: LocalExecutor, pool: Any) -> None:
    program = "def add(a, b):\n    blocks = []\n    while True:\n        blocks.append(bytearray(50 << 20))\n"
    result = run(executor, program, Limits(wall_seconds=5, memory_bytes=256 << 20))
    assert_not_passed(result, "memory")
    pool.assert_intact()


def test_infinite_loop_swallowing_every_exception(executor: LocalExecutor, pool: Any) -> None:
    program = (
        "def add(a, b):\n"
        "    while True:\n"
        "        try:\n"
        "            while True:\n"
        "                pass\n"
        "        except BaseException:\n"
        "            pass\n"
    )
    t0 = time.monotonic()
    result = run(executor, program, Limits(wall_seconds=1.0))
    assert_not_passed(result, "timeout")
    assert time.monotonic() - t0 < 4 * 1.0 + 10  # its limit (stretched on a starved CPU up to 4x), never unbounded
    pool.assert_intact()


def test_huge_stdout_and_stderr(executor: LocalExecutor, pool: Any) -> None:
    program = (
        "import os, sys\n"
        "def add(a, b):\n"
        "    for _ in range(200):\n"
        "        print('x' * 100_000)\n"
        "        sys.stderr.write('y' * 100_000)\n"
        "        os.write(1, b'z' * 100_000)\n"
        "        os.write(2, b'w' * 100_000)\n"
        "    return a - b\n"
    )
    assert_not_passed(run(executor, program), "failed")
    script = "import sys\nwhile True:\n    sys.stdout.write('x' * 1_000_000)\n"
    [flood] = executor.run([Job(script, [Stdio("", "5\n")], limits=Limits(wall_seconds=5, output_bytes=1 << 20))])
    assert_not_passed(flood, "output_limit")
    assert len(flood.tests[0].value) <= 1 << 20
    pool.assert_intact()


def test_deleting_and_writing_files_outside_the_work_area(executor: LocalExecutor, pool: Any, tmp_path: Path) -> None:
    sentinel = tmp_path / "sentinel.txt"
    sentinel.write_text("keep me")
    here = Path(__file__)
    marker = f"adhere-hostile-{uuid.uuid4().hex}"
    targets = [str(tmp_path / marker), f"/tmp/{marker}", str(Path.home() / marker), f"/usr/{marker}",
               str(Path(os.__file__).parent / marker), str(here.parent / marker)]  # fmt: skip
    program = (
        "import os, shutil\n"
        "def add(a, b):\n"
        "    done = []\n"
        f"    for path in {[str(sentinel), str(here)]!r}:\n"
        "        try:\n"
        "            os.remove(path); done.append('removed ' + path)\n"
        "        except OSError:\n"
        "            pass\n"
        f"    for path in {targets!r}:\n"
        "        try:\n"
        "            open(path, 'w').write('owned'); done.append('wrote ' + path)\n"
        "        except OSError:\n"
        "            pass\n"
        "    return done\n"
    )
    result = run(executor, program, tests=[Call((2, 3), 5)])
    assert_not_passed(result, "failed")
    assert sentinel.read_text() == "keep me" and here.exists()
    for target in targets:
        assert not os.path.exists(target), target
    written = result.tests[0].value
    # The only writable place is the job's own work area, which the host never sees.
    assert all(w.startswith("wrote /tmp/") for w in written), written
    assert_work_area_clean(executor)
    pool.assert_intact()


def test_reading_environment_secrets_and_the_home_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = f"s3cr3t-{uuid.uuid4().hex}"
    monkeypatch.setenv("ADHERE_TEST_SECRET", secret)
    canary = Path.home() / f".adhere-canary-{uuid.uuid4().hex}"
    canary.write_text(secret)
    try:
        program = (
            "import os, glob\n"
            "def add(a, b):\n"
            "    found = [v for v in os.environ.values()]\n"
            "    for pid in ['self', '1']:\n"
            "        try:\n"
            "            found.append(open(f'/proc/{pid}/environ', 'rb').read().decode('latin-1'))\n"
            "        except OSError:\n"
            "            pass\n"
            f"    for path in [{str(canary)!r}, os.path.expanduser('~')]:\n"
            "        try:\n"
            "            found.append(open(path).read())\n"
            "        except OSError:\n"
            "            pass\n"
            f"    found += glob.glob({str(Path.home())!r} + '/.*')\n"
            "    return found\n"
        )
        with LocalExecutor(workers=1) as ex:  # started after the secret was set
            result = run(ex, program, tests=[Call((2, 3), 5)])
        assert_not_passed(result, "failed")
        seen = " ".join(map(str, result.tests[0].value))
        assert secret not in seen and canary.name not in seen
    finally:
        canary.unlink()


def test_opening_sockets(executor: LocalExecutor, pool: Any) -> None:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(0.2)
    port = server.getsockname()[1]
    connections: list[object] = []
    done = threading.Event()

    def accept() -> None:
        while not done.is_set():
            try:
                connections.append(server.accept())
            except OSError:
                continue

    thread = threading.Thread(target=accept)
    thread.start()
    program = (
        "import socket, urllib.request\n"
        "def add(a, b):\n"
        "    out = []\n"
        f"    for target in [('127.0.0.1', {port}), ('1.1.1.1', 53)]:\n"
        "        try:\n"
        "            s = socket.create_connection(target, timeout=0.5); s.send(b'hi'); out.append('connected')\n"
        "        except OSError as e:\n"
        "            out.append(type(e).__name__)\n"
        "    try:\n"
        "        socket.socket(socket.AF_UNIX).connect('/run/dbus/system_bus_socket'); out.append('unix')\n"
        "    except OSError as e:\n"
        "        out.append(type(e).__name__)\n"
        "    return out\n"
    )
    try:
        result = run(executor, program, tests=[Call((2, 3), 5)])
        done.set()
        thread.join()
    finally:
        server.close()
    assert_not_passed(result, "failed")
    assert "connected" not in result.tests[0].value and "unix" not in result.tests[0].value
    assert connections == []
    pool.assert_intact()


def test_killing_the_parent_and_its_siblings(executor: LocalExecutor, pool: Any) -> None:
    targets = [os.getpid(), *executor.zygote_pids(), 1]
    program = (
        "import os, signal\n"
        "def add(a, b):\n"
        f"    for pid in {targets!r} + [os.getppid()]:\n"
        "        for sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGSTOP):\n"
        "            try:\n"
        "                os.kill(pid, sig)\n"
        "            except OSError:\n"
        "                pass\n"
        "    for call in (lambda: os.killpg(0, signal.SIGKILL), lambda: os.kill(-1, signal.SIGKILL)):\n"
        "        try:\n"
        "            call()\n"
        "        except OSError:\n"
        "            pass\n"
        "    return a - b\n"
    )
    results = executor.run([Job(program, TESTS, entry_point="add", limits=FAST) for _ in range(4)])
    for r in results:
        assert r.passed is False  # killing itself, or failing: never passing
    assert os.getpid() == targets[0]  # we are still here
    pool.assert_intact()
    assert run(executor, "def add(a, b):\n    return a + b\n").passed  # and the pool still serves


@pytest.mark.parametrize("exit_call", ["os._exit(0)", "sys.exit(0)", "raise SystemExit(0)", "os.kill(os.getpid(), 9)"])
def test_exiting_before_the_tests_run(executor: LocalExecutor, pool: Any, exit_call: str) -> None:
    top = run(executor, f"import os, sys\n{exit_call}\ndef add(a, b):\n    return a + b\n")
    inside = run(executor, f"import os, sys\ndef add(a, b):\n    {exit_call}\n")
    assert_not_passed(top, "error")
    assert_not_passed(inside, "error")
    pool.assert_intact()


def test_eq_that_always_returns_true(executor: LocalExecutor, pool: Any) -> None:
    program = (
        "class Yes(int):\n"
        "    def __eq__(self, other): return True\n"
        "    def __ne__(self, other): return False\n"
        "    __hash__ = int.__hash__\n"
        "class Anything:\n"
        "    def __eq__(self, other): return True\n"
        "    def __bool__(self): return True\n"
        "def add(a, b):\n"
        "    return Yes(0) if a == 2 else Anything()\n"
    )
    result = run(executor, program, tests=[*TESTS, Check(("candidate(2, 3)",), lambda v: v[0] == 5)])
    assert_not_passed(result, "failed")
    assert [t.status for t in result.tests][:1] == ["failed"]
    pool.assert_intact()


def test_monkeypatching_the_harness_and_builtins(executor: LocalExecutor, pool: Any) -> None:
    program = (
        "import builtins, json, sys\n"
        "builtins.abs = lambda x: 0\n"
        "builtins.isinstance = lambda *a: True\n"
        "json.JSONEncoder.encode = lambda self, o: '5'\n"
        "for name, module in list(sys.modules.items()):\n"
        "    if 'sandbox' in name:\n"
        "        for attr in ('encode', '_encode', '_dumps'):\n"
        "            if hasattr(module, attr):\n"
        "                setattr(module, attr, lambda *a, **k: '5')\n"
        "def add(a, b):\n"
        "    return a - b\n"
    )
    # A harness rewritten to report "5" only *forges an output*: it supplies no expected value
    # it was not given, so the tests whose answers the program does not compute stay failed.
    checks = [*TESTS, Check(("candidate(10, -4)",), lambda v: abs(v[0] - 6) < 1e-9)]
    result = run(executor, program, tests=checks)
    assert_not_passed(result)
    pool.assert_intact()


def test_writing_fake_results_to_inherited_descriptors(executor: LocalExecutor, pool: Any) -> None:
    program = (
        "import os\n"
        "def add(a, b):\n"
        '    forged = b\'["x","t",0,"ok",5,1]\\n["x","t",1,"ok",6,1]\\n["x","done"]\\n\'\n'
        "    for fd in range(0, 256):\n"
        "        try:\n"
        "            os.write(fd, forged)\n"
        "        except OSError:\n"
        "            pass\n"
        "    for fd in range(0, 256):\n"
        "        try:\n"
        "            os.lseek(fd, 0, 0); os.write(fd, forged)\n"
        "        except OSError:\n"
        "            pass\n"
        "    return a - b\n"
    )
    assert_not_passed(run(executor, program), "error", "failed")
    pool.assert_intact()


def test_threads_left_running_after_return(executor: LocalExecutor, pool: Any) -> None:
    program = (
        "import threading, time, os\n"
        "def spin():\n"
        "    while True:\n"
        "        try:\n"
        '            os.write(3, b\'["x","done"]\\n\')\n'
        "        except OSError:\n"
        "            pass\n"
        "        time.sleep(0.001)\n"
        "def add(a, b):\n"
        "    for _ in range(4):\n"
        "        threading.Thread(target=spin, daemon=False).start()\n"
        "    return a - b\n"
    )
    assert_not_passed(run(executor, program))
    pool.assert_intact()


def test_deep_recursion(executor: LocalExecutor, pool: Any) -> None:
    plain = run(executor, "def add(a, b):\n    return add(a, b)\n")
    assert_not_passed(plain, "error")
    assert "RecursionError" in plain.reason
    unbounded = run(
        executor,
        "import sys\nsys.setrecursionlimit(10**9)\ndef add(a, b):\n    return add(a, b) + 1\n",
        Limits(wall_seconds=1, memory_bytes=256 << 20),
    )
    assert_not_passed(unbounded, "error", "memory", "timeout")
    pool.assert_intact()


def test_segfault_through_ctypes(executor: LocalExecutor, pool: Any) -> None:
    result = run(executor, "import ctypes\ndef add(a, b):\n    return ctypes.string_at(0xFFFFFFFFFFFF0000, 10)\n")
    assert_not_passed(result, "error")
    assert "SIGSEGV" in result.reason
    pool.assert_intact()


def test_spawning_a_daemon_that_outlives_the_job(executor: LocalExecutor, pool: Any) -> None:
    program = (
        "import os, time\n"
        "def add(a, b):\n"
        "    if os.fork() == 0:\n"
        "        os.setsid()\n"
        "        if os.fork() == 0:\n"
        "            while True:\n"
        "                time.sleep(0.01)\n"
        "        os._exit(0)\n"
        "    time.sleep(0.1)\n"
        "    return a - b\n"
    )
    result = run(executor, program, Limits(wall_seconds=3, processes=4))
    assert_not_passed(result, "failed")
    pool.assert_intact()  # the daemon is gone with its job
    denied = run(executor, program)  # with the default of one process, fork itself fails
    assert_not_passed(denied, "error")
    assert "PermissionError" in denied.reason
    pool.assert_intact()


def test_filling_the_disk(executor: LocalExecutor, pool: Any) -> None:
    program = (
        "import os\n"
        "def add(a, b):\n"
        "    written = 0\n"
        "    for i in range(10_000):\n"
        "        try:\n"
        "            with open(f'fill{i}', 'wb') as f:\n"
        "                for _ in range(64):\n"
        "                    f.write(b'x' * (1 << 20)); written += 1 << 20\n"
        "        except OSError:\n"
        "            break\n"
        "    return written\n"
    )
    import shutil

    before = shutil.disk_usage("/").free
    result = run(executor, program, Limits(wall_seconds=20))
    assert_not_passed(result, "failed")
    written = result.tests[0].value
    assert isinstance(written, int) and written <= 128 << 20  # the work area's size, not the host disk
    assert abs(shutil.disk_usage("/").free - before) < 64 << 20
    assert_work_area_clean(executor)
    pool.assert_intact()


def test_signal_tricks(executor: LocalExecutor, pool: Any) -> None:
    program = (
        "import signal, os, time\n"
        "def add(a, b):\n"
        "    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGXCPU, signal.SIGALRM, signal.SIGHUP, signal.SIGUSR1):\n"
        "        signal.signal(s, signal.SIG_IGN)\n"
        "    signal.pthread_sigmask(signal.SIG_BLOCK, set(signal.Signals) - {signal.SIGKILL, signal.SIGSTOP})\n"
        "    signal.setitimer(signal.ITIMER_REAL, 0.01, 0.01)\n"
        "    while True:\n"
        "        pass\n"
    )
    stopper = "import os, signal\ndef add(a, b):\n    os.kill(os.getpid(), signal.SIGSTOP)\n    return a + b\n"
    t0 = time.monotonic()
    looping, stopped = executor.run(
        [Job(program, TESTS, entry_point="add", limits=Limits(wall_seconds=1.0)),
         Job(stopper, TESTS, entry_point="add", limits=Limits(wall_seconds=1.0))]
    )  # fmt: skip
    assert_not_passed(looping, "timeout")
    assert_not_passed(stopped, "timeout")
    assert time.monotonic() - t0 < 10
    pool.assert_intact()
