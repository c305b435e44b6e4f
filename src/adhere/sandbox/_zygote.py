"""The zygote: a small, warm Python process that forks one child per job.

Started by the supervisor as ``python -s -B _zygote.py CONFIG_JSON`` with a scrubbed
environment; its standard input and output are the control channel (see
:mod:`._protocol`). Start-up, in order:

1. pre-import the modules candidates commonly use (so a job does not pay for them);
2. open handles on the directories the new root will show (Python's prefix, the
   entries of ``sys.path``, the system directories);
3. ``unshare`` user, mount, pid, net, ipc and uts namespaces, map root to the caller's
   ids, and fork: the child becomes pid 1 of the new pid namespace (the outer process
   only waits). As pid 1 it cannot be signalled by the jobs, and when it dies the kernel
   kills every process in the namespace;
4. build a private root on tmpfs: read-only binds of the kept directories, a few
   device nodes, a fresh ``/proc``, a size-capped writable ``/tmp`` (the work area);
   ``pivot_root`` into it; the home directory, the datasets, the caches and every other
   path of the host are simply not there;
5. drop every capability, set ``no_new_privs`` and compile the seccomp filter;
6. report the protections in force and serve jobs.

Each protection is attempted separately; what fails is reported (``adhere doctor``)
and the rest still applies. Per job: a child, forked ahead while the zygote was idle (a
spare, see :class:`_Spare`) or forked when the job comes, calls ``setsid``, reads its
job, moves its result pipe to fd 3 and closes every other descriptor, enters the work
area, sets rlimits, loads the seccomp filter and runs :func:`._harness.run_job`. The
zygote relays the child's result stream, enforces the wall-clock and per-test deadlines
(SIGKILL, never ``signal.alarm``), caps the bytes relayed, reaps, and wipes the work area.

Standard library only (plus the sibling modules, loaded without importing ``adhere``).
"""

from __future__ import annotations

import contextlib
import errno
import gc
import importlib
import json
import math
import mmap
import os
import pickle
import resource
import select
import shutil
import signal
import stat
import struct
import sys
import time
from typing import Any

if __name__ == "__main__":  # loaded as a script: make the siblings importable, nothing else
    import types

    _here = os.path.dirname(os.path.abspath(__file__))
    for _name, _path in (("adhere", os.path.dirname(_here)), ("adhere.sandbox", _here)):
        if _name not in sys.modules:
            _mod = types.ModuleType(_name)
            _mod.__path__ = [_path]
            sys.modules[_name] = _mod
    from adhere.sandbox import _harness, _linux, _protocol, _seccomp
else:
    from . import _harness, _linux, _protocol, _seccomp

_ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "nsswitch.conf", "passwd", "group")
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_DEVICES = ("null", "zero", "full", "random", "urandom")
_PID_MAX = 512
_FIRST_RELAY = 0.002  # seconds after the fork before the first look at the results
_RELAY_EVERY = 0.005  # then how often partial results go to the supervisor
_STARVED_FACTOR = 4.0  # a starved job may take this many times its budget in wall time


class _State:
    """What the zygote knows after start-up."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.protections: dict[str, Any] = {"errors": []}
        self.in_pid_ns = False
        self.work_root = "/tmp"
        self.job_dir = "/tmp/job"
        self.bpf: bytes | None = None
        self.bpf_with_processes: bytes | None = None
        # Laid out once here, so a child loads its filter with one prctl (see _child).
        self.filters: dict[bool, _linux.PreparedFilter] = {}
        self.seccomp_ok = False
        self.shm = mmap.mmap(-1, 16, flags=mmap.MAP_SHARED)
        self.devnull = os.open(os.devnull, os.O_RDWR)
        self.has_pidfd = hasattr(os, "pidfd_open")
        self.spare: _Spare | None = None  # a child forked ahead, waiting for the next job
        self.spares = (
            bool(config.get("spares", True)) and _linux.IS_LINUX and self.has_pidfd and hasattr(os, "memfd_create")
        )
        self.spare_failures = 0

    def error(self, what: str, exc: BaseException) -> None:
        self.protections["errors"].append(f"{what}: {exc}")


# ----------------------------------------------------------------------------------------- #
# start-up
# ----------------------------------------------------------------------------------------- #


def _preload(names: list[str], state: _State) -> None:
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as exc:  # a missing optional module is not an error
            state.protections.setdefault("preload_skipped", []).append(f"{name}: {type(exc).__name__}")


def _kept_paths(config: dict[str, Any]) -> list[str]:
    """Directories to show read-only in the new root: system dirs and Python's own."""
    wanted = [p for p in config.get("keep", []) if os.path.isabs(p) and os.path.realpath(p) != "/"]
    real: list[str] = []
    for p in wanted:
        try:
            rp = os.path.realpath(p)
        except OSError:
            continue
        if os.path.isdir(rp):
            real.append(rp)
    real.sort()
    out: list[str] = []
    for p in real:
        if not any(p == q or p.startswith(q.rstrip("/") + "/") for q in out):
            out.append(p)
    return out


def _isolate(state: _State, ctl: tuple[int, int]) -> None:
    """Enter new namespaces; afterwards this process is pid 1 of its own pid namespace.

    Returns in the inner process only; the outer one waits for it and exits with its status.
    """
    prot = state.protections
    uid, gid = os.getuid(), os.getgid()
    flags = {
        "user": _linux.CLONE_NEWUSER,
        "mount": _linux.CLONE_NEWNS,
        "pid": _linux.CLONE_NEWPID,
        "net": _linux.CLONE_NEWNET,
        "ipc": _linux.CLONE_NEWIPC,
        "uts": _linux.CLONE_NEWUTS,
    }
    try:
        _linux.unshare(sum(flags.values()))
        done = dict.fromkeys(flags, True)
    except OSError as exc:
        state.error("namespaces", exc)
        done = dict.fromkeys(flags, False)
        # Without a user namespace an unprivileged process may still get none of the others.
        if os.geteuid() == 0:
            for name, flag in flags.items():
                if name == "user":
                    continue
                try:
                    _linux.unshare(flag)
                    done[name] = True
                except OSError:
                    pass
    prot["namespaces"] = done
    if done["user"]:
        try:
            _linux.write_id_maps(uid, gid)
        except OSError as exc:
            state.error("user namespace id map", exc)
    if not done["pid"]:
        return
    pid = os.fork()
    if pid:
        for fd in ctl:
            os.close(fd)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        while True:
            try:
                _, status = os.waitpid(pid, 0)
                break
            except InterruptedError:
                continue
            except ChildProcessError:
                os._exit(1)
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
    # The outer process only waits for us, so it cannot die before this line but by a kill
    # aimed at the whole zygote, which is what this asks the kernel to finish.
    _linux.prctl(_linux.PR_SET_PDEATHSIG, signal.SIGKILL)
    state.in_pid_ns = True


def _mkdirs(root: str, path: str) -> str:
    target = root + path
    os.makedirs(target, exist_ok=True)
    return target


def _build_root(state: _State) -> None:
    """A private root on tmpfs with read-only binds of what a Python job needs."""
    config = state.config
    new_root = "/tmp"
    _linux.mount(None, "/", None, _linux.MS_REC | _linux.MS_PRIVATE)
    # Handles first: the tmpfs below hides /tmp, where a kept path (a venv) may live.
    handles: dict[str, int] = {}
    for path in _kept_paths({"keep": [*_SYSTEM_DIRS, *config.get("keep", [])]}):
        try:
            handles[path] = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError as exc:
            state.error(f"keep {path}", exc)
    try:
        _populate_root(state, new_root, handles)
    finally:
        for fd in handles.values():
            os.close(fd)


def _populate_root(state: _State, new_root: str, handles: dict[str, int]) -> None:
    config = state.config
    _linux.mount("tmpfs", new_root, "tmpfs", _linux.MS_NOSUID | _linux.MS_NODEV, "mode=0755,size=16m")
    for path, fd in sorted(handles.items()):
        target = _mkdirs(new_root, path)
        _linux.bind_mount(f"/proc/self/fd/{fd}", target)
        _linux.make_readonly(target)
    for name in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(name) and not os.path.lexists(new_root + name):
            os.symlink(os.readlink(name), new_root + name)
    etc = _mkdirs(new_root, "/etc")
    for name in _ETC_FILES:
        src = "/etc/" + name
        if os.path.islink(src):
            os.symlink(os.readlink(src), f"{etc}/{name}")
        elif os.path.isdir(src):
            os.makedirs(f"{etc}/{name}", exist_ok=True)
            _linux.bind_mount(src, f"{etc}/{name}")
            _linux.make_readonly(f"{etc}/{name}")
        elif os.path.isfile(src):
            open(f"{etc}/{name}", "w").close()
            _linux.bind_mount(src, f"{etc}/{name}")
            _linux.make_readonly(f"{etc}/{name}")
    dev = _mkdirs(new_root, "/dev")
    for name in _DEVICES:
        if os.path.exists("/dev/" + name):
            open(f"{dev}/{name}", "w").close()
            _linux.bind_mount("/dev/" + name, f"{dev}/{name}")
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1")):
        os.symlink(target, f"{dev}/{name}")
    os.symlink("/proc/self/fd/2", f"{dev}/stderr")
    proc = _mkdirs(new_root, "/proc")
    _linux.mount("proc", proc, "proc", _linux.MS_NOSUID | _linux.MS_NODEV | _linux.MS_NOEXEC)
    work = _mkdirs(new_root, "/tmp")
    size = int(config.get("work_bytes", 64 << 20))
    _linux.mount("tmpfs", work, "tmpfs", _linux.MS_NOSUID | _linux.MS_NODEV, f"mode=0777,size={size},nr_inodes=16384")
    old = _mkdirs(new_root, "/.old")
    _linux.pivot_root(new_root, old)
    os.chdir("/")
    _linux.umount_detach("/.old")
    os.rmdir("/.old")
    _linux.make_readonly("/", recursive=False)
    state.work_root = "/tmp"
    state.job_dir = "/tmp/job"


def _set_pid_cap(state: _State) -> None:
    try:
        with open("/proc/sys/kernel/pid_max", "w") as f:
            f.write(str(_PID_MAX))
        state.protections["pid_cap"] = _PID_MAX
    except OSError:
        state.protections["pid_cap"] = None


def start(config: dict[str, Any], ctl: tuple[int, int]) -> _State:
    state = _State(config)
    prot = state.protections
    prot["python"] = sys.version.split()[0]
    # Bytecode compiled by the submitter loads here only under the same magic (see _compiled).
    bootstrap = sys.modules.get("_frozen_importlib_external")
    prot["bytecode"] = getattr(bootstrap, "MAGIC_NUMBER", b"").hex()
    _preload(list(config.get("preload", [])), state)
    isolate = config.get("isolate", "auto") != "none" and _linux.IS_LINUX
    prot["filesystem"] = "shared"
    if isolate:
        _isolate(state, ctl)
        ns = prot["namespaces"]
        if ns.get("mount") and state.in_pid_ns:
            try:
                _build_root(state)
                prot["filesystem"] = "private-root"
            except OSError as exc:
                state.error("private root", exc)
        if ns.get("uts"):
            try:
                _linux.set_hostname("sandbox")
            except OSError as exc:
                state.error("hostname", exc)
        if state.in_pid_ns:
            _set_pid_cap(state)
    else:
        prot["namespaces"] = dict.fromkeys(("user", "mount", "pid", "net", "ipc", "uts"), False)
    if prot["filesystem"] != "private-root":
        import tempfile

        state.work_root = tempfile.mkdtemp(prefix="adhere-sandbox-")
        state.job_dir = os.path.join(state.work_root, "job")
        if _linux.IS_LINUX:
            try:
                _linux.prctl(_linux.PR_SET_CHILD_SUBREAPER, 1)
            except OSError as exc:
                state.error("subreaper", exc)
    os.makedirs(state.job_dir, exist_ok=True)
    if prot["filesystem"] != "private-root":
        _leave_root(state)
    if _linux.IS_LINUX:
        with contextlib.suppress(OSError):  # jobs inherit it: "adhere-sandbox" in ps, top and perf
            _linux.set_process_name("adhere-sandbox")
        try:
            _linux.prctl(_linux.PR_SET_DUMPABLE, 0)
        except OSError as exc:
            state.error("dumpable", exc)
        try:
            _linux.drop_capabilities()
            prot["capabilities_dropped"] = True
        except OSError as exc:
            state.error("capabilities", exc)
            prot["capabilities_dropped"] = False
        try:
            _linux.prctl(_linux.PR_SET_NO_NEW_PRIVS, 1)
            prot["no_new_privs"] = True
        except OSError as exc:
            state.error("no_new_privs", exc)
            prot["no_new_privs"] = False
    if config.get("seccomp", True) and _linux.IS_LINUX:
        try:
            own = None if state.in_pid_ns else os.getpid()  # placeholder: replaced per child below
            state.bpf = _seccomp.compile_filter(allow_processes=False, own_pid=own)
            state.bpf_with_processes = _seccomp.compile_filter(allow_processes=True, own_pid=own)
            state.seccomp_ok = _probe_seccomp(state.bpf)
            if not state.seccomp_ok:
                state.bpf = state.bpf_with_processes = None
            elif state.in_pid_ns:
                state.filters = {
                    False: _linux.PreparedFilter(state.bpf),
                    True: _linux.PreparedFilter(state.bpf_with_processes),
                }
        except OSError as exc:
            state.error("seccomp", exc)
    prot["seccomp"] = state.seccomp_ok
    prot["seccomp_library"] = _seccomp.library_version()
    prot["pidfd"] = state.has_pidfd
    prot["rlimits"] = True
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(sig, signal.SIG_DFL)
    # The first compile() in a process builds the interpreter's ~120 AST node types
    # (CPython's PyAST_Check -> init_types). Done here, once, every job inherits them; left
    # to the child, it was about a tenth of a one-line job's CPU, page faults included.
    compile("0", "<warm>", "eval", dont_inherit=True)
    gc.collect()
    gc.freeze()
    prot["rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return state


_NOBODY = 65534


def _world_readable(path: str) -> bool:
    """Whether any user may reach and read ``path`` (every ancestor searchable)."""
    path = os.path.realpath(path)
    try:
        if not os.stat(path).st_mode & stat.S_IROTH:
            return False
        while True:
            if not os.stat(path).st_mode & stat.S_IXOTH:
                return False
            parent = os.path.dirname(path)
            if parent == path:
                return True
            path = parent
    except OSError:
        return False


def _leave_root(state: _State) -> None:
    """Without a private root, a zygote started by root runs jobs as ``nobody``, so host
    files are protected by their permissions, when Python itself stays readable to it."""
    prot = state.protections
    prot["job_user"] = os.geteuid()
    if os.geteuid() != 0 or not _linux.IS_LINUX:
        return
    stdlib = os.path.dirname(os.__file__)
    if not all(_world_readable(p) for p in (stdlib, *[p for p in sys.path if os.path.isdir(p)][:8])):
        reason = f"Python at {stdlib} is not readable by other users; jobs run as root"
        state.error("unprivileged jobs", OSError(reason))
        return
    try:
        for root, dirs, files in os.walk(state.work_root):
            for name in [*dirs, *files]:
                os.chown(os.path.join(root, name), _NOBODY, _NOBODY)
        os.chown(state.work_root, _NOBODY, _NOBODY)
        os.setgroups([])
        os.setresgid(_NOBODY, _NOBODY, _NOBODY)
        os.setresuid(_NOBODY, _NOBODY, _NOBODY)
        prot["job_user"] = _NOBODY
    except OSError as exc:
        state.error("unprivileged jobs", exc)


def _probe_seccomp(bpf: bytes) -> bool:
    """Check the kernel accepts the filter (in a throwaway child) before relying on it."""
    pid = os.fork()
    if pid == 0:
        try:
            _linux.install_bpf(bpf)
            try:
                os.execv("/nonexistent-adhere-seccomp-probe", ["probe"])
            except PermissionError:
                os._exit(0)  # EPERM before the path is even looked up: the filter works
            except OSError:
                os._exit(2)
            os._exit(2)
        except BaseException:
            os._exit(3)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


# ----------------------------------------------------------------------------------------- #
# jobs
# ----------------------------------------------------------------------------------------- #


def _child(state: _State, job: dict[str, Any], fds: dict[str, int], spare: bool = False) -> None:
    """In the forked child: isolate further and run the harness. Never returns.

    ``spare``: forked ahead (see :class:`_Spare`), the session (and death signal) are set.
    The death signal is set only outside a pid namespace (see :func:`_spare_child`).
    """
    try:
        if not spare:
            os.setsid()
            if _linux.IS_LINUX and not state.in_pid_ns:  # see _spare_child
                _linux.prctl(_linux.PR_SET_PDEATHSIG, signal.SIGKILL)
        script = job.get("mode") == "script"
        os.dup2(fds.get("stdin", state.devnull) if script else state.devnull, 0)
        os.dup2(fds.get("stdout", state.devnull) if script else state.devnull, 1)
        os.dup2(state.devnull, 2)
        os.dup2(fds["result"], _harness.RESULT_FD)
        os.dup2(fds["bell"], _harness.BELL_FD)
        os.closerange(_harness.BELL_FD + 1, 1 << 16)
        os.chdir(state.job_dir)
        limits = job["limits"]
        _rlimit(resource.RLIMIT_CORE, 0)
        _rlimit(resource.RLIMIT_NOFILE, 256)
        if limits.get("memory"):
            _rlimit(resource.RLIMIT_AS, int(limits["memory"]))
        if limits.get("cpu"):
            _rlimit(resource.RLIMIT_CPU, max(1, math.ceil(float(limits["cpu"]))))
        if limits.get("file") is not None:  # the result file must fit too
            _rlimit(resource.RLIMIT_FSIZE, max(int(limits["file"]), int(limits.get("output", 0)) + 4096))
        processes = int(limits.get("processes", 1))
        if processes > 1:
            _rlimit(resource.RLIMIT_NPROC, processes + 64)
        if state.seccomp_ok:
            if state.filters:
                state.filters[processes > 1].install()
            else:  # no pid namespace: the filter names this child's own pid
                _linux.install_bpf(_seccomp.compile_filter(allow_processes=processes > 1, own_pid=os.getpid()))
    except BaseException:
        os._exit(73)
    _harness.run_job(job, state.shm)


def _rlimit(which: int, value: int) -> None:
    try:
        resource.setrlimit(which, (value, value))
    except (ValueError, OSError):
        hard = resource.getrlimit(which)[1]
        resource.setrlimit(which, (min(value, hard) if hard != resource.RLIM_INFINITY else value, hard))


def _kill_job(state: _State, pid: int, processes: int) -> None:
    for target in (pid,):
        with contextlib.suppress(OSError):
            os.killpg(target, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.kill(target, signal.SIGKILL)
    if state.in_pid_ns and processes > 1:
        with contextlib.suppress(OSError):
            os.kill(-1, signal.SIGKILL)


def _descendants() -> list[int]:
    """Children (recursively) of this process, from /proc (used without a pid namespace)."""
    found: list[int] = []
    todo = [os.getpid()]
    while todo:
        pid = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as f:
                    kids = [int(x) for x in f.read().split()]
            except OSError:
                continue
            found.extend(kids)
            todo.extend(kids)
    return found


def _sweep(state: _State, processes: int) -> None:
    """Leave no process of the job behind, and reap everything."""
    if state.in_pid_ns:
        if processes > 1 or not state.seccomp_ok:
            with contextlib.suppress(OSError):
                os.kill(-1, signal.SIGKILL)
    elif not state.seccomp_ok or processes > 1:
        for pid in _descendants():
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 2.0
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            if time.monotonic() > deadline:
                return
            time.sleep(0.001)


def _wipe(state: _State) -> None:
    """Empty the work area if the job left anything in it."""
    try:
        entries = os.listdir(state.work_root)
        dirty = entries != ["job"] or bool(os.listdir(state.job_dir))
    except OSError:
        dirty = True
    if not dirty:
        return

    def _force(func: Any, path: str, _exc: Any) -> None:
        try:
            os.chmod(os.path.dirname(path), stat.S_IRWXU)
            if os.path.isdir(path) and not os.path.islink(path):
                os.chmod(path, stat.S_IRWXU)
                shutil.rmtree(path, onerror=_force)
            else:
                os.unlink(path)
        except OSError:
            pass

    for name in os.listdir(state.work_root):
        path = os.path.join(state.work_root, name)
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                os.chmod(path, stat.S_IRWXU)
                shutil.rmtree(path, onerror=_force)
            else:
                os.unlink(path)
        except OSError:
            pass
    os.makedirs(state.job_dir, exist_ok=True)


def _run_queue_wait(pid: int) -> int:
    """Nanoseconds ``pid`` has spent runnable but waiting for a CPU (0 if the kernel does
    not say): the part of a wall-clock interval that load, not the program, took."""
    try:
        with open(f"/proc/{pid}/schedstat", "rb") as f:
            return int(f.read().split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def _pipe() -> tuple[int, int]:
    """A pipe whose read end does not block (``pipe2`` where there is one)."""
    if hasattr(os, "pipe2"):
        r, w = os.pipe2(os.O_CLOEXEC)
    else:  # pragma: no cover - macOS
        r, w = os.pipe()
    os.set_blocking(r, False)
    return r, w


def _result_file() -> int:
    """An anonymous file for the child's result stream (read back with ``pread``)."""
    if hasattr(os, "memfd_create"):
        return os.memfd_create("results", os.MFD_CLOEXEC)
    import tempfile  # pragma: no cover - non-Linux

    with tempfile.TemporaryFile() as f:  # pragma: no cover
        return os.dup(f.fileno())


def _stdin_fd(data: bytes) -> int:
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("stdin", os.MFD_CLOEXEC)
    else:  # pragma: no cover - non-Linux
        import tempfile

        with tempfile.TemporaryFile() as f:
            fd = os.dup(f.fileno())
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


class _Spare:
    """A child forked ahead, while the zygote had nothing to do, that waits for its job.

    Forking copies the zygote's page tables, about a third of the zygote's work per job
    and a few hundred microseconds of a job's latency. A spare is forked once the previous
    job is reaped and its work area wiped (so it never meets anything of that job), has
    set its session (and, without a pid namespace, its death signal), and blocks on a
    pipe. Its job comes in a memory file; from there on it is an ordinary job child
    (:func:`_child`): the rlimits and the seccomp filter, which depend on the job, are
    applied after the job is read, and before any of its code runs. At most one child
    exists per zygote at any time: the spare or the job it became. The spare is named
    ``adhere-spare`` until it takes its job.
    """

    def __init__(self, state: _State) -> None:
        self.result_fd = _result_file()
        self.bell, bell_w = _pipe()
        self.stdout, stdout_w = _pipe()
        self.stdin = os.memfd_create("stdin", os.MFD_CLOEXEC)
        self.job_fd = os.memfd_create("job", os.MFD_CLOEXEC)
        go_r, self.go_w = os.pipe()
        fds = {"result": self.result_fd, "bell": bell_w, "stdout": stdout_w, "stdin": self.stdin}
        pid = os.fork()
        if pid == 0:
            _spare_child(state, go_r, self.job_fd, fds)
            os._exit(74)  # pragma: no cover - never returns
        self.pid = pid
        for fd in (go_r, bell_w, stdout_w):
            os.close(fd)
        try:
            self.pidfd = os.pidfd_open(pid)
        except OSError:
            self.discard()
            raise

    def hand(self, payload: bytes, job: dict[str, Any]) -> None:
        """Give the spare its job (OSError if it is gone)."""
        gone = select.poll()
        gone.register(self.pidfd, select.POLLIN)
        if gone.poll(0):  # exited while waiting (killed from outside: the OOM killer, a user)
            raise OSError(errno.ESRCH, "the spare is gone")
        os.pwrite(self.job_fd, payload, 0)
        if job.get("mode") == "script":
            os.pwrite(self.stdin, job.get("stdin", b""), 0)  # read from offset 0 by the job
        os.write(self.go_w, b"!")
        for fd in (self.go_w, self.job_fd, self.stdin):
            os.close(fd)

    def discard(self) -> None:
        """Kill and reap the spare, close what was made for it."""
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.waitpid(self.pid, 0)
        for fd in (self.result_fd, self.bell, self.stdout, self.stdin, self.job_fd, self.go_w,
                   getattr(self, "pidfd", -1)):  # fmt: skip
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)


def _spare_child(state: _State, go_r: int, job_fd: int, fds: dict[str, int]) -> None:
    """The spare: wait for the go byte, read the job, become the job's child. Never returns."""
    try:
        os.setsid()
        # In a pid namespace the zygote is its pid 1: when it dies the kernel kills every
        # process in the namespace, so a death signal would add nothing but a ctypes call
        # (in a fresh fork, some 10 page faults and 20 us, measured ad hoc).
        if not state.in_pid_ns:
            _linux.prctl(_linux.PR_SET_PDEATHSIG, signal.SIGKILL)
        with contextlib.suppress(OSError):
            _linux.set_process_name("adhere-spare")
        while True:
            try:
                go = os.read(go_r, 1)
                break
            except InterruptedError:
                continue
        if not go:
            os._exit(0)  # the zygote dropped the spare
        job = pickle.loads(os.pread(job_fd, os.fstat(job_fd).st_size, 0))
        with contextlib.suppress(OSError):
            _linux.set_process_name("adhere-sandbox")
    except BaseException:
        os._exit(73)
    _child(state, job, fds, spare=True)


def _waiting(fd: int) -> bool:
    """Whether ``fd`` has something to read right now."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    try:
        return bool(poller.poll(0))
    except InterruptedError:
        return False


def _fork_spare(state: _State) -> None:
    """Fork a spare for the next job if there is none (and the platform allows one).

    When that fails (no pid left under the namespace's cap, no memory), the next job is
    forked when it comes; after three failures in a row the zygote stops trying.
    """
    if state.spare is None and state.spares:
        try:
            state.spare = _Spare(state)
            state.spare_failures = 0
        except OSError:
            state.spare_failures += 1
            state.spares = state.spare_failures < 3


def _drop_spare(state: _State) -> None:
    if state.spare is not None:
        state.spare.discard()
        state.spare = None


class _JobRun:
    """One job: fork, supervise until its results are complete, report, clean up.

    The report goes out as soon as the child has rung the doorbell (fd 4, written after
    its last result line) or has died; the slower part, reaping the child (the kernel
    tearing down its address space), sweeping stragglers and wiping the work area,
    happens after, while the supervisor is already judging.
    """

    def __init__(
        self, state: _State, job_id: int, job: dict[str, Any], ctl_in: int, ctl_out: int, payload: bytes = b""
    ) -> None:
        self.state, self.job_id, self.job, self.payload = state, job_id, job, payload
        self.wait0 = 0  # the child's run-queue wait before its job started (a spare's)
        self.ctl_in, self.ctl_out = ctl_in, ctl_out
        limits = job["limits"]
        self.wall = float(limits.get("wall", 10.0))
        self.cap = int(limits.get("output", 64 << 20))
        self.processes = int(limits.get("processes", 1))
        self.test_limits: list[float] | None = job.get("test_limits")
        self.report: dict[str, Any] = {"reason": None, "exit": None, "signal": None, "test": None, "finished": False}
        self.sent = {_protocol.OUTPUT: 0, _protocol.STDOUT: 0}
        self.offset = 0
        self.killed_at: float | None = None
        self.reaped = False
        self.kill_after_report = False
        self.quit = False
        self.pid = 0
        self.pidfd = -1

    # -- setup --------------------------------------------------------------------------
    def start(self) -> None:
        spare, self.state.spare = self.state.spare, None
        if spare is not None and self.payload:
            try:
                self._start_spare(spare)
                return
            except OSError:
                spare.discard()
        elif spare is not None:
            spare.discard()
        self._start_forked()

    def _start_spare(self, spare: _Spare) -> None:
        script = self.job.get("mode") == "script"
        self.result_fd, self.bell, self.pid, self.pidfd = spare.result_fd, spare.bell, spare.pid, spare.pidfd
        self.stdout = spare.stdout
        if not script:  # the job's stdout is /dev/null
            os.close(spare.stdout)
            self.stdout = spare.stdout = -1
        struct.pack_into("qq", self.state.shm, 0, -1, 0)
        if self.processes == 1:
            self.wait0 = _run_queue_wait(self.pid)
        self.t0 = time.monotonic()
        spare.hand(self.payload, self.job)

    def _start_forked(self) -> None:
        self.wait0 = 0
        self.result_fd = _result_file()
        bell_r, bell_w = _pipe()
        self.bell = bell_r
        fds = {"result": self.result_fd, "bell": bell_w}
        self.stdout = -1
        if self.job.get("mode") == "script":
            self.stdout, stdout_w = _pipe()
            os.set_blocking(self.stdout, False)
            fds["stdout"] = stdout_w
            fds["stdin"] = _stdin_fd(self.job.get("stdin", b""))
        struct.pack_into("qq", self.state.shm, 0, -1, 0)
        self.t0 = time.monotonic()
        pid = os.fork()
        if pid == 0:
            _child(self.state, self.job, fds)
            os._exit(74)  # pragma: no cover - _child never returns
        self.pid = pid
        for name, fd in fds.items():
            if name != "result":
                os.close(fd)
        if self.state.has_pidfd:
            try:
                self.pidfd = os.pidfd_open(pid)
            except OSError:
                self.state.has_pidfd = False

    # -- helpers ------------------------------------------------------------------------
    def kill(self, reason: str | None) -> None:
        if self.killed_at is None:
            if reason is not None:
                self.report["reason"] = reason
            _kill_job(self.state, self.pid, self.processes)
            self.killed_at = time.monotonic()

    def relay(self) -> None:
        """Forward what the child added to its result file since the last look."""
        while True:
            try:
                data = os.pread(self.result_fd, 1 << 20, self.offset)
            except OSError:
                return
            if not data:
                return
            self.offset += len(data)
            room = self.cap - self.sent[_protocol.OUTPUT]
            self.sent[_protocol.OUTPUT] += len(data)
            if len(data) > room:  # forward what fits (whole results before the cap), then stop the job
                if room > 0:
                    _protocol.send(self.ctl_out, _protocol.OUTPUT, self.job_id, data[:room])
                self.kill("output_limit")
                return
            _protocol.send(self.ctl_out, _protocol.OUTPUT, self.job_id, data)

    def drain_stdout(self) -> bool:
        """Forward the child's standard output that is ready; False at end of file."""
        while self.stdout >= 0:
            try:
                data = os.read(self.stdout, 1 << 16)
            except BlockingIOError:
                return True
            except OSError:
                data = b""
            if not data:
                os.close(self.stdout)
                self.stdout = -1
                return False
            self.sent[_protocol.STDOUT] += len(data)
            if self.sent[_protocol.STDOUT] > self.cap:
                self.kill("output_limit")
                return True
            _protocol.send(self.ctl_out, _protocol.STDOUT, self.job_id, data)
        return False

    def reap(self, block: bool) -> bool:
        if self.reaped:
            return True
        try:
            got, status, usage = os.wait4(self.pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            self.reaped = True
            return True
        if got != self.pid:
            return False
        self.reaped = True
        if os.WIFEXITED(status):
            self.report["exit"] = os.WEXITSTATUS(status)
        elif os.WIFSIGNALED(status):
            self.report["signal"] = os.WTERMSIG(status)
        self.report["cpu"] = usage.ru_utime + usage.ru_stime
        self.report["maxrss_kb"] = usage.ru_maxrss
        return True

    def waited(self) -> int:
        """The job's run-queue wait so far (ns). Only a single-process job is credited: a
        job that forks could otherwise starve its own main process and stretch its budget."""
        return _run_queue_wait(self.pid) - self.wait0 if self.processes == 1 else 0

    def control(self) -> None:
        header = _protocol.read_exact(self.ctl_in, _protocol.HEADER.size)
        if not header:
            self.quit = True
            self.kill("cancelled")
            return
        kind, jid, n = _protocol.HEADER.unpack(header)
        _protocol.read_exact(self.ctl_in, n)
        if kind == _protocol.QUIT:
            self.quit = True
            self.kill("cancelled")
        elif kind == _protocol.CANCEL and jid == self.job_id:
            self.kill("cancelled")

    # -- the loop -----------------------------------------------------------------------
    def supervise(self) -> dict[str, Any]:
        poller = select.poll()
        poller.register(self.bell, select.POLLIN)
        if self.stdout >= 0:
            poller.register(self.stdout, select.POLLIN)
        if self.pidfd >= 0:
            poller.register(self.pidfd, select.POLLIN)
        poller.register(self.ctl_in, select.POLLIN)
        deadline = self.t0 + self.wall
        next_relay = self.t0 + _FIRST_RELAY
        shm = self.state.shm
        seen_index, seen_wait = -1, 0  # the test last seen running, and the child's run-queue wait then
        while True:
            now = time.monotonic()
            if now >= next_relay:
                self.relay()
                next_relay = now + _RELAY_EVERY
            wake = min(deadline, next_relay)
            if self.killed_at is None:
                index, started = struct.unpack_from("qq", shm, 0)
                if self.test_limits is not None and 0 <= index < len(self.test_limits) and started > 0:
                    limit = self.test_limits[index]
                    if index != seen_index:
                        seen_index, seen_wait = index, self.waited()
                    test_deadline = started / 1e9 + limit
                    if test_deadline <= now:
                        # Time spent waiting for a CPU (other jobs, other users) is not the
                        # program's: it gets that back, up to a wall-clock backstop.
                        used = now - started / 1e9 - (self.waited() - seen_wait) / 1e9
                        if used >= limit or now >= started / 1e9 + _STARVED_FACTOR * limit:
                            self.report["test"] = index
                            self.kill("test_timeout")
                        else:
                            test_deadline = now + (limit - used)
                    wake = min(wake, test_deadline)
                if now >= deadline and self.killed_at is None:
                    used = now - self.t0 - self.waited() / 1e9
                    if used >= self.wall or now >= self.t0 + _STARVED_FACTOR * self.wall:
                        self.kill("timeout")
                    else:
                        deadline = now + (self.wall - used)
                        wake = min(wake, deadline)
            if self.killed_at is not None:
                if now >= self.killed_at + 5.0:
                    self.report["reason"] = "unkillable"
                    break
                wake = min(next_relay, self.killed_at + 5.0)
            timeout_ms = max(0, math.ceil((wake - now) * 1000))
            if self.pidfd < 0:  # no pidfd: look for the exit every few milliseconds
                timeout_ms = min(timeout_ms, 5)
            try:
                events = poller.poll(min(timeout_ms, 1000))
            except InterruptedError:
                continue
            finished = False
            for fd, _ev in events:
                if fd == self.bell:
                    finished = True
                elif fd == self.stdout:
                    if not self.drain_stdout():
                        poller.unregister(fd)
                elif fd == self.pidfd:
                    finished = True
                elif fd == self.ctl_in:
                    self.control()
                    if self.quit:
                        poller.unregister(self.ctl_in)
            if self.pidfd < 0 and self.reap(block=False):
                finished = True
            if finished:
                break
        self.relay()
        self.drain_stdout()
        rang = False
        with contextlib.suppress(OSError):
            rang = bool(os.read(self.bell, 1))
        self.report["finished"] = rang
        if rang and self.killed_at is None:
            # Results are complete and the child waits to be killed (see _harness._linger):
            # the kill follows the report, so the child's teardown, which a kill may
            # schedule ahead of this process on its CPU, does not delay the report.
            self.kill_after_report = True
        elif self.killed_at is None:
            self.reap(block=True)
        self.report["wall"] = time.monotonic() - self.t0
        self.report["result_bytes"] = self.sent[_protocol.OUTPUT]
        self.report["stdout_bytes"] = self.sent[_protocol.STDOUT]
        return self.report

    def finish(self) -> None:
        """After the report: reap, sweep stragglers, wipe the work area, close files."""
        if self.kill_after_report:
            self.kill(None)
        self.reap(block=True)
        _sweep(self.state, self.processes)
        for fd in (self.result_fd, self.bell, self.pidfd, self.stdout):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        _wipe(self.state)


def serve(state: _State, ctl_in: int, ctl_out: int) -> None:
    ready = json.dumps(state.protections).encode()
    _protocol.send(ctl_out, _protocol.READY, 0, ready)
    # The last job, killed after its report but perhaps still being torn down by the
    # kernel (half a millisecond for a job's address space). Reaping blocks until that is
    # done, so it waits for whichever comes first: the job's exit (its pidfd) or the next
    # message, which is then handled only after the reap. A stream of single jobs overlaps
    # the teardown with the supervisor's turn, the pool is at rest a moment after each
    # report, and no job ever starts before the previous one is reaped and its area wiped.
    pending: _JobRun | None = None
    try:
        while True:
            if pending is not None and pending.pidfd >= 0:
                waiting = select.poll()
                waiting.register(ctl_in, select.POLLIN)
                waiting.register(pending.pidfd, select.POLLIN)
                with contextlib.suppress(InterruptedError):
                    if any(fd == pending.pidfd for fd, _ in waiting.poll()):
                        _settle(pending)
                        pending = None
            if pending is None and not _waiting(ctl_in):
                # Idle, and nothing of the last job is left: fork the next job's child now.
                _fork_spare(state)
            try:
                header = _protocol.read_exact(ctl_in, _protocol.HEADER.size)
            except EOFError:
                return
            if not header:
                return
            kind, job_id, n = _protocol.HEADER.unpack(header)
            payload = _protocol.read_exact(ctl_in, n)
            if pending is not None:
                _settle(pending)
                pending = None
            if kind == _protocol.QUIT:
                return
            if kind != _protocol.JOB:
                continue
            run: _JobRun | None = None
            try:
                run = _JobRun(state, job_id, pickle.loads(payload), ctl_in, ctl_out, payload)
                run.start()
                report = run.supervise()
            except Exception as exc:  # our own failure: report it, keep serving
                report = {"reason": "internal", "error": f"{type(exc).__name__}: {exc}"}
            _protocol.send(ctl_out, _protocol.DONE, job_id, json.dumps(report).encode())
            if run is None:
                continue
            if run.quit:
                _settle(run)
                return
            if run.kill_after_report and run.processes == 1 and state.seccomp_ok and run.pidfd >= 0:
                # One process (seccomp forbids forking), killed now: nothing of the job
                # runs any more, only the kernel's teardown of it remains.
                run.kill(None)
                pending = run
            else:
                _settle(run)
    finally:
        if pending is not None:
            _settle(pending)
        _drop_spare(state)


def _settle(run: _JobRun) -> None:
    """Reap the job, sweep stragglers, wipe the work area (see ``_JobRun.finish``)."""
    with contextlib.suppress(Exception):
        run.finish()


def main() -> None:
    config = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    ctl_in = os.dup(0)
    ctl_out = os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.close(devnull)
    for fd in (ctl_in, ctl_out):
        os.set_inheritable(fd, False)
    sys.path[:] = [p for p in config.get("sys_path", sys.path) if p]
    try:
        state = start(config, (ctl_in, ctl_out))
    except Exception as exc:
        _protocol.send(ctl_out, _protocol.READY, 0, json.dumps({"fatal": f"{type(exc).__name__}: {exc}"}).encode())
        os._exit(1)
    with contextlib.suppress(BrokenPipeError, EOFError):
        serve(state, ctl_in, ctl_out)
    os._exit(0)


if __name__ == "__main__":
    try:
        main()
    except OSError as exc:
        if exc.errno not in (errno.EPIPE,):
            raise
