"""The fake server itself: routes, scripting order, counting, and the standalone command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import orjson

from adhere.models import OpenAIGenerator
from adhere.testing import FakeModelServer, Reply, default_text


def test_routes_and_errors_speak_the_openai_shape() -> None:
    with FakeModelServer(model="tiny") as server, httpx.Client(base_url=server.base_url) as http:
        models = http.get("/models").json()
        assert models["data"][0]["id"] == "tiny"
        assert http.post("/nowhere", json={}).status_code == 404
        bad = http.post("/chat/completions", content=b"{not json")
        assert bad.status_code == 400 and "invalid JSON" in bad.json()["error"]["message"]
        ok = http.post("/chat/completions", json={"model": "tiny", "messages": [{"role": "user", "content": "q"}]})
        body = ok.json()
        assert body["object"] == "chat.completion" and body["choices"][0]["message"]["role"] == "assistant"
        assert body["choices"][0]["message"]["content"] == default_text("q")
        server.enqueue(Reply.rate_limited(2.5))
        limited = http.post("/completions", json={"prompt": "q"})
        assert limited.status_code == 429 and limited.headers["retry-after"] == "2.5"
        assert server.request_count == 2  # completion requests only: not GET, 404s or unparseable bodies
        assert server.count("q") == 2 and server.count("absent") == 0


def test_script_order_queue_first_then_rules_then_responder() -> None:
    script = {"alpha": ["a1", "a2"], "beta": ["b"]}
    with FakeModelServer(script, responder=lambda r: f"echo {r.prompt}") as server:
        gen = OpenAIGenerator("fake", base_url=server.base_url, concurrency=1)
        server.enqueue("queued")
        texts = [gen.generate([p])[0][0].text for p in ["alpha", "alpha", "alpha", "beta", "gamma"]]
    assert texts == ["queued", "a1", "a2", "b", "echo gamma"]


def test_default_text_is_deterministic_in_prompt_seed_and_temperature() -> None:
    assert default_text("p", 1, 0.5) == default_text("p", 1, 0.5)
    assert len({default_text("p", s, 0.5) for s in range(20)}) > 15
    assert default_text("p") != default_text("q")


def test_standalone_command_serves_a_script_file(tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_bytes(orjson.dumps({"weather": [{"status": 500}, "Sunny."]}))
    proc = subprocess.Popen(
        [sys.executable, "-m", "adhere.testing", "--script", str(script)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:")
        from adhere.models import RetryPolicy

        gen = OpenAIGenerator("fake", base_url=base_url, retry=RetryPolicy(base_delay=0.01))
        [[c]] = gen.generate(["How is the weather?"])
        assert c.text == "Sunny." and c.attempts == 2
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()
