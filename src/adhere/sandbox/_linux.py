"""Thin ctypes wrappers over the Linux calls the zygote needs (namespaces, mounts,
capabilities, prctl). Standard library only: this module runs inside the zygote.

Every function raises ``OSError`` with the C ``errno`` on failure, so the zygote can
record exactly which protection could not be set up and carry on without it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
from functools import cache
from typing import Any

__all__ = [
    "CLONE_NEWCGROUP",
    "CLONE_NEWIPC",
    "CLONE_NEWNET",
    "CLONE_NEWNS",
    "CLONE_NEWPID",
    "CLONE_NEWUSER",
    "CLONE_NEWUTS",
    "IS_LINUX",
    "bind_mount",
    "drop_capabilities",
    "make_readonly",
    "mount",
    "pivot_root",
    "prctl",
    "set_hostname",
    "unshare",
    "write_id_maps",
]

IS_LINUX = sys.platform.startswith("linux")

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MNT_DETACH = 2

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_SET_CHILD_SUBREAPER = 36
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
PR_SET_SECCOMP = 22
PR_SET_NAME = 15
SECCOMP_MODE_FILTER = 2

_AT_FDCWD = -100
_AT_RECURSIVE = 0x8000
_MOUNT_ATTR_RDONLY = 0x1

# Syscall numbers for calls older glibc versions do not wrap.
_SYSCALLS = {
    "x86_64": {"pivot_root": 155, "capset": 126, "mount_setattr": 442},
    "aarch64": {"pivot_root": 41, "capset": 91, "mount_setattr": 442},
}


@cache
def libc() -> ctypes.CDLL:
    """The C library, reached through the interpreter's own symbols (``dlopen(NULL)``).

    Not ``ctypes.util.find_library``: that module imports ``subprocess`` and with it
    ``threading``, whose after-fork hook then runs in every forked job (about a hundred
    extra page faults, a tenth of a one-line job's CPU)."""
    lib = ctypes.CDLL(None, use_errno=True)
    if hasattr(lib, "prctl") or not IS_LINUX:
        return lib
    from ctypes import util  # pragma: no cover - a libc not linked into the interpreter

    return ctypes.CDLL(util.find_library("c") or None, use_errno=True)  # pragma: no cover


def _check(result: int, what: str) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return result


def _syscall(name: str, *args: object) -> int:
    machine = os.uname().machine
    nr = _SYSCALLS.get(machine, {}).get(name)
    if nr is None:
        raise OSError(38, f"{name}: no syscall number known for {machine}")
    fn = libc().syscall
    fn.restype = ctypes.c_long
    return _check(int(fn(ctypes.c_long(nr), *args)), name)


def unshare(flags: int) -> None:
    _check(libc().unshare(ctypes.c_int(flags)), "unshare")


def write_id_maps(uid: int, gid: int) -> None:
    """Map root inside the new user namespace to the caller's ids outside it."""
    with open("/proc/self/setgroups", "w") as f:
        f.write("deny")
    with open("/proc/self/uid_map", "w") as f:
        f.write(f"0 {uid} 1")
    with open("/proc/self/gid_map", "w") as f:
        f.write(f"0 {gid} 1")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    fn = libc().mount
    fn.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
    enc = os.fsencode
    result = fn(
        enc(source) if source is not None else None,
        enc(target),
        enc(fstype) if fstype is not None else None,
        flags,
        enc(data) if data is not None else None,
    )
    _check(result, f"mount {source or fstype} on {target}")


def bind_mount(source: str, target: str) -> None:
    mount(source, target, None, MS_BIND | MS_REC)


class _MountAttr(ctypes.Structure):
    _fields_ = [
        ("attr_set", ctypes.c_uint64),
        ("attr_clr", ctypes.c_uint64),
        ("propagation", ctypes.c_uint64),
        ("userns_fd", ctypes.c_uint64),
    ]


def make_readonly(target: str, recursive: bool = True) -> None:
    """Make a mount (and everything under it) read-only without touching its other flags."""
    attr = _MountAttr(_MOUNT_ATTR_RDONLY, 0, 0, 0)
    _syscall(
        "mount_setattr",
        ctypes.c_int(_AT_FDCWD),
        ctypes.c_char_p(os.fsencode(target)),
        ctypes.c_uint(_AT_RECURSIVE if recursive else 0),
        ctypes.byref(attr),
        ctypes.c_size_t(ctypes.sizeof(attr)),
    )


def umount_detach(target: str) -> None:
    _check(libc().umount2(ctypes.c_char_p(os.fsencode(target)), ctypes.c_int(MNT_DETACH)), f"umount {target}")


def pivot_root(new_root: str, put_old: str) -> None:
    _syscall("pivot_root", ctypes.c_char_p(os.fsencode(new_root)), ctypes.c_char_p(os.fsencode(put_old)))


def set_hostname(name: str) -> None:
    raw = name.encode()
    _check(libc().sethostname(ctypes.c_char_p(raw), ctypes.c_size_t(len(raw))), "sethostname")


@cache
def _prctl() -> Any:
    fn = libc().prctl
    fn.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    return fn


def prctl(option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
    result: int = _prctl()(option, arg2, arg3, arg4, arg5)
    return result if result >= 0 else _check(result, f"prctl({option})")


def set_process_name(name: str) -> None:
    """The name ``ps``, ``top`` and ``perf`` show for this process (at most 15 bytes).

    Written to ``/proc/self/comm`` (three plain syscalls) rather than through ``prctl``: a
    spare renames itself twice per job, and in a freshly forked child the first ctypes call
    writes to dozens of pages it shares with the zygote (measured ad hoc: about 50 page
    faults and 0.15 ms per job for the two renames, against 5 faults by ``/proc``).
    """
    raw = name.encode()[:15]
    try:
        fd = os.open("/proc/self/comm", os.O_WRONLY | os.O_CLOEXEC)
    except OSError:  # no /proc mounted here
        buf = ctypes.create_string_buffer(raw)
        prctl(PR_SET_NAME, ctypes.addressof(buf))
        return
    try:
        os.write(fd, raw)
    finally:
        os.close(fd)


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def drop_capabilities() -> None:
    """Empty the bounding, ambient, effective, permitted and inheritable capability sets.

    Inside a user namespace the process is root with every capability *of that
    namespace*; dropping them means candidate code cannot mount, ptrace, or raise a
    limit even there (and an exec could not bring them back: the bounding set is empty).
    """
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            last = int(f.read())
    except OSError:
        last = 40
    for cap in range(last + 1):
        try:
            prctl(PR_CAPBSET_DROP, cap)
        except OSError as exc:
            if exc.errno != 22:  # EINVAL: capability unknown to this kernel
                raise
    with contextlib.suppress(OSError):
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (_CapData * 2)()
    fn = getattr(libc(), "capset", None)
    if fn is not None:
        _check(fn(ctypes.byref(header), data), "capset")
    else:  # pragma: no cover - every glibc we know wraps capset
        _syscall("capset", ctypes.byref(header), data)


class _Fprog(ctypes.Structure):
    """``struct sock_fprog``: a seccomp program's length (in instructions) and address."""

    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


class PreparedFilter:
    """A compiled seccomp program laid out in memory once (in the zygote), so a forked
    child loads it with a single ``prctl`` and builds nothing (no ctypes types, no copies)."""

    __slots__ = ("_args", "_buf", "_prog", "address")

    def __init__(self, program: bytes) -> None:
        self._buf = ctypes.create_string_buffer(program, len(program))
        self._prog = _Fprog(len(program) // 8, ctypes.cast(self._buf, ctypes.c_void_p))
        self.address = ctypes.addressof(self._prog)
        # The call's arguments as C values made here, so the child converts nothing.
        zero = ctypes.c_ulong(0)
        self._args = (
            ctypes.c_int(PR_SET_SECCOMP), ctypes.c_ulong(SECCOMP_MODE_FILTER), ctypes.c_ulong(self.address), zero, zero
        )  # fmt: skip

    def install(self) -> None:
        """Load the filter for this thread (and everything it later starts)."""
        result: int = _prctl()(*self._args)
        if result < 0:
            _check(result, "prctl(PR_SET_SECCOMP)")


def install_bpf(program: bytes) -> None:
    """Load a compiled seccomp BPF program (``struct sock_filter[]``) for this thread."""
    PreparedFilter(program).install()
