"""The reward server, exercised as users do: a real `adhere serve` process on loopback."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

NO_COMMA = {"check": "punctuation.no_comma"}


def test_verify_returns_one_verdict_tree_per_sample_in_order(server: Any) -> None:
    with server.client() as c:
        r = c.post(
            "/v1/verify",
            json={"samples": [{"response": "a, b", "spec": NO_COMMA}, {"response": "a b", "spec": NO_COMMA}]},
        )
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["outcome"] for x in results] == ["fail", "pass"]
    assert results[0]["verdict"]["evidence"] == {"commas": 1}
    assert "1 comma" in results[0]["reason"]


def test_reward_keeps_unscorable_null_unless_asked(server: Any) -> None:
    # A `when` whose condition check is unscorable cannot be judged: it must not become 0.
    spec = {"not": {"check": "punctuation.no_comma"}}
    with server.client() as c:
        r = c.post(
            "/v1/reward", json={"samples": [{"response": "x, y", "spec": spec}, {"response": "xy", "spec": spec}]}
        )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["rewards"] == [1.0, 0.0]
    assert body["unscorable"] == [False, False]


@pytest.mark.parametrize(
    ("payload", "status", "needle"),
    [
        ({"samples": [{"response": "x", "spec": {"check": "punctuation.no_coma"}}]}, 422, "did you mean"),
        ({"samples": [{"response": "x", "spec": {"all": []}}]}, 422, "samples[0].spec.all"),
        ({"samples": [{"response": "x"}]}, 422, "needs a 'spec' or a 'label'"),
        ({"samples": [{"response": 3, "spec": NO_COMMA}]}, 422, "response"),
        ({"samples": []}, 422, "samples"),
        ({"nothing": 1}, 422, "samples"),
    ],
    ids=["unknown-check", "empty-all", "no-spec", "wrong-type", "empty-batch", "wrong-shape"],
)
def test_bad_requests_get_4xx_naming_the_problem_and_the_next_request_is_served(
    server: Any, payload: object, status: int, needle: str
) -> None:
    with server.client() as c:
        r = c.post("/v1/verify", json=payload)
        assert r.status_code == status, r.text
        assert needle in r.text
        ok = c.post("/v1/verify", json={"samples": [{"response": "fine", "spec": NO_COMMA}]})
        assert ok.status_code == 200


def test_malformed_json_body_is_a_4xx(server: Any) -> None:
    with server.client() as c:
        r = c.post("/v1/verify", content=b"{not json", headers={"content-type": "application/json"})
        assert 400 <= r.status_code < 500
        assert c.get("/healthz").status_code == 200


def test_50_mb_body_is_refused_with_413_and_the_server_goes_on(server: Any) -> None:
    big = (
        b'{"samples": [{"response": "' + b"a" * (50 * 1024 * 1024) + b'", "spec": {"check": "punctuation.no_comma"}}]}'
    )
    with server.client() as c:
        r = c.post("/v1/verify", content=big, headers={"content-type": "application/json"})
        assert r.status_code == 413
        assert "exceeds the limit" in r.json()["detail"]
        assert c.post("/v1/verify", json={"samples": [{"response": "ok", "spec": NO_COMMA}]}).status_code == 200


def test_chunked_oversized_body_is_refused_while_streaming(server: Any) -> None:
    def chunks() -> object:
        yield b'{"samples": [{"response": "'
        for _ in range(40):
            yield b"b" * (1024 * 1024)
        yield b'", "spec": {"check": "punctuation.no_comma"}}]}'

    with server.client() as c:
        r = c.post("/v1/verify", content=chunks(), headers={"content-type": "application/json"})  # type: ignore[arg-type]
        assert r.status_code == 413
        assert c.get("/healthz").status_code == 200


def test_checks_catalog_and_metrics(server: Any) -> None:
    with server.client() as c:
        catalog = c.get("/v1/checks").json()["checks"]
        assert any(x["id"] == "punctuation.no_comma" for x in catalog)
        assert all("params" in x for x in catalog)
        text = c.get("/metrics").text
    assert "# TYPE adhere_requests_total counter" in text
    assert 'adhere_requests_total{path="/v1/verify",status="200"}' in text
    assert "adhere_request_seconds_bucket" in text
    assert "adhere_inflight_requests" in text


def test_openapi_schema_lists_every_endpoint(server: Any) -> None:
    with server.client() as c:
        schema = c.get("/openapi.json").json()
    assert {"/v1/verify", "/v1/reward", "/v1/checks", "/healthz", "/metrics"} <= set(schema["paths"])


def test_overload_answers_429_loses_no_accepted_request_and_recovers(launch: Any) -> None:
    """Two clients hold both slots by uploading slowly; everyone else gets 429 until they finish."""
    s = launch("--workers", "1", "--max-inflight", "2")
    n = 50
    samples = [{"response": f"sample {i}" + (", comma" if i % 2 else ""), "spec": NO_COMMA} for i in range(n)]
    payload = json.dumps({"samples": samples}).encode()
    release = threading.Event()
    results: dict[int, httpx.Response] = {}

    def slow_body() -> Iterator[bytes]:
        yield payload[:10]
        release.wait(30)
        yield payload[10:]

    def fire(i: int) -> None:
        with s.client() as c:
            results[i] = c.post("/v1/verify", content=slow_body(), headers={"content-type": "application/json"})

    holders = [threading.Thread(target=fire, args=(i,)) for i in range(2)]
    for t in holders:
        t.start()
    light = {"samples": [{"response": "x", "spec": NO_COMMA}]}
    with s.client() as c:
        deadline = time.monotonic() + 30
        while c.get("/healthz").json()["inflight"] < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        refused = [c.post("/v1/verify", json=light) for _ in range(5)]
        release.set()
        for t in holders:
            t.join(60)
        ok = c.post("/v1/verify", json=light)  # recovered
        metrics = c.get("/metrics").text
    for r in refused:
        assert r.status_code == 429, r.text
        assert r.headers.get("retry-after") == "1"
        assert "server busy" in r.json()["detail"]
    assert sorted(results) == [0, 1]
    for r in results.values():  # every accepted request was answered in full
        assert r.status_code == 200, r.text
        outcomes = [x["outcome"] for x in r.json()["results"]]
        assert outcomes == ["fail" if i % 2 else "pass" for i in range(n)]
    assert ok.status_code == 200
    assert 'adhere_requests_total{path="/v1/verify",status="429"} 5' in metrics


def test_api_key_is_required_when_configured(launch: Any) -> None:
    s = launch("--workers", "1", env={"ADHERE_API_KEY": "sekret"})
    body = {"samples": [{"response": "x", "spec": NO_COMMA}]}
    with s.client() as c:
        assert c.post("/v1/verify", json=body).status_code == 401
        assert c.post("/v1/verify", json=body, headers={"authorization": "Bearer wrong"}).status_code == 401
        assert c.post("/v1/verify", json=body, headers={"authorization": "Bearer sekret"}).status_code == 200
        assert c.post("/v1/verify", json=body, headers={"x-api-key": "sekret"}).status_code == 200
        assert c.get("/healthz").status_code == 200


def test_deadline_turns_unfinished_samples_unscorable_not_zero(server: Any) -> None:
    batch = {
        "samples": [
            {"response": "This is one sentence. " * 500 + str(i), "spec": {"each": "sentences", "spec": NO_COMMA}}
            for i in range(200)
        ],
        "deadline_s": 0.05,
    }
    with server.client() as c:
        r = c.post("/v1/reward", json=batch)
    assert r.status_code == 200, r.text
    body = r.json()
    assert all(x is None for x in body["rewards"])
    assert all(body["unscorable"])
    assert "deadline" in body["reasons"][0]


def test_graceful_shutdown_finishes_in_flight_work(launch: Any) -> None:
    """SIGTERM while a request is still uploading: the server finishes it before exiting."""
    s = launch("--workers", "1")
    n = 200
    payload = json.dumps({"samples": [{"response": f"r{i}", "spec": NO_COMMA} for i in range(n)]}).encode()
    release = threading.Event()
    result: dict[str, object] = {}

    def slow_body() -> Iterator[bytes]:
        yield payload[:10]
        release.wait(30)
        yield payload[10:]

    def fire() -> None:
        with s.client() as c:
            r = c.post("/v1/verify", content=slow_body(), headers={"content-type": "application/json"})
            result["status"] = r.status_code
            result["n"] = len(r.json()["results"])

    t = threading.Thread(target=fire)
    t.start()
    with s.client() as c:
        deadline = time.monotonic() + 30
        while c.get("/healthz").json()["inflight"] < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
    s.proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    assert s.proc.poll() is None, "the server exited with a request in flight"
    release.set()
    t.join(60)
    s.proc.wait(30)
    assert result == {"status": 200, "n": n}, json.dumps(result)


IFEVAL_LABEL = {
    "instruction_id_list": ["punctuation:no_comma", "change_case:english_lowercase"],
    "kwargs": [{}, {}],
}


def test_reward_declarations_and_ifeval_labels(server: Any) -> None:
    samples = [
        {"response": "all lowercase and no commas here.", "prompt": "p", "label": IFEVAL_LABEL},
        {"response": "all lowercase, but a comma.", "prompt": "p", "label": IFEVAL_LABEL},
        {"response": "Not Lowercase, And A Comma.", "prompt": "p", "label": IFEVAL_LABEL},
    ]
    with server.client() as c:
        binary = c.post("/v1/reward", json={"samples": samples}).json()
        fraction = c.post("/v1/reward", json={"samples": samples, "reward": "fraction"}).json()
        bad = c.post("/v1/reward", json={"samples": samples, "reward": {"fractoin": {}}})
    assert binary["rewards"] == [1.0, 0.0, 0.0]
    assert fraction["rewards"] == [1.0, 0.5, 0.0]
    assert bad.status_code == 422 and "reward" in bad.json()["path"]


def test_get_reward_speaks_openrlhf(server: Any) -> None:
    prompts = ["<|im_start|>user\nanswer in lowercase<|im_end|>\n<|im_start|>assistant\n"] * 3
    answers = ["fine, lowercase.", "no commas in lowercase", "UPPER"]
    body = {
        "query": [p + a + "<|im_end|>" for p, a in zip(prompts, answers, strict=True)],
        "prompts": prompts,
        "labels": [json.dumps(IFEVAL_LABEL)] * 3,
    }
    with server.client() as c:
        r = c.post("/get_reward", json=body)
        assert r.status_code == 200, r.text
        out = r.json()
        bad = c.post("/get_reward", json={**body, "labels": ["{not json"] * 3})
        short = c.post("/get_reward", json={**body, "labels": body["labels"][:2]})
    assert out["rewards"] == [0.0, 1.0, 0.0]
    assert out["scores"] == [0.5, 1.0, 0.5]  # the verdict's score: share of instructions followed
    assert out["extra_logs"]["unscorable"] == [0.0, 0.0, 0.0]
    assert out["extra_logs"]["adhere_pass"] == [0.0, 1.0, 0.0]
    assert bad.status_code == 422 and bad.json()["path"] == "labels[0]"
    assert short.status_code == 422 and "one entry per query" in short.json()["detail"]


def test_malformed_label_is_a_4xx_naming_the_kwarg(server: Any) -> None:
    label = {"instruction_id_list": ["length_constraints:number_words"], "kwargs": [{"num_words": "many"}]}
    with server.client() as c:
        r = c.post("/v1/verify", json={"samples": [{"response": "x", "label": label}]})
        assert r.status_code == 422
        assert r.json()["path"].startswith("samples[0].label")
        assert "num_words" in r.text
        assert c.post("/v1/verify", json={"samples": [{"response": "x", "spec": NO_COMMA}]}).status_code == 200


def _deep(levels: int) -> bytes:
    return b'{"not":' * levels + b'{"check":"punctuation.no_comma"}' + b"}" * levels


HOSTILE: dict[str, tuple[str, bytes, int]] = {
    "nan": ("/v1/reward", b'{"samples":[{"response":"x","spec":{"check":"length.words","params":{"min":NaN}}}]}', 422),
    "infinity": (
        "/v1/verify",
        b'{"samples":[{"response":"x","spec":{"check":"length.words","params":{"min":1e400}}}]}',
        422,
    ),
    "lone-surrogate": (
        "/v1/reward",
        b'{"samples":[{"response":"\\ud800","spec":{"check":"punctuation.no_comma"}}]}',
        422,
    ),
    "huge-int-kwarg": (
        "/v1/reward",
        b'{"samples":[{"response":"x","label":{"instruction_id_list":["length_constraints:number_words"],'
        b'"kwargs":[{"num_words":100000000000000000000000000000,"relation":"at least"}]}}]}',
        200,
    ),
    "label-string-infinity": (
        "/v1/verify",
        json.dumps(
            {"samples": [{"response": "x", "label": '{"spec":{"check":"length.words","params":{"min":Infinity}}}'}]}
        ).encode(),
        422,
    ),
    "deep-300": ("/v1/verify", b'{"samples":[{"response":"x","spec":' + _deep(300) + b"}]}", 200),
    "deep-600": ("/v1/reward", b'{"samples":[{"response":"x","spec":' + _deep(600) + b"}]}", 422),
    "deep-1015": ("/get_reward", b'{"query":["a"],"prompts":["a"],"labels":[{"spec":' + _deep(1015) + b"}]}", 422),
    "deep-1030": ("/v1/verify", b'{"samples":[{"response":"x","spec":' + _deep(1030) + b"}]}", 422),
    "reward-huge-int": (
        "/v1/reward",
        b'{"samples":[{"response":"x","spec":{"check":"punctuation.no_comma"}}],'
        b'"reward":{"overlong":{"max_length":100000000000000000000000,"buffer":1}}}',
        422,
    ),
    "openrlhf-null-label": ("/get_reward", b'{"query":["a"],"prompts":[null],"labels":[null]}', 422),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_json_gets_a_precise_answer_and_no_worker_dies(server: Any, case: str) -> None:
    """Inputs at the edges of JSON (NaN, lone surrogates, 64-bit overflow, nesting past every
    encoder's limit) are a 4xx or a judged answer, never a 5xx or a lost worker process."""
    path, body, status = HOSTILE[case]
    with server.client() as c:
        before = c.get("/healthz").json()["worker_pids"]
        r = c.post(path, content=body, headers={"content-type": "application/json"})
        assert r.status_code == status, r.text
        assert c.get("/healthz").json()["worker_pids"] == before
        assert c.post("/v1/reward", json={"samples": [{"response": "x", "spec": NO_COMMA}]}).json()["rewards"] == [1.0]


def test_a_killed_worker_costs_its_rows_not_the_request_and_is_replaced(launch: Any) -> None:
    """SIGKILL both worker processes while they judge a batch: the request is answered (its rows
    unscorable, naming why), new workers start, and the next request is judged normally."""
    s = launch("--workers", "2")
    heavy = {"each": "sentences", "spec": NO_COMMA}
    batch = {"samples": [{"response": "One sentence here. " * 2000 + str(i), "spec": heavy} for i in range(400)]}
    result: dict[str, httpx.Response] = {}

    def fire() -> None:
        with s.client() as c:
            result["r"] = c.post("/v1/reward", json=batch)

    with s.client() as c:
        pids = c.get("/healthz").json()["worker_pids"]
        t = threading.Thread(target=fire)
        t.start()
        deadline = time.monotonic() + 30
        while "adhere_queue_text_rows 0" in c.get("/metrics").text and time.monotonic() < deadline:
            time.sleep(0.005)
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        t.join(60)
        r = result["r"]
        assert r.status_code == 200, r.text
        body = r.json()
        assert len(body["rewards"]) == 400
        lost = [why for why, u in zip(body["reasons"], body["unscorable"], strict=True) if u]
        assert lost and all("ended" in why for why in lost)
        assert all(x is None for x, u in zip(body["rewards"], body["unscorable"], strict=True) if u)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            health = c.get("/healthz").json()
            if health["workers"] == 2:
                break
            time.sleep(0.1)
        assert health["workers"] == 2 and not set(health["worker_pids"]) & set(pids)
        assert c.post("/v1/reward", json={"samples": [{"response": "a, b", "spec": NO_COMMA}]}).json()["rewards"] == [
            0.0
        ]
        assert "adhere_pool_worker_restarts 2" in c.get("/metrics").text


def test_a_single_sample_is_not_queued_behind_a_big_batch(launch: Any) -> None:
    """Workers take the smallest waiting message first: a one-sample request sent while a 640-row
    batch (ten chunks) is queued waits for the chunk being judged, not for the batch. The rows are heavy
    (200 sentences each) so the batch outlasts the single request's round trip even on a fast machine."""
    s = launch("--workers", "1")
    heavy = {"each": "sentences", "spec": NO_COMMA}
    rows = [{"response": "One sentence here. " * 200, "prompt": f"p{i}", "spec": heavy} for i in range(640)]
    batch = {"samples": rows}  # 640 rollout groups of one: chunks of at most 64 rows
    batch_done: list[float] = []

    def fire_batch() -> None:
        with s.client() as c:
            assert c.post("/v1/reward", json=batch).status_code == 200
        batch_done.append(time.monotonic())

    t = threading.Thread(target=fire_batch)
    with s.client() as c:
        t.start()
        deadline = time.monotonic() + 30
        while "adhere_queue_text_rows 0" in c.get("/metrics").text and time.monotonic() < deadline:
            time.sleep(0.002)
        sent = time.monotonic()
        r = c.post("/v1/reward", json={"samples": [{"response": "a, b", "spec": NO_COMMA}]})
        single = time.monotonic() - sent
        batch_still_running = not batch_done
    t.join(120)
    assert r.json()["rewards"] == [0.0]
    # First in, first out, the single sample would wait for every chunk (~the whole remaining batch).
    assert batch_still_running, "the single request was answered only after the whole batch"
    assert single < 0.6 * (batch_done[0] - sent), (single, batch_done[0] - sent)


def test_sandbox_slots_and_active_slots_reach_the_workers(launch: Any) -> None:
    """``ADHERE_SANDBOX_WORKERS`` zygotes per worker, ``ADHERE_SANDBOX_ACTIVE`` of them taking
    jobs at any time (the executor's overflow is tested in tests/sandbox); an active count
    above the slots is capped, and code rows are still judged."""
    server = launch("--workers", "1", env={"ADHERE_SANDBOX_WORKERS": "3", "ADHERE_SANDBOX_ACTIVE": "5"})
    with server.client() as c:
        text = c.get("/metrics").text
        sample = {
            "response": "```python\ndef add(a, b):\n    return a + b\n```",
            "label": {"tests": {"asserts": ["assert add(1, 2) == 3"]}},
        }
        rewards = c.post("/v1/reward", json={"samples": [sample] * 4}).json()["rewards"]
    lines = text.splitlines()
    assert "adhere_sandbox_slots 3" in lines and "adhere_sandbox_active_slots 3" in lines
    assert rewards == [1.0] * 4
    workers = [p for p in _children(server.proc.pid) if b"adhere.serve._worker" in _cmdline(p)]
    assert len(workers) == 1 and _cmdline(workers[0]).split(b"\0")[-3:-1] == [b"3", b"3"]


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(x) for x in f.read().split()]


def _cmdline(pid: int) -> bytes:
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read()
