"""The seccomp filter's decisions, read off the BPF program itself for every syscall number.

The hostile-program tests show the filter working in a real job for the attacks they stage;
these run the exported program (classic BPF over ``struct seccomp_data``) for all syscall
numbers of this architecture and the argument cases the rules test, in both layouts (the
binary tree the jobs load, see ``_seccomp._OPTIMIZE_BINARY_TREE``, and libseccomp's list),
so neither a layout nor a change of the rules can deny or allow anything other than what
the rules say.
"""

from __future__ import annotations

import errno
import struct
import sys

import pytest

from adhere.sandbox import _seccomp

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not _seccomp.available(), reason="seccomp needs Linux and libseccomp"
)

_AUDIT_ARCH_X86_64 = 0xC000003E
_AUDIT_ARCH_AARCH64 = 0xC00000B7
_AUDIT_ARCH_I386 = 0x40000003
_ALLOW = 0x7FFF0000
_ACTION = 0xFFFF0000
_ERRNO = 0x00050000
_CLONE_THREAD = 0x00010000
_OWN_PID = 4242


def _native_arch() -> int:
    import platform

    machine = platform.machine()
    if machine == "x86_64":
        return _AUDIT_ARCH_X86_64
    if machine == "aarch64":
        return _AUDIT_ARCH_AARCH64
    pytest.skip(f"no audit arch known here for {machine}")


def _run(program: bytes, nr: int, arch: int, args: tuple[int, ...] = ()) -> int:
    """Evaluate a seccomp BPF program (the instructions libseccomp emits) on one call."""
    full = (*args, *([0] * (6 - len(args))))
    data = struct.pack("<iIQ6Q", nr, arch, 0, *full)
    insns = [struct.unpack_from("<HBBI", program, i) for i in range(0, len(program), 8)]
    acc, index, scratch = 0, 0, [0] * 16
    x = 0
    for _ in range(10_000):
        code, jt, jf, k = insns[index]
        index += 1
        if code == 0x20:  # ld [k]
            acc = struct.unpack_from("<I", data, k)[0]
        elif code == 0x00:  # ld #k
            acc = k
        elif code == 0x60:  # ld M[k]
            acc = scratch[k]
        elif code == 0x02:  # st M[k]
            scratch[k] = acc
        elif code == 0x61:  # ldx M[k]
            x = scratch[k]
        elif code == 0x87:  # txa
            acc = x
        elif code == 0x07:  # tax
            x = acc
        elif code == 0x54:  # and #k
            acc &= k
        elif code == 0x05:  # ja k
            index += k
        elif code in (0x15, 0x25, 0x35, 0x45):  # jeq / jgt / jge / jset #k
            hit = {0x15: acc == k, 0x25: acc > k, 0x35: acc >= k, 0x45: bool(acc & k)}[code]
            index += jt if hit else jf
        elif code == 0x06:  # ret #k
            return int(k)
        elif code == 0x16:  # ret a
            return int(acc)
        else:
            raise AssertionError(f"BPF opcode {code:#x} at {index - 1} is not one this test evaluates")
    raise AssertionError("the program did not return")


def _nr(name: str) -> int:
    lib = _seccomp._lib()
    assert lib is not None
    return int(lib.seccomp_syscall_resolve_name(name.encode()))


def _numbers(names: tuple[str, ...] | list[str]) -> dict[str, int]:
    return {name: nr for name in names if (nr := _nr(name)) >= 0}


@pytest.mark.parametrize("tree", [True, False], ids=["tree", "list"])
@pytest.mark.parametrize("allow_processes", [False, True])
@pytest.mark.parametrize("own_pid", [None, _OWN_PID])
def test_each_syscall_gets_the_action_of_its_rules(allow_processes: bool, own_pid: int | None, tree: bool) -> None:
    arch = _native_arch()
    program = _seccomp.compile_filter(allow_processes=allow_processes, own_pid=own_pid, tree=tree)
    eperm = _ERRNO | errno.EPERM
    expected = dict.fromkeys(_numbers(_seccomp.ALWAYS_DENIED).values(), eperm)
    assert len(expected) > 40, "most of the denied calls exist on this architecture"
    clone3 = _numbers(["clone3"])
    expected.update(dict.fromkeys(clone3.values(), _ERRNO | errno.ENOSYS))  # threads fall back to clone
    if not allow_processes:
        expected.update(dict.fromkeys(_numbers(["fork", "vfork"]).values(), eperm))
    argument_rules = _numbers(["clone", "kill", "rt_sigqueueinfo", "tgkill", "rt_tgsigqueueinfo", "prlimit64"])
    if own_pid is not None:
        expected.update(dict.fromkeys(_numbers(["tkill"]).values(), eperm))
    for nr in range(512):
        if nr in argument_rules.values():
            continue
        got = _run(program, nr, arch)
        assert got == expected.get(nr, _ALLOW), f"syscall {nr}: {got:#x}"
    # The rules that look at an argument.
    clone = argument_rules["clone"]
    assert _run(program, clone, arch, (_CLONE_THREAD | 0x3D0F00,)) == _ALLOW  # a thread
    assert _run(program, clone, arch, (0x01200011,)) == (_ALLOW if allow_processes else eperm)  # a process
    # Without a pid namespace the job may signal only itself and set only its own limits (pid 0).
    for name in ("kill", "rt_sigqueueinfo", "tgkill", "rt_tgsigqueueinfo", "prlimit64"):
        nr = argument_rules[name]
        itself = 0 if name == "prlimit64" else _OWN_PID
        assert _run(program, nr, arch, (itself, 9)) == _ALLOW, name
        assert _run(program, nr, arch, (1, 9)) == (_ALLOW if own_pid is None else eperm), name
    # Another architecture's calls are never allowed (their numbers mean other syscalls).
    assert _run(program, 0, _AUDIT_ARCH_I386) & _ACTION != _ALLOW & _ACTION
