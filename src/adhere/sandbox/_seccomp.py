"""The seccomp filter every job runs under, built with libseccomp through ctypes.

The zygote compiles the filter once (``seccomp_export_bpf``) and each job loads the
ready BPF program with one ``prctl`` right after its fork, so the per-job cost is a
few microseconds. Default action: allow; the calls below fail with ``EPERM`` (or
``ENOSYS`` for ``clone3``, so threads fall back to ``clone``):

* new processes and programs when the job may have only one process: ``fork``,
  ``vfork``, ``clone`` without ``CLONE_THREAD``, ``execve``/``execveat`` (always);
* the network: ``socket`` (any family; ``socketpair`` stays allowed);
* memory outside the job's address-space limit: ``memfd_create``, System V and POSIX
  message queues, shared memory and semaphores;
* other processes: ``ptrace``, ``process_vm_*``, ``pidfd_*``, ``kcmp``, and signals
  or limits aimed at another process when no pid namespace hides them;
* the kernel's administrative surface: mounts, namespaces, modules, keyrings, BPF,
  perf, ``userfaultfd``, ``io_uring``, clocks, reboot, swap, ``open_by_handle_at``, ...

Standard library only: this module runs inside the zygote.
"""

from __future__ import annotations

import ctypes
import errno
import os
from collections.abc import Iterator
from functools import cache

__all__ = ["ALWAYS_DENIED", "available", "compile_filter", "library_version"]

_ACT_ALLOW = 0x7FFF0000


def _act_errno(code: int) -> int:
    return 0x00050000 | (code & 0xFFFF)


# libseccomp >= 2.5: lay the syscall-number tests out as a binary tree (2) instead of one
# after the other. When a job loads its filter, the kernel runs the filter once for every
# syscall number to learn which are always allowed (its per-filter action cache), so the
# layout sets what loading costs: on this project's 2-vCPU VM the tree costs about half the list
# (``benchmarks/bench_jobs.py``, last line: 0.04-0.08 ms of a child's CPU against 0.08-0.12 ms).
_FLTATR_CTL_OPTIMIZE = 8
_OPTIMIZE_BINARY_TREE = 2

_CMP_NE = 1
_CMP_EQ = 4
_CMP_MASKED_EQ = 7
_CLONE_THREAD = 0x00010000
_AF_UNIX = 1

#: Denied for every job, whatever its limits.
ALWAYS_DENIED: tuple[str, ...] = (
    "execve", "execveat",
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
    "pidfd_open", "pidfd_getfd", "pidfd_send_signal",
    "mount", "umount2", "pivot_root", "chroot", "unshare", "setns",
    "move_mount", "open_tree", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
    "bpf", "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key",
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "reboot", "swapon", "swapoff", "syslog", "acct", "vhangup", "quotactl", "quotactl_fd",
    "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
    "sethostname", "setdomainname", "iopl", "ioperm",
    "open_by_handle_at", "name_to_handle_at", "lookup_dcookie", "fanotify_init",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    "migrate_pages", "move_pages", "uselib", "nfsservctl",
    "socket", "memfd_create", "memfd_secret", "shmget", "msgget", "semget", "mq_open",
)  # fmt: skip


class _ArgCmp(ctypes.Structure):
    _fields_ = [
        ("arg", ctypes.c_uint),
        ("op", ctypes.c_int),
        ("datum_a", ctypes.c_uint64),
        ("datum_b", ctypes.c_uint64),
    ]


def _candidates() -> Iterator[str]:
    """The soname first; ``ctypes.util`` (which imports ``subprocess`` and ``threading``,
    see ``_linux.libc``) only if that is not found."""
    yield "libseccomp.so.2"
    from ctypes import util

    found = util.find_library("seccomp")
    if found:
        yield found


@cache
def _lib() -> ctypes.CDLL | None:
    for name in _candidates():
        try:
            lib = ctypes.CDLL(name, use_errno=True)
        except OSError:
            continue
        lib.seccomp_init.restype = ctypes.c_void_p
        lib.seccomp_init.argtypes = [ctypes.c_uint32]
        lib.seccomp_release.argtypes = [ctypes.c_void_p]
        lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
        lib.seccomp_syscall_resolve_name.restype = ctypes.c_int
        lib.seccomp_rule_add_array.argtypes = [
            ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint, ctypes.POINTER(_ArgCmp),
        ]  # fmt: skip
        lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
        lib.seccomp_attr_set.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint32]
        return lib
    return None


def available() -> bool:
    """Whether libseccomp can be loaded (the kernel's support is probed by the zygote)."""
    return _lib() is not None


def library_version() -> str | None:
    lib = _lib()
    if lib is None:
        return None

    class _Version(ctypes.Structure):
        _fields_ = [("major", ctypes.c_uint), ("minor", ctypes.c_uint), ("micro", ctypes.c_uint)]

    fn = getattr(lib, "seccomp_version", None)
    if fn is None:
        return "2"
    fn.restype = ctypes.POINTER(_Version)
    v = fn().contents
    return f"{v.major}.{v.minor}.{v.micro}"


def compile_filter(*, allow_processes: bool, own_pid: int | None = None, tree: bool = True) -> bytes:
    """The BPF program for a job.

    Args:
        allow_processes: let the job fork (``Limits.processes > 1``); exec stays denied.
        own_pid: when set (no pid namespace), signals and ``prlimit`` may target only
            this pid (or 0, "myself").
        tree: the syscall-number tests as a binary tree (see ``_OPTIMIZE_BINARY_TREE``);
            False, one after the other, libseccomp's default (the same decisions, the
            benchmark's and the tests' comparison).

    Raises:
        OSError: libseccomp is missing or refused a rule.
    """
    lib = _lib()
    if lib is None:
        raise OSError(errno.ENOSYS, "libseccomp is not installed (apt-get install libseccomp2)")
    ctx = lib.seccomp_init(_ACT_ALLOW)
    if not ctx:
        raise OSError(errno.ENOMEM, "seccomp_init failed")
    try:
        if tree:  # best effort: an older libseccomp refuses the attribute and keeps the list
            lib.seccomp_attr_set(ctx, _FLTATR_CTL_OPTIMIZE, _OPTIMIZE_BINARY_TREE)

        def rule(name: str, action: int, *cmps: tuple[int, int, int, int]) -> None:
            nr = lib.seccomp_syscall_resolve_name(name.encode())
            if nr < 0:  # not a syscall on this architecture
                return
            arr = (_ArgCmp * max(1, len(cmps)))(*(_ArgCmp(*c) for c in cmps))
            rc = lib.seccomp_rule_add_array(ctx, action, nr, len(cmps), arr)
            if rc < 0:
                raise OSError(-rc, f"seccomp rule for {name}: {os.strerror(-rc)}")

        deny = _act_errno(errno.EPERM)
        for name in ALWAYS_DENIED:
            rule(name, deny)
        if not allow_processes:
            rule("fork", deny)
            rule("vfork", deny)
            rule("clone", deny, (0, _CMP_MASKED_EQ, _CLONE_THREAD, 0))
        rule("clone3", _act_errno(errno.ENOSYS))
        if own_pid is not None:
            for name in ("kill", "rt_sigqueueinfo"):
                rule(name, deny, (0, _CMP_NE, own_pid, 0))
            rule("tgkill", deny, (0, _CMP_NE, own_pid, 0))
            rule("rt_tgsigqueueinfo", deny, (0, _CMP_NE, own_pid, 0))
            rule("tkill", deny)
            rule("prlimit64", deny, (0, _CMP_NE, 0, 0))
        fd = os.memfd_create("adhere-seccomp") if hasattr(os, "memfd_create") else None
        if fd is None:  # pragma: no cover - Linux without memfd
            raise OSError(errno.ENOSYS, "memfd_create is unavailable")
        try:
            rc = lib.seccomp_export_bpf(ctx, fd)
            if rc < 0:
                raise OSError(-rc, f"seccomp_export_bpf: {os.strerror(-rc)}")
            size = os.lseek(fd, 0, os.SEEK_END)
            os.lseek(fd, 0, os.SEEK_SET)
            data = b""
            while len(data) < size:
                chunk = os.read(fd, size - len(data))
                if not chunk:
                    break
                data += chunk
            return data
        finally:
            os.close(fd)
    finally:
        lib.seccomp_release(ctx)
