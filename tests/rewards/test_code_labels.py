"""Code-test labels judged in the real sandbox, and the code rewards (ACECode, VeRPO, fraction) on them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from adhere.labels import judge_labels, parse_label
from adhere.rewards import RewardItem, parse_reward, score_items, verpo

sandbox = pytest.importorskip("adhere.sandbox")

ADD = {"tests": {"inputs": [[1, 2], [2, 2], [0, 0], [5, -5]], "outputs": [3, 4, [0], 0], "fn_name": "add"}}


@pytest.fixture(scope="module")
def executor() -> Iterator[Any]:
    with sandbox.LocalExecutor(workers=2) as ex:
        yield ex


def fence(code: str) -> str:
    return f"Here you go:\n```python\n{code}\n```\nDone."


def test_call_tests_apps_semantics_and_every_outcome(executor: Any) -> None:
    label = parse_label(ADD)
    responses = {
        "right": fence("def add(a, b):\n    return a + b"),
        "wrong": fence("def add(a, b):\n    return a * b"),  # right only for (2, 2) and (0, 0)
        "syntax": fence("def add(a, b)\n    return a + b"),
        "crash": fence("def add(a, b):\n    raise ValueError('no')"),
        "hostile": fence("import os\ndef add(a, b):\n    os._exit(0)"),
    }
    verdicts = dict(
        zip(responses, judge_labels([(label, r, "") for r in responses.values()], executor=executor), strict=True)
    )
    assert verdicts["right"].passed  # the wrapped expected [0] matches 0, as APPS/PRIME harnesses accept
    assert [c.passed for c in verdicts["wrong"].children] == [False, True, True, False]
    assert verdicts["syntax"].evidence["status"] == "syntax_error"
    assert not verdicts["crash"].passed and not verdicts["hostile"].passed
    for v in verdicts.values():
        assert len(v.children) == 4  # one unit per test, whatever stopped the program

    fraction = parse_reward("fraction")
    assert [fraction(v) for v in verdicts.values()] == [1.0, 0.5, 0.0, 0.0, 0.0]
    ace = parse_reward("acecode")
    assert [ace(verdicts[k]) for k in ("wrong", "syntax", "crash")] == [-0.3, -1.0, -0.6]
    assert ace(verdicts["right"]) is None  # correct, but no reference time to compare with
    t_gen = verdicts["right"].evidence["time_s"]
    fast = parse_reward({"acecode": {"ref_time": t_gen * 4}})(verdicts["right"])
    slow = parse_reward({"acecode": {"ref_time": t_gen / 2}})(verdicts["right"])
    assert fast == 1.0 and slow == pytest.approx(0.75)


def test_stdio_and_assert_tests(executor: Any) -> None:
    stdio = parse_label({"inputs": ["1 2\n", "10 20\n"], "outputs": ["3\n", "30"]})
    asserts = parse_label({"tests": {"asserts": ["assert sq(3) == 9", "assert sq(-2) == 4", "assert sq(0) == 1"]}})
    v1, v2 = judge_labels(
        [
            (stdio, fence("a, b = map(int, input().split())\nprint(a + b)"), ""),
            (asserts, fence("def sq(x):\n    return x * x"), ""),
        ],
        executor=executor,
    )
    assert v1.passed  # whitespace-tolerant comparison of standard output
    assert [c.passed for c in v2.children] == [True, True, False]


def test_timeouts_fail_the_remaining_tests(executor: Any) -> None:
    label = parse_label({"tests": {"inputs": [[1], [2], [3]], "outputs": [1, 2, 3], "fn_name": "f", "timeout": 0.5}})
    [v] = judge_labels([(label, "def f(x):\n    while x: pass\n", "")], executor=executor)
    assert v.failed and len(v.children) == 3
    assert parse_reward("acecode")(v) == -0.6  # a timeout is a runtime error


def test_verpo_on_a_group_of_programs(executor: Any) -> None:
    label = parse_label(ADD)
    programs = [
        "def add(a, b):\n    return a + b",  # passes all 4
        "def add(a, b):\n    return a * b",  # passes tests 1, 2
        "def add(a, b):\n    return 0",  # passes tests 2, 3
        "def add(a, b):\n    return a - b",  # passes test 2
    ]
    items = [RewardItem(label, fence(p), "q") for p in programs]
    values = [s.reward for s in score_items(items, parse_reward("verpo"), executor=executor)]
    res = verpo([[[1, 1, 1, 1]], [[0, 1, 1, 0]], [[0, 0, 1, 1]], [[0, 0, 1, 0]]])
    assert values == pytest.approx([o + t[0] for o, t in zip(res.outcomes, res.turn_rewards, strict=True)])


def test_a_broken_sandbox_is_unscorable_never_failed() -> None:
    closed = sandbox.LocalExecutor(workers=1)
    closed.close()  # a closed executor refuses work: our machinery, not the program, failed
    [scored] = score_items(
        [RewardItem(parse_label(ADD), fence("def add(a, b):\n    return a + b"))],
        parse_reward("binary"),
        executor=closed,
    )
    assert scored.reward is None and scored.unscorable
    assert scored.verdict.reason.startswith("sandbox unavailable")


def test_a_group_runs_each_distinct_program_once(executor: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows with the same tests and program share one run (its reason shows a clock read in
    the run); ADHERE_DEDUPE=0 runs every row itself. Distinct programs are never merged."""
    label = parse_label({"tests": {"asserts": ["assert f() is None, str(time.perf_counter_ns())"]}})
    clock = fence("import time\ndef f():\n    return 1")
    other = fence("import time\ndef f():\n    return 2")
    rows = [(label, clock, ""), (label, other, ""), (label, clock, ""), (label, clock, "")]

    shared = judge_labels(rows, executor=executor)
    reasons = [v.children[0].reason for v in shared]
    assert all(not v.passed for v in shared)
    assert reasons[0] == reasons[2] == reasons[3] != reasons[1]

    monkeypatch.setenv("ADHERE_DEDUPE", "0")
    alone = [v.children[0].reason for v in judge_labels(rows, executor=executor)]
    assert len(set(alone)) == 4
