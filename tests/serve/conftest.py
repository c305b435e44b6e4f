from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi", reason="the serve extra is not installed: pip install 'adhere[serve]'")
pytest.importorskip("uvicorn", reason="the serve extra is not installed: pip install 'adhere[serve]'")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    proc: subprocess.Popen[bytes]
    log: IO[bytes]

    def client(self, **kw: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60, **kw)  # type: ignore[arg-type]


def start_server(*args: str, env: dict[str, str] | None = None) -> Server:
    port = free_port()
    log = tempfile.TemporaryFile()  # noqa: SIM115 (closed by stop_server)
    proc = subprocess.Popen(
        [sys.executable, "-m", "adhere.cli", "serve", "--port", str(port), *args],
        env={**os.environ, **(env or {})},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            out = log.read().decode(errors="replace")
            log.close()
            raise RuntimeError(f"server exited early ({proc.returncode}): {out}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return Server(url, proc, log)
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    proc.kill()
    proc.wait()
    log.close()
    raise RuntimeError("server did not become healthy in 60 s")


def stop_server(server: Server) -> None:
    if server.proc.poll() is None:
        server.proc.terminate()
        try:
            server.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait()
    server.log.close()


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    s = start_server("--workers", "2", "--max-inflight", "8")
    yield s
    stop_server(s)


@pytest.fixture()
def launch() -> Iterator[object]:
    """Start extra servers with their own settings; all are stopped at the end of the test."""
    started: list[Server] = []

    def _launch(*args: str, env: dict[str, str] | None = None) -> Server:
        s = start_server(*args, env=env)
        started.append(s)
        return s

    yield _launch
    for s in started:
        stop_server(s)


@pytest.fixture(scope="module")
def launch_module() -> Iterator[object]:
    """Like ``launch`` but the servers live for the whole test module."""
    started: list[Server] = []

    def _launch(*args: str, env: dict[str, str] | None = None) -> Server:
        s = start_server(*args, env=env)
        started.append(s)
        return s

    yield _launch
    for s in started:
        stop_server(s)
