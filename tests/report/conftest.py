"""Headless Chromium driven over the DevTools protocol on a pipe (no port, no network).

``open_page(path)`` loads a local HTML file in Debian's ``chromium`` and returns what
the page did: its rendered text, console messages, uncaught exceptions, log entries
and every request it tried to make. Tests that need it skip with a clear message
where Chromium is not installed (``.ci/run`` installs it).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser") if shutil.which(n)), None)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--remote-debugging-pipe",
]

needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install chromium; .ci/run does this)"
)


@dataclass
class PageResult:
    text: str = ""
    console: list[tuple[str, str]] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    log: list[tuple[str, str]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def errors(self) -> list[str]:
        out = [f"console.{t}: {m}" for t, m in self.console if t in ("error", "assert")]
        out += [f"exception: {e}" for e in self.exceptions]
        out += [f"log {lvl}: {m}" for lvl, m in self.log if lvl == "error"]
        return out


class _Pipe:
    def __init__(self, proc: subprocess.Popen[bytes], write_fd: int, read_fd: int) -> None:
        self.proc, self.write_fd, self.read_fd = proc, write_fd, read_fd
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.write_fd, json.dumps(message).encode() + b"\0")
        while True:
            reply = self.read(30)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return dict(reply.get("result", {}))
            self.events.append(reply)

    def read(self, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.read_fd], [], [], left)[0]:
                raise TimeoutError("no message from Chromium")
            chunk = os.read(self.read_fd, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        return dict(json.loads(raw))

    def drain(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            try:
                self.events.append(self.read(left))
            except TimeoutError:
                return

    def wait_for(self, method: str, timeout: float = 30) -> None:
        if any(e.get("method") == method for e in self.events):
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            event = self.read(deadline - time.monotonic())
            self.events.append(event)
            if event.get("method") == method:
                return
        raise TimeoutError(f"no {method} event")


def open_page(path: Path, script: str = "") -> PageResult:
    """Load ``path`` in headless Chromium; ``script`` (an expression returning a JSON
    object) runs after load and its value lands in ``PageResult.values``."""
    assert CHROMIUM is not None
    to_chrome_r, to_chrome_w = os.pipe()
    from_chrome_r, from_chrome_w = os.pipe()
    high_r = os.dup(to_chrome_r)  # keep the originals away from fds 3 and 4
    high_w = os.dup(from_chrome_w)

    def wire() -> None:  # in the child: DevTools reads fd 3 and writes fd 4
        os.dup2(high_r, 3)
        os.dup2(high_w, 4)

    with tempfile.TemporaryDirectory(prefix="adhere-chromium-") as profile:
        proc = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=False,
            preexec_fn=wire,
        )
        for fd in (to_chrome_r, from_chrome_w, high_r, high_w):
            os.close(fd)
        pipe = _Pipe(proc, to_chrome_w, from_chrome_r)
        try:
            target = pipe.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = pipe.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Runtime", "Log", "Network", "Page"):
                pipe.send(f"{domain}.enable", session=session)
            url = path.resolve().as_uri()
            pipe.events.clear()
            pipe.send("Page.navigate", {"url": url}, session=session)
            pipe.wait_for("Page.loadEventFired")
            pipe.drain(0.5)
            result = PageResult()
            if script:
                value = pipe.send("Runtime.evaluate", {"expression": script, "returnByValue": True}, session=session)[
                    "result"
                ].get("value")
                result.values = dict(value or {})
                pipe.drain(0.2)
            text = pipe.send(
                "Runtime.evaluate", {"expression": "document.body.innerText", "returnByValue": True}, session=session
            )
            result.text = str(text["result"].get("value", ""))
            for event in pipe.events:
                method, params = event.get("method"), event.get("params", {})
                if method == "Runtime.consoleAPICalled":
                    message = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
                    result.console.append((params.get("type", ""), message))
                elif method == "Runtime.exceptionThrown":
                    details = params.get("exceptionDetails", {})
                    result.exceptions.append(str(details.get("exception", {}).get("description") or details))
                elif method == "Log.entryAdded":
                    entry = params.get("entry", {})
                    result.log.append((entry.get("level", ""), entry.get("text", "")))
                elif method == "Network.requestWillBeSent":
                    result.requests.append(params.get("request", {}).get("url", ""))
            with contextlib.suppress(RuntimeError, TimeoutError):
                pipe.send("Browser.close")
            return result
        finally:
            os.close(to_chrome_w)
            os.close(from_chrome_r)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


# -- run directories built from the shared IFEval reference data ------------------------------

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "ifeval"


def ifeval_rows() -> list[dict[str, Any]]:
    """The 541 GPT-4 responses with their reference verdicts, as ifeval result rows."""
    verdicts = DATA / "reference_verdicts.jsonl"
    if not verdicts.exists():
        pytest.skip("shared IFEval reference data not present")
    prompts = {}
    for line in (DATA / "input_data.jsonl").read_text().splitlines():
        row = json.loads(line)
        prompts[row["key"]] = row["prompt"]
    responses = {}
    for line in (DATA / "input_response_data_gpt4_20231107_145030.jsonl").read_text().splitlines():
        row = json.loads(line)
        responses[row["prompt"]] = row["response"]
    rows = []
    for line in verdicts.read_text().splitlines():
        ref = json.loads(line)
        prompt = prompts[ref["key"]]
        items = [
            {"id": i, "strict": s, "loose": lo, "reason": f"reference verdict for {i}"}
            for i, s, lo in zip(ref["instruction_id_list"], ref["strict"], ref["loose"], strict=True)
        ]
        outcome = "pass" if ref["prompt_loose"] else "fail"
        rows.append(
            {
                "key": ref["key"],
                "prompt": prompt,
                "response": responses.get(prompt, ""),
                "instructions": items,
                "verdict": {"check": "all", "outcome": outcome, "score": float(outcome == "pass")},
                "sample": 0,
            }
        )
    return rows


def write_run(root: Path, rows: list[dict[str, Any]], suite: str = "ifeval", model: str = "openai:gpt-4") -> Path:
    """A run directory as ``adhere eval`` lays it out."""
    from adhere.suites import get_suite

    root.mkdir(parents=True, exist_ok=True)
    with open(root / "results.jsonl", "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    (root / "summary.json").write_text(json.dumps(get_suite(suite).summarize(rows)))
    manifest = {"suite": suite, "adhere_version": "test", "generator": {"model": model, "n": 1, "seed": 0}}
    (root / "manifest.json").write_text(json.dumps(manifest))
    return root


@pytest.fixture(scope="session")
def reference_rows() -> list[dict[str, Any]]:
    return ifeval_rows()
