"""The OpenRLHF adapter exercised the way OpenRLHF 0.11.2 uses a remote reward
(``openrlhf/utils/agent.py``): the Python file loaded by path and called in a thread with
lists of one, and the HTTP protocol over a real loopback server."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

import adhere.integrations.openrlhf as openrlhf_adapter
from adhere import SpecError
from adhere.integrations.openrlhf import END_TOKENS, get_reward, response_from_query

CHATML = "<|im_start|>user\n{q}<|im_end|>\n<|im_start|>assistant\n"
NO_COMMA = json.dumps({"spec": {"check": "punctuation.no_comma"}})
WORDS = json.dumps(
    {"instruction_id_list": ["length_constraints:number_words"], "kwargs": [{"num_words": 3, "relation": "at least"}]}
)


def load_reward_file(path: str) -> Callable[..., Any]:
    """``SingleTurnAgentExecutor.__init__``: a ``--remote_rm_url`` ending in .py is imported by path."""
    spec = importlib.util.spec_from_file_location("reward_func", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fn: Callable[..., Any] = module.reward_func
    return fn


def experience_fields(info: dict[str, Any]) -> tuple[Any, Any, dict[str, Any]]:
    """What ``_process_response_into_experience`` reads from one rewards_info."""
    reward = info.get("rewards")
    score = info.get("scores")
    if score is None:
        score = reward
    return reward, score, info.get("extra_logs") or {}


def test_python_file_form_called_per_query_in_threads() -> None:
    reward_func = load_reward_file(openrlhf_adapter.__file__)
    rows = [
        (CHATML.format(q="No commas please."), "Sure thing", NO_COMMA),
        (CHATML.format(q="No commas please."), "Sure, thing", NO_COMMA),
        (CHATML.format(q="Three words at least."), "one two three", WORDS),
        (CHATML.format(q="Broken label"), "x", "{oops"),
    ]

    async def fetch_all() -> list[dict[str, Any]]:
        # _fetch_rewards_via_func: batch_size 1, asyncio.to_thread(reward_func, [query], [prompt], [label])
        return await asyncio.gather(
            *(asyncio.to_thread(reward_func, [p + r + "<|im_end|>"], [p], [label]) for p, r, label in rows)
        )

    infos = asyncio.run(fetch_all())
    fields = [experience_fields(info) for info in infos]
    assert [f[0] for f in fields] == [[1.0], [0.0], [1.0], [0.0]]
    assert [f[1] for f in fields] == [[1.0], [0.0], [1.0], [0.0]]
    assert [f[2]["unscorable"] for f in fields] == [[0.0], [0.0], [0.0], [1.0]]
    for _, _, logs in fields:  # every extra_logs value is numeric per sample (OpenRLHF makes tensors of them)
        assert all(isinstance(v, list) and all(isinstance(x, float) for x in v) for v in logs.values())
    json.dumps(infos)  # and the whole thing is JSON (the HTTP form sends the same dict)


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADHERE_REWARD", '{"binary": {"fail": -1}}')
    monkeypatch.setenv("ADHERE_UNSCORABLE_VALUE", "-0.25")
    reward_func = load_reward_file(openrlhf_adapter.__file__)
    out = reward_func(["p a, b", "p x"], ["p", "p"], [NO_COMMA, "[]"])
    assert out["rewards"] == [-1.0, -0.25]
    assert out["scores"] == [0.0, 0.0]  # scores stay in [0, 1] for dynamic filtering
    assert out["extra_logs"]["unscorable"] == [0.0, 1.0]


@pytest.mark.parametrize(
    ("query", "prompt", "expected"),
    [
        (CHATML.format(q="hi") + "Hello there<|im_end|>", CHATML.format(q="hi"), "Hello there"),
        ("<s>" + "[INST] hi [/INST]" + " Hello</s>", "[INST] hi [/INST]", " Hello"),  # BOS decoded before the prompt
        ("Q: hi\nA: Hello<|endoftext|><|endoftext|>", "Q: hi\nA:", " Hello"),  # padding-like repeats
        ("no prompt inside", "something else", "no prompt inside"),
        (
            "<|start_header_id|>assistant<|end_header_id|>\n\nYes<|eot_id|>",
            "",
            "<|start_header_id|>assistant<|end_header_id|>\n\nYes",
        ),
    ],
)
def test_response_from_query(query: str, prompt: str, expected: str) -> None:
    assert response_from_query(query, prompt, END_TOKENS) == expected


def test_malformed_bodies_raise_spec_errors() -> None:
    for body, where in [
        ({"prompts": [], "labels": []}, "query"),
        ({"query": ["a"], "prompts": [], "labels": ["x"]}, "prompts"),
        ({"query": ["a"], "prompts": ["p"]}, "labels"),
        ({"query": [3], "prompts": ["p"], "labels": [NO_COMMA]}, "query[0]"),
    ]:
        with pytest.raises(SpecError) as info:
            get_reward(body)
        assert info.value.path == where


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        try:
            status, out = 200, get_reward(body, reward="fraction")
        except SpecError as exc:
            status, out = 422, {"detail": str(exc), "path": exc.path}
        data = json.dumps(out).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/get_reward"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_http_protocol_on_loopback(server_url: str) -> None:
    """``_fetch_rewards_via_http``: POST json={"query", "prompts", "labels"}, raise_for_status, .json()."""
    two = json.dumps({"spec": {"all": [{"check": "punctuation.no_comma"}, {"check": "punctuation.no_comma"}]}})
    prompts = [CHATML.format(q="a"), CHATML.format(q="b"), CHATML.format(q="c")]
    payload = {
        "query": [prompts[0] + "fine<|im_end|>", prompts[1] + "a, b<|im_end|>", prompts[2] + "x<|im_end|>"],
        "prompts": prompts,
        "labels": [two, two, "not json"],
    }

    async def post() -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=30) as client:
            response = await client.post(server_url, json=payload)
            response.raise_for_status()
            out: dict[str, Any] = response.json()
            return out

    out = asyncio.run(post())
    assert out["rewards"] == [1.0, 0.0, 0.0]
    assert out["extra_logs"]["unscorable"] == [0.0, 0.0, 1.0]
    assert set(out) == {"rewards", "scores", "extra_logs"}
    bad = httpx.post(server_url, json={"query": "not a list"}, timeout=30)
    assert bad.status_code == 422 and bad.json()["path"] == "query"


@pytest.mark.slow
def test_query_decoded_by_a_real_tokenizer() -> None:
    """OpenRLHF builds ``query`` as ``tokenizer.decode(prompt_ids + response_ids, skip_special_tokens=False)``."""
    tokenizers = pytest.importorskip("tokenizers")
    transformers = pytest.importorskip("transformers")
    tok = tokenizers.Tokenizer(tokenizers.models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = tokenizers.decoders.ByteLevel()
    special = ["<unk>", "<|im_start|>", "<|im_end|>", "<|endoftext|>"]
    corpus = ["Write a sentence without commas.", "no commas here at all", "user assistant"] * 10
    alphabet = tokenizers.pre_tokenizers.ByteLevel.alphabet()  # every byte has a token: no <unk> on decode
    trainer = tokenizers.trainers.BpeTrainer(vocab_size=400, special_tokens=special, initial_alphabet=alphabet)
    tok.train_from_iterator(corpus, trainer)
    hf = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    prompt = CHATML.format(q="Write a sentence without commas.")
    response = "No commas here, or here"
    ids = hf(prompt, add_special_tokens=False)["input_ids"] + hf(response, add_special_tokens=False)["input_ids"]
    query = hf.decode([*ids, hf.eos_token_id], skip_special_tokens=False)
    assert response_from_query(query, prompt) == response
    reward_func = load_reward_file(openrlhf_adapter.__file__)
    assert reward_func([query], [prompt], [NO_COMMA])["rewards"] == [0.0]
    clean = hf.decode(
        [
            *hf(prompt, add_special_tokens=False)["input_ids"],
            *hf("Fine", add_special_tokens=False)["input_ids"],
            hf.eos_token_id,
        ],
        skip_special_tokens=False,
    )
    assert reward_func([clean], [prompt], [NO_COMMA])["rewards"] == [1.0]
