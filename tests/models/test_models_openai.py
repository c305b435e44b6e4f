"""The OpenAI-compatible client against the real fake server on loopback (no mocks)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from adhere.models import (
    GenParams,
    OpenAIGenerator,
    Request,
    ResponseCache,
    RetryPolicy,
    open_generator,
)
from adhere.testing import FakeModelServer, Reply

FAST_RETRY = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05)


def client(server: FakeModelServer, **kwargs: object) -> OpenAIGenerator:
    kwargs.setdefault("retry", FAST_RETRY)
    return OpenAIGenerator("fake", base_url=server.base_url, **kwargs)  # type: ignore[arg-type]


def test_chat_request_body_and_response_fields() -> None:
    with FakeModelServer({"capital": ["Paris."]}) as server:
        gen = client(server)
        params = GenParams(temperature=0.7, top_p=0.9, max_tokens=32, stop=("END",), seed=10, system="Be brief.")
        [[first, second]] = gen.generate(["What is the capital of France?"], n=2, params=params)
        seen = server.requests
    assert [c.text for c in (first, second)] == ["Paris.", "Paris."]
    assert (first.sample, second.sample) == (0, 1)
    assert first.ok and first.error is None and first.finish_reason == "stop"
    assert first.usage["completion_tokens"] == 1
    assert first.model == "openai:fake"
    assert len(seen) == 2
    bodies = sorted((r.body for r in seen), key=lambda b: b["seed"])
    assert [b["seed"] for b in bodies] == [10, 11]  # seed + sample index
    body = bodies[0]
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What is the capital of France?"},
    ]
    assert (body["temperature"], body["top_p"], body["max_tokens"], body["stop"]) == (0.7, 0.9, 32, ["END"])
    assert all(r.path == "/v1/chat/completions" for r in seen)


def test_completions_endpoint_and_chat_messages_prompt() -> None:
    with FakeModelServer({"Once upon": ["a time"]}) as server:
        gen = client(server, endpoint="completions")
        [[c]] = gen.generate(["Once upon"])
        assert c.text == "a time"
        assert server.requests[0].path == "/v1/completions"
        assert server.requests[0].body["prompt"] == "Once upon"
        chat = client(server)
        messages = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
        [[c2]] = chat.generate([[*messages, {"role": "user", "content": "Once upon"}]])
        assert c2.text == "a time"
        assert server.requests[-1].body["messages"][:2] == messages


@pytest.mark.parametrize(
    "first",
    [
        Reply.error(500),
        Reply.error(502),
        Reply.error(503),
        Reply.error(408),
        Reply.rate_limited(0.01),
        Reply.truncated(),
        Reply.invalid_json(),
        Reply.disconnect(),
    ],
    ids=["500", "502", "503", "408", "429", "truncated", "invalid-json", "disconnect"],
)
def test_transient_errors_are_retried_and_end_in_a_result(first: Reply) -> None:
    with FakeModelServer({"flaky": [first, first, "finally"]}) as server:
        [[c]] = client(server).generate(["flaky prompt"])
        assert server.count("flaky") == 3
    assert c.ok, c.error
    assert c.text == "finally"
    assert c.attempts == 3


def test_timeouts_are_retried() -> None:
    with FakeModelServer({"slow": [Reply.hang(5), "in time"]}) as server:
        started = time.monotonic()
        [[c]] = client(server, timeout=0.25).generate(["slow prompt"])
        elapsed = time.monotonic() - started
        assert server.count("slow") == 2
    assert c.text == "in time" and c.attempts == 2
    assert elapsed < 3  # the hung attempt was abandoned at the timeout, not waited out


def test_retry_after_is_honoured() -> None:
    with FakeModelServer({"busy": [Reply.rate_limited(0.4), "ok"]}) as server:
        [[c]] = client(server).generate(["busy server"])
        first, second = server.requests
    assert c.text == "ok"
    assert second.received_at - first.received_at >= 0.35


def test_retry_after_pauses_every_worker() -> None:
    """A 429 with Retry-After is a signal for the whole client, not just one worker."""
    with FakeModelServer({"p0": [Reply.rate_limited(0.5), "ok"]}) as server:
        gen = client(server, concurrency=2)
        results = gen.generate(["p0", *[f"q{i}" for i in range(6)]])
        seen = server.requests
    assert all(row[0].ok for row in results)
    limited_at = seen[0].received_at
    # Requests that started after the 429 was answered waited for the cool-down.
    later = [r.received_at - limited_at for r in seen[3:]]
    assert later and min(later) >= 0.45


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_permanent_errors_are_recorded_not_retried(status: int) -> None:
    with FakeModelServer({"bad": [Reply.error(status, "the server refuses this")]}) as server:
        [[c], [good]] = client(server).generate(["bad request", "fine request"])
        assert server.count("bad") == 1
    assert good.ok
    assert not c.ok and c.text == "" and c.error_kind == "permanent"
    assert c.error == f"HTTP {status}: the server refuses this"
    verdict = c.error_verdict()
    assert verdict.unscorable and verdict.score is None
    assert "the server refuses this" in verdict.reason


def test_exhausted_retries_are_recorded() -> None:
    with FakeModelServer({"down": [Reply.error(503, "overloaded")], "garbled": [Reply.invalid_json()]}) as server:
        [[down], [garbled]] = client(server).generate(["down", "garbled"])
        assert server.count("down") == FAST_RETRY.max_attempts
        assert server.count("garbled") == FAST_RETRY.max_attempts
    assert down.error_kind == "exhausted" and "HTTP 503: overloaded" in (down.error or "")
    assert garbled.error_kind == "exhausted" and "not valid JSON" in (garbled.error or "")
    assert down.attempts == FAST_RETRY.max_attempts


def test_connection_refused_is_an_exhausted_error() -> None:
    with FakeModelServer() as server:
        url = server.base_url
    gen = OpenAIGenerator("fake", base_url=url, retry=RetryPolicy(max_attempts=2, base_delay=0.01))
    [[c]] = gen.generate(["anyone there?"])
    assert c.error_kind == "exhausted" and "Connect" in (c.error or "")


def test_concurrency_is_bounded() -> None:
    with FakeModelServer(responder=lambda r: Reply.ok("x", delay=0.1)) as server:
        client(server, concurrency=3).generate([f"p{i}" for i in range(12)])
        assert server.request_count == 12
        assert server.max_in_flight == 3


def test_rate_limit_spaces_requests() -> None:
    with FakeModelServer() as server:
        client(server, concurrency=8, rate=20).generate([f"p{i}" for i in range(6)])
        times = sorted(r.received_at for r in server.requests)
    assert times[-1] - times[0] >= 5 / 20 - 0.03


def test_api_key_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADHERE_API_KEY", "sk-test-123")
    with FakeModelServer() as server:
        client(server).generate(["hello"])
        assert server.requests[0].headers["authorization"] == "Bearer sk-test-123"
    monkeypatch.delenv("ADHERE_API_KEY")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with FakeModelServer() as server:
        client(server).generate(["hello"])
        assert "authorization" not in server.requests[0].headers


def test_think_blocks_recorded_and_stripped_only_on_request() -> None:
    answer = "<think>The user wants a greeting.</think>\nHello!"
    with FakeModelServer({"greet": [Reply.ok(answer, reasoning="server-side reasoning")]}) as server:
        [[kept]] = client(server).generate(["greet me"])
        [[stripped]] = client(server, strip_think=True).generate(["greet me"])
    assert kept.text == answer and kept.raw == answer
    assert stripped.text == "Hello!" and stripped.raw == answer
    assert kept.reasoning == stripped.reasoning == "server-side reasoning"
    assert stripped.to_dict()["raw"] == answer


def test_cache_makes_reruns_free_and_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    params = GenParams(temperature=1.0, seed=3)
    with FakeModelServer() as server:
        first = client(server, cache=ResponseCache(path)).generate(["a", "b"], n=3, params=params)
        assert server.request_count == 6
        again = client(server, cache=ResponseCache(path)).generate(["a", "b"], n=3, params=params)
        assert server.request_count == 6  # nothing regenerated
        assert [[c.text for c in row] for row in again] == [[c.text for c in row] for row in first]
        assert all(c.cached for row in again for c in row) and not any(c.cached for row in first for c in row)
        # A fourth sample, other parameters, or another model are new generations.
        client(server, cache=ResponseCache(path)).generate(["a"], n=4, params=params)
        assert server.request_count == 7
        client(server, cache=ResponseCache(path)).generate(["a"], n=1, params=GenParams(temperature=0.5, seed=3))
        assert server.request_count == 8
        other = OpenAIGenerator("other", base_url=server.base_url, cache=ResponseCache(path))
        other.generate(["a"], n=1, params=params)
        assert server.request_count == 9
    assert len(ResponseCache(path)) == 9


def test_cache_keeps_failures_out(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "c.sqlite")
    with FakeModelServer({"p": [Reply.error(400), "now fine"]}) as server:
        [[bad]] = client(server, cache=cache).generate(["p"])
        [[good]] = client(server, cache=cache).generate(["p"])
        [[hit]] = client(server, cache=cache).generate(["p"])
        assert server.count("p") == 2
    assert bad.error_kind == "permanent" and good.text == hit.text == "now fine" and hit.cached


def test_cache_is_shared_by_interleaved_streams(tmp_path: Path) -> None:
    """Two streams of one generator in one loop share the HTTP client and the cache."""
    cache = ResponseCache(tmp_path / "c.sqlite")

    async def main(gen: OpenAIGenerator) -> list[str]:
        async def collect(prompts: list[str]) -> list[str]:
            return sorted([c.text async for c in gen.stream([Request(p) for p in prompts])])

        a, b = await asyncio.gather(collect(["x", "y"]), collect(["y", "z"]))
        return a + b

    with FakeModelServer() as server:
        texts = asyncio.run(main(client(server, cache=cache)))
        assert len(texts) == 4 and server.request_count in (3, 4)  # "y" may race once
        assert len(cache) == 3


def test_stream_consumes_requests_lazily_and_can_stop_early() -> None:
    taken: list[int] = []

    def requests() -> object:
        for i in range(10_000):
            taken.append(i)
            yield Request(f"p{i}", id=i)

    async def main(gen: OpenAIGenerator) -> int:
        seen = 0
        async for _ in gen.stream(requests()):  # type: ignore[arg-type]
            seen += 1
            if seen == 5:
                break
        return seen

    with FakeModelServer() as server:
        assert asyncio.run(main(client(server, concurrency=2))) == 5
        assert len(taken) < 100
        assert server.request_count < 100


def test_generate_works_inside_a_running_event_loop() -> None:
    with FakeModelServer({"nested": ["inside"]}) as server:
        gen = client(server)

        async def main() -> str:
            return gen.generate(["nested"])[0][0].text

        assert asyncio.run(main()) == "inside"


def test_open_generator_strings() -> None:
    gen = open_generator("openai:my-model", base_url="http://127.0.0.1:1/v1/", concurrency=3)
    assert isinstance(gen, OpenAIGenerator)
    assert gen.name == "openai:my-model" and gen.url == "http://127.0.0.1:1/v1/chat/completions"
    assert gen.concurrency == 3


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("gpt-4o", "needs a backend prefix"),
        ("openia:gpt-4o", "did you mean openai:"),
        ("nope:x", "unknown model backend 'nope'"),
        ("openai:", "needs a backend prefix"),
    ],
)
def test_open_generator_rejects_bad_model_strings(model: str, message: str) -> None:
    from adhere.errors import SpecError

    with pytest.raises(SpecError, match=message):
        open_generator(model)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"temperature": -1}, "temperature"),
        ({"top_p": 0}, "top_p"),
        ({"max_tokens": 0}, "max_tokens"),
    ],
)
def test_gen_params_validation(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        GenParams(**kwargs)  # type: ignore[arg-type]


def test_gen_params_round_trip() -> None:
    params = GenParams(temperature=0.2, stop=("a", "b"), seed=4, extra={"top_k": 5})
    assert GenParams.from_dict(params.to_dict()) == params
    assert GenParams(stop="x").stop == ("x",)  # type: ignore[arg-type]
