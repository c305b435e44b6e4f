"""What the sandbox really stops on this machine, checked by trying (``adhere doctor``).

:func:`self_check` runs one small probe job per attack and reports whether the attempt
was blocked, so the answer comes from the kernel in use, not from what we hoped.
"""

from __future__ import annotations

import os
import platform
import uuid
from dataclasses import dataclass
from pathlib import Path

from ._local import LocalExecutor
from ._model import NO_EXPECTATION, Call, Job, Limits

__all__ = ["Probe", "self_check"]


@dataclass(frozen=True)
class Probe:
    """One attempted attack: blocked or not, and what the program saw."""

    name: str
    blocked: bool
    detail: str


def _probe_job(body: str) -> Job:
    program = "import os, sys\ndef probe():\n" + "".join(f"    {line}\n" for line in body.splitlines())
    return Job(program, [Call((), NO_EXPECTATION)], entry_point="probe", limits=Limits(wall_seconds=10))


def self_check(executor: LocalExecutor) -> list[Probe]:
    """Try each attack once in the sandbox; one :class:`Probe` per attack."""
    canary = Path.home() / f".adhere-doctor-{uuid.uuid4().hex}"
    host_file = str(canary)
    secret = f"adhere-doctor-{uuid.uuid4().hex}"
    probes = {
        "fork a process": "try:\n    pid = os.fork()\nexcept OSError as e:\n    return 'blocked: ' + type(e).__name__\n"
        "if pid == 0:\n    os._exit(0)\nos.waitpid(pid, 0)\nreturn 'forked'",
        "run another program": "try:\n    os.execv('/bin/true', ['true'])\nexcept OSError as e:\n"
        "    return 'blocked: ' + type(e).__name__",
        "open a network socket": "import socket\ntry:\n    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n"
        "except OSError as e:\n    return 'blocked: ' + type(e).__name__\ntry:\n"
        "    s.connect(('1.1.1.1', 53))\nexcept OSError as e:\n    return 'blocked: ' + type(e).__name__\n"
        "return 'connected'",
        "read a file in the home directory": f"try:\n    return 'read ' + open({host_file!r}).read()\n"
        "except OSError as e:\n    return 'blocked: ' + type(e).__name__",
        "write outside the work area": "for path in ('/usr/adhere-doctor', sys.prefix + '/adhere-doctor'):\n"
        "    try:\n        open(path, 'w').write('x')\n        os.remove(path)\n        return 'wrote ' + path\n"
        "    except OSError:\n        pass\nreturn 'blocked'",
        "see the host's processes": "pids = [p for p in os.listdir('/proc') if p.isdigit()]\n"
        "return ('blocked: ' if len(pids) <= 3 else 'sees ') + str(len(pids)) + ' processes'",
        "read the caller's environment": f"return 'read' if {secret!r} in str(os.environ) else 'blocked'",
        "signal the zygote": "import signal\ntry:\n    os.kill(os.getppid(), signal.SIGKILL)\n"
        "except OSError as e:\n    return 'blocked: ' + type(e).__name__\nreturn 'blocked: ignored by pid 1'",
    }
    canary.write_text("doctor")
    os.environ["ADHERE_DOCTOR_SECRET"] = secret  # only a fresh zygote could see it; ours never do
    try:
        pids = executor.zygote_pids()
        results = executor.run([_probe_job(body) for body in probes.values()])
    finally:
        canary.unlink(missing_ok=True)
        os.environ.pop("ADHERE_DOCTOR_SECRET", None)
    out: list[Probe] = []
    for name, result in zip(probes, results, strict=True):
        value = result.tests[0].value if result.tests and result.tests[0].passed else None
        detail = str(value) if value is not None else (result.reason or result.status)
        blocked = isinstance(value, str) and value.startswith("blocked")
        if name == "signal the zygote":
            blocked = blocked and executor.zygote_pids() == pids
        out.append(Probe(name, blocked, detail))
    return out


def platform_summary() -> dict[str, str]:
    return {"system": platform.system(), "kernel": platform.release(), "machine": platform.machine()}
