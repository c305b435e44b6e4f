"""Shared fixtures: one warm pool for the sandbox tests, and what "intact" means for it."""

from __future__ import annotations

import os
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


class Pool:
    """A started executor and what "intact" means for it: the same zygote processes,
    each with exactly its resting process tree (the pid-1 zygote below the outer one)."""

    def __init__(self, executor: LocalExecutor) -> None:
        self.executor = executor
        self.pids = tuple(executor.zygote_pids())
        # At rest a zygote is its outer process and, with a pid namespace, pid 1 inside it.
        inner = 1 if executor.protections().namespaces.get("pid") else 0
        self.resting = dict.fromkeys(self.pids, inner)

    def assert_intact(self, timeout: float = 5.0) -> None:
        assert tuple(self.executor.zygote_pids()) == self.pids, "a zygote was replaced"
        deadline = time.monotonic() + timeout
        while True:
            counts = {pid: len(descendants(pid)) for pid in self.pids}
            if counts == self.resting:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"stray processes left in the pool: {counts} (resting {self.resting})")
            time.sleep(0.02)


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
