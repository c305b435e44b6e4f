"""Shared fixtures: one warm pool for the sandbox tests, and what "intact" means for it."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator

import pytest

from adhere.sandbox import LocalExecutor


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` on the host, from /proc."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{p}/task/{tid}/children") as f:
                    kids = [int(x) for x in f.read().split()]
            except OSError:
                continue
            for k in kids:
                if k not in found:
                    found.add(k)
                    todo.append(k)
    return found


def process_name(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def parent_of(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return int(f.read().rsplit(b")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


SPARES = sys.platform.startswith("linux") and hasattr(os, "pidfd_open") and hasattr(os, "memfd_create")
"""Whether a zygote at rest holds a spare child (forked ahead for the next job)."""


class Pool:
    """A started executor and what "intact" means for it: the same zygote processes, each
    with exactly its resting process tree: the pid-1 zygote below the outer one, and below
    the zygote one spare (named ``adhere-spare``) waiting for the next job."""

    def __init__(self, executor: LocalExecutor) -> None:
        self.executor = executor
        self.pids = tuple(executor.zygote_pids())
        self.inner = 1 if executor.protections().namespaces.get("pid") else 0

    def at_rest(self, pid: int) -> bool:
        tree = descendants(pid)
        spares = [p for p in tree if process_name(p) == "adhere-spare"]
        if len(tree) != self.inner + int(SPARES) or len(spares) != int(SPARES):
            return False
        zygote = next(iter(tree - set(spares)), pid)
        return all(parent_of(p) == zygote for p in spares)

    def assert_intact(self, timeout: float = 5.0) -> None:
        assert tuple(self.executor.zygote_pids()) == self.pids, "a zygote was replaced"
        deadline = time.monotonic() + timeout
        while True:
            if all(self.at_rest(pid) for pid in self.pids):
                return
            if time.monotonic() > deadline:
                found = {pid: sorted((p, process_name(p)) for p in descendants(pid)) for pid in self.pids}
                raise AssertionError(f"stray processes left in the pool: {found} (at rest: {self.inner} + spare)")
            time.sleep(0.02)

    def spares(self) -> list[int]:
        """The spare of each zygote (host pids), when every zygote is at rest."""
        self.assert_intact()
        return [p for pid in self.pids for p in descendants(pid) if process_name(p) == "adhere-spare"]


@pytest.fixture(scope="session")
def executor() -> Iterator[LocalExecutor]:
    ex = LocalExecutor(workers=2)
    ex.start()
    yield ex
    ex.close()


@pytest.fixture
def pool(executor: LocalExecutor) -> Pool:
    p = Pool(executor)
    p.assert_intact()
    return p


@pytest.fixture
def processes_below() -> object:
    """``descendants(pid)``, for tests that watch a process tree."""
    return descendants
