"""``adhere serve --ray``: the server as a Ray Serve application on a local Ray started by the command."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

pytest.importorskip("ray.serve", reason="the ray extra is not installed: pip install 'adhere[ray]'")
httpx = pytest.importorskip("httpx")

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_serve_on_ray_gives_the_local_rewards_and_stops_cleanly() -> None:
    from adhere.labels import judge_labels, parse_label

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = tempfile.TemporaryFile()  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "adhere.cli", "serve", "--ray", "--workers", "1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 180
        health = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                r = httpx.get(url + "/healthz", timeout=2)
                if r.status_code == 200:
                    health = r.json()
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        assert health is not None, "the Ray Serve app did not come up"

        data = [json.loads(x) for x in (SHARED / "ifeval" / "input_data.jsonl").read_text().splitlines() if x]
        answers = {}
        for x in (SHARED / "ifeval" / "input_response_data_gpt4_20231107_145030.jsonl").read_text().splitlines():
            if x:
                row = json.loads(x)
                answers[row["prompt"]] = row["response"]
        samples = [
            {
                "prompt": d["prompt"],
                "response": answers[d["prompt"]],
                "label": {"instruction_id_list": d["instruction_id_list"], "kwargs": d["kwargs"]},
            }
            for d in data
        ]
        code = {"tests": {"inputs": [[1, 2], [3, 4]], "outputs": [3, 7], "fn_name": "add"}}
        samples += [
            {"response": "```python\ndef add(a, b):\n    return a + b\n```", "label": code},
            {"response": "```python\ndef add(a, b):\n    return a - b\n```", "label": code},
        ]
        with httpx.Client(base_url=url, timeout=120) as c:
            got = c.post("/v1/reward", json={"samples": samples})
            assert got.status_code == 200, got.text
            local = judge_labels([(parse_label(s["label"]), s["response"], s["prompt"]) for s in samples[:-2]])
            assert got.json()["rewards"] == [1.0 if v.passed else 0.0 for v in local] + [1.0, 0.0]
            assert sum(got.json()["rewards"][:-2]) == 417  # IFEval's prompt-level strict on these responses
            bad = c.post("/v1/reward", json={"samples": [{"response": "x", "spec": {"check": "no.such"}}]})
            assert bad.status_code == 422
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(120) == 0
        time.sleep(1)
        for pid in health["worker_pids"]:  # the replica's worker processes went with it
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.seek(0)
        tail = log.read().decode(errors="replace")[-3000:]
        log.close()
        print(tail)
