"""The one label language: what a response must adhere to, as a trainer's dataset carries it.

A label is a JSON object (or a JSON string of one) found in a TRL dataset column, verl's
``reward_model.ground_truth`` or OpenRLHF's ``labels``. Exactly one of these forms, with
an optional ``"reward"`` declaration (:func:`adhere.rewards.parse_reward`) that overrides
the trainer adapter's default reward for this row::

    {"spec": {...}}                                      a spec tree (docs/specs.md); a bare
                                                          spec tree ({"all": [...]}) is read the same
    {"instruction_id_list": [...], "kwargs": [...],      an IFEval or IFBench row (ids of
     "mode": "strict" | "loose"}                          both catalogs may mix); strict by
                                                          default; a row's "key" and "prompt"
                                                          are allowed and ignored
    {"tests": {"inputs": [...], "outputs": [...],        code tests, verl/PRIME ``test_cases``
               "fn_name": "f"}}                           style: call ``f(*input)`` (or stdin →
                                                          stdout without ``fn_name``)
    {"tests": {"asserts": ["assert f(1) == 2", ...]}}    assert statements
    {"inputs": [...], "outputs": [...], "fn_name": ...}  verl's PRIME ``ground_truth`` as is

Parsing validates the whole label before any response is read and raises
:class:`~adhere.errors.SpecError` naming the path (``label.kwargs[1].num_words``).
Parsed labels are cached by their canonical JSON, so the G copies of a label in a GRPO
group are parsed once.

Judging (:func:`judge_labels`) turns (label, response) pairs into verdict trees: specs
in-process; code tests through :mod:`adhere.sandbox` as one batch. Where no sandbox is
available the code verdict is unscorable with the reason, never a fail.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .errors import SpecError
from .spec import _KINDS as SPEC_KINDS
from .spec import IFEVAL_VARIANTS, AllNode, LooseNode, Node, Spec, parse_node
from .subjects import Response
from .verdict import Verdict

if TYPE_CHECKING:
    from .rewards import Reward

__all__ = [
    "CodeTests",
    "Label",
    "ajudge_labels",
    "instructions_spec",
    "judge_labels",
    "label_spec",
    "parse_label",
    "plain",
]

LabelKind = Literal["spec", "instructions", "tests", "invalid"]

_TEST_KEYS = frozenset({"inputs", "outputs", "fn_name", "asserts", "setup", "timeout"})
DEFAULT_TEST_SECONDS = 4.0
"""Wall-clock budget of one code test unless the label says ``"timeout"`` [ours]."""
_ROW_KEYS = frozenset({"instruction_id_list", "kwargs", "mode", "prompt", "key"})


@dataclass(frozen=True)
class CodeTests:
    """Tests for a program extracted from the response (its last fenced code block).

    Either input/expected-output pairs (``fn_name`` set: call ``fn_name(*input)`` and
    compare the return value; unset: feed ``input`` on stdin and compare stdout) or
    ``asserts`` (statements run after the program, after ``setup``).
    """

    inputs: tuple[Any, ...] = ()
    outputs: tuple[Any, ...] = ()
    fn_name: str | None = None
    asserts: tuple[str, ...] = ()
    setup: str = ""
    timeout: float = DEFAULT_TEST_SECONDS

    @property
    def style(self) -> Literal["call", "stdio", "asserts"]:
        if self.asserts:
            return "asserts"
        return "call" if self.fn_name else "stdio"

    def __len__(self) -> int:
        return len(self.asserts) if self.asserts else len(self.inputs)

    def to_dict(self) -> dict[str, Any]:
        if self.asserts:
            d: dict[str, Any] = {"asserts": list(self.asserts)}
        else:
            d = {"inputs": list(self.inputs), "outputs": list(self.outputs)}
            if self.fn_name:
                d["fn_name"] = self.fn_name
        if self.setup:
            d["setup"] = self.setup
        if self.timeout != DEFAULT_TEST_SECONDS:
            d["timeout"] = self.timeout
        return d


@dataclass(frozen=True, eq=False)
class Label:
    """A parsed label: a spec or code tests, and optionally the row's own reward."""

    kind: LabelKind
    spec: Spec | None = None
    tests: CodeTests | None = None
    reward: Reward | None = None
    key: str = field(default="", compare=False)
    """Canonical JSON of the label (equal labels have equal keys)."""
    error: str = ""
    """Why an ``invalid`` label could not be parsed (its verdicts are unscorable with this reason)."""

    @classmethod
    def invalid(cls, error: str, key: str = "") -> Label:
        """A stand-in for a dataset row whose label is malformed: judged unscorable, never a fail.

        Trainer adapters use it so one bad row costs one reward, not the batch.
        """
        return cls("invalid", key=key, error=error)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any]
        if self.kind == "invalid":
            return {"invalid": self.error}
        if self.tests is not None:
            d = {"tests": self.tests.to_dict()}
        else:
            assert self.spec is not None
            d = {"spec": self.spec.to_dict()}
        if self.reward is not None:
            d["reward"] = self.reward.to_dict()
        return d


# -- parsing -----------------------------------------------------------------------------------


def plain(value: Any) -> Any:
    """Plain JSON-like values from what dataset and config libraries hand over: numpy arrays
    and scalars (``tolist``), tuples, OmegaConf ``DictConfig``/``ListConfig`` (any mapping or
    non-string sequence)."""
    if isinstance(value, (str, bytes, bytearray)):
        return value
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, Sequence):
        return [plain(v) for v in value]
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return plain(tolist())
    return value


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


_CACHE: dict[str, Label] = {}
_CACHE_MAX = 8192


def parse_label(raw: Any, *, path: str = "label", mode: Literal["strict", "loose"] = "strict") -> Label:
    """Parse one label (an object, a JSON string of one, or a :class:`Label`).

    ``mode`` is the default for IFEval/IFBench rows without their own ``"mode"``.

    Raises:
        SpecError: the label is not JSON, has no known form, or its spec, ids, kwargs,
            tests or reward are invalid; ``path`` prefixes the error's location.
    """
    if isinstance(raw, Label):
        return raw
    if isinstance(raw, (bytes, bytearray)):
        raw = raw.decode("utf-8", errors="replace")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise SpecError(f"a label string must be JSON: {exc.msg} at character {exc.pos}", path) from None
    raw = plain(raw)
    if not isinstance(raw, dict):
        raise SpecError(f"a label must be a JSON object, got {type(raw).__name__} {raw!r:.80}", path)
    cache_key = _canonical([raw, mode if "instruction_id_list" in raw else ""])
    hit = _CACHE.get(cache_key)
    if hit is not None:
        return hit
    label = _parse_object(raw, path, mode)
    if len(_CACHE) >= _CACHE_MAX:
        _CACHE.clear()
    _CACHE[cache_key] = label
    return label


def _parse_object(raw: dict[str, Any], path: str, mode: str) -> Label:
    from .rewards import parse_reward

    body = {k: v for k, v in raw.items() if k != "reward"}
    reward = parse_reward(raw["reward"], f"{path}.reward") if raw.get("reward") is not None else None
    key = _canonical(raw)
    keys = set(body)
    if keys == {"spec"}:
        spec = _spec(body["spec"], f"{path}.spec")
        return Label("spec", spec=spec, reward=reward, key=key)
    if keys == {"tests"}:
        return Label("tests", tests=_tests(body["tests"], f"{path}.tests"), reward=reward, key=key)
    if "instruction_id_list" in keys:
        extra = keys - _ROW_KEYS
        if extra:
            raise SpecError(
                f"unexpected key(s) {sorted(extra)} in an instruction row; it takes {sorted(_ROW_KEYS)}", path
            )
        spec = instructions_spec(body, path=path, mode=mode)
        return Label("instructions", spec=spec, reward=reward, key=key)
    if keys and keys <= _TEST_KEYS and ("inputs" in keys or "asserts" in keys):
        return Label("tests", tests=_tests(body, path), reward=reward, key=key)
    if keys & set(SPEC_KINDS):  # a bare spec tree: a dataset's "spec" column
        wrapped = {"spec": body, "reward": raw["reward"]} if "reward" in raw else {"spec": body}
        return Label("spec", spec=_spec(body, path), reward=reward, key=_canonical(wrapped))
    forms = "'spec', 'instruction_id_list' (+ 'kwargs'), 'tests', or verl's 'inputs'/'outputs'"
    raise SpecError(f"a label needs exactly one of {forms} (plus an optional 'reward'); got keys {sorted(raw)}", path)


def _spec(raw: Any, path: str) -> Spec:
    try:
        return Spec(parse_node(raw, path))
    except SpecError:
        raise
    except RecursionError:
        raise SpecError("the spec is nested too deeply", path) from None


def instructions_spec(row: Mapping[str, Any], *, path: str = "label", mode: str = "strict") -> Spec:
    """The spec of an IFEval/IFBench row: ``all`` over one ``loose`` node per instruction.

    Strict mode judges the response as is (an empty response fails, as both references
    do); loose mode passes an instruction when any of IFEval's eight variants passes.
    IFEval ids map through :mod:`adhere.suites.ifeval`, IFBench ids through
    :mod:`adhere.suites.ifbench`; a row may mix them.
    """
    from .suites import ifbench, ifeval

    mode = row.get("mode", mode)
    if mode not in ("strict", "loose"):
        raise SpecError(f"mode must be 'strict' or 'loose', got {mode!r}", f"{path}.mode")
    ids = row.get("instruction_id_list")
    kwargs = row.get("kwargs")
    if not isinstance(ids, list) or not ids:
        raise SpecError(f"expected a non-empty list of instruction ids, got {ids!r:.80}", f"{path}.instruction_id_list")
    if kwargs is None:
        kwargs = [{}] * len(ids)
    if not isinstance(kwargs, list) or len(kwargs) != len(ids):
        raise SpecError(
            f"expected one kwargs object per instruction ({len(ids)}), got {kwargs!r:.80}", f"{path}.kwargs"
        )
    variants = IFEVAL_VARIANTS if mode == "loose" else ("as_is",)
    nodes: list[Node] = []
    for i, (instruction_id, kw) in enumerate(zip(ids, kwargs, strict=True)):
        where = f"{path}.kwargs[{i}]"
        if isinstance(instruction_id, str) and instruction_id in ifeval.IFEVAL_CHECKS:
            check: Node = ifeval.instruction_node(instruction_id, kw, where)
        elif isinstance(instruction_id, str) and instruction_id in ifbench.IFBENCH_CHECKS:
            check = ifbench.instruction_node(instruction_id, kw, where)
        else:
            raise _unknown_instruction(instruction_id, f"{path}.instruction_id_list[{i}]")
        nodes.append(LooseNode(check, variants, label=str(instruction_id)))
    return Spec(AllNode(tuple(nodes), label="instructions"))


def _unknown_instruction(instruction_id: Any, path: str) -> SpecError:
    import difflib

    from .suites import ifbench, ifeval

    known = [*ifeval.IFEVAL_CHECKS, *ifbench.IFBENCH_CHECKS]
    close = difflib.get_close_matches(str(instruction_id), known, n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return SpecError(f"unknown IFEval/IFBench instruction id {instruction_id!r}{hint}", path)


def _tests(raw: Any, path: str) -> CodeTests:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)  # PRIME stores test_cases as a JSON string inside the label
        except json.JSONDecodeError as exc:
            raise SpecError(f"tests given as a string must be JSON: {exc.msg}", path) from None
    if not isinstance(raw, Mapping):
        raise SpecError(f"tests must be an object, got {type(raw).__name__}", path)
    extra = set(raw) - _TEST_KEYS
    if extra:
        raise SpecError(f"unexpected key(s) {sorted(extra)}; tests take {sorted(_TEST_KEYS)}", path)
    setup = raw.get("setup", "")
    if not isinstance(setup, str):
        raise SpecError(f"setup must be a string of code, got {type(setup).__name__}", f"{path}.setup")
    timeout = raw.get("timeout", DEFAULT_TEST_SECONDS)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 600:
        raise SpecError(f"timeout must be a number of seconds in (0, 600], got {timeout!r}", f"{path}.timeout")
    if "asserts" in raw:
        if "inputs" in raw or "outputs" in raw or "fn_name" in raw:
            raise SpecError("give either 'asserts' or 'inputs'/'outputs'(/'fn_name'), not both", path)
        asserts = raw["asserts"]
        if not isinstance(asserts, list) or not asserts or not all(isinstance(a, str) and a.strip() for a in asserts):
            raise SpecError("asserts must be a non-empty list of code strings", f"{path}.asserts")
        return CodeTests(asserts=tuple(asserts), setup=setup, timeout=float(timeout))
    inputs, outputs, fn_name = raw.get("inputs"), raw.get("outputs"), raw.get("fn_name")
    if not isinstance(inputs, list) or not inputs:
        raise SpecError(f"inputs must be a non-empty list, got {inputs!r:.80}", f"{path}.inputs")
    if not isinstance(outputs, list) or len(outputs) != len(inputs):
        size = len(outputs) if isinstance(outputs, list) else type(outputs).__name__
        raise SpecError(
            f"outputs must be a list with one entry per input ({len(inputs)}), got {size}", f"{path}.outputs"
        )
    if fn_name is not None and (not isinstance(fn_name, str) or not fn_name.isidentifier()):
        raise SpecError(f"fn_name must be a Python identifier, got {fn_name!r}", f"{path}.fn_name")
    if fn_name is None:
        for i, (x, y) in enumerate(zip(inputs, outputs, strict=True)):
            if not isinstance(x, str) or not isinstance(y, str):
                raise SpecError("stdin/stdout tests (no fn_name) need string inputs and outputs", f"{path}.inputs[{i}]")
    return CodeTests(tuple(inputs), tuple(outputs), fn_name or None, setup=setup, timeout=float(timeout))


def label_spec(raw: Any, *, prompt: str = "", path: str = "label") -> dict[str, Any]:
    """The spec tree (as a dict) a text label stands for; for servers that judge specs themselves.

    Raises:
        SpecError: the label is invalid, or it holds code tests (judge those with
            :func:`judge_labels`, which runs them in the sandbox).
    """
    label = parse_label(raw, path=path)
    if label.spec is None:
        raise SpecError("this label holds code tests, not a spec; it is judged in the sandbox", path)
    return label.spec.to_dict()


# -- judging -------------------------------------------------------------------------------------

Item = tuple[Label, str, str]
"""(label, response, prompt)."""


def _judge_text(items: Sequence[Item]) -> tuple[list[Verdict | None], list[int]]:
    out: list[Verdict | None] = [None] * len(items)
    code: list[int] = []
    for i, (label, response, prompt) in enumerate(items):
        if label.spec is not None:
            out[i] = label.spec.evaluate(Response(response, prompt))
        elif label.kind == "invalid":
            out[i] = Verdict.of("label", None, f"invalid label: {label.error}")
        else:
            code.append(i)
    return out, code


def _fill(out: list[Verdict | None], where: list[int], verdicts: Sequence[Verdict]) -> list[Verdict]:
    for i, v in zip(where, verdicts, strict=True):
        out[i] = v
    return [v if v is not None else Verdict.of("label", None, "not judged") for v in out]


def _code_jobs(items: Sequence[Item], where: list[int]) -> list[CodeJob]:
    jobs = []
    for i in where:
        tests = items[i][0].tests
        assert tests is not None
        jobs.append((tests, items[i][1]))
    return jobs


def judge_labels(items: Sequence[Item], *, executor: Any = None) -> list[Verdict]:
    """The verdict tree of each ``(label, response, prompt)``, in order.

    Text labels are judged in-process (never raising on any text); code-test labels go
    to the sandbox as one batch (``executor``, or the shared default one).
    """
    out, code = _judge_text(items)
    if not code:
        return _fill(out, [], [])
    return _fill(out, code, _run_code_tests(_code_jobs(items, code), executor))


async def ajudge_labels(items: Sequence[Item], *, executor: Any = None) -> list[Verdict]:
    """:func:`judge_labels` for event loops: text is judged in a worker thread (the loop stays
    responsive), code tests are awaited through the sandbox's async API."""
    import asyncio

    if any(label.spec is not None for label, _, _ in items):
        out, code = await asyncio.to_thread(_judge_text, items)
    else:  # only code tests (or invalid labels): nothing to judge here, no thread hop
        out, code = _judge_text(items)
    if not code:
        return _fill(out, [], [])
    return _fill(out, code, await _arun_code_tests(_code_jobs(items, code), executor))


# -- code tests through the sandbox ---------------------------------------------------------------

CodeJob = tuple[CodeTests, str]
"""(tests, response)."""


def _unavailable(jobs: Sequence[CodeJob], why: str) -> list[Verdict]:
    return [Verdict.of("code.tests", None, f"sandbox unavailable: {why}", {"tests": len(tests)}) for tests, _ in jobs]


def _listify(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_listify(v) for v in value]
    return value


def apps_equal(got: Any, expected: Any) -> bool:
    """Call-test equality as in APPS/TACO/PRIME datasets (verl's ``prime_code``): tuples read as
    lists, and an expected value wrapped in a one-element list also matches its element."""
    got, expected = _listify(got), _listify(expected)
    if got == expected:
        return True
    return isinstance(expected, list) and len(expected) >= 1 and got == expected[0]


def _syntax_error(program: str, sandbox: Any) -> str | None:
    """Why the program does not compile, judged here without running it (ACECode's compile error).

    The compile is the sandbox's own (same file name and flags as in the child), and its
    bytecode is what the executor then ships, so the program is compiled once.
    """
    code = sandbox.compiled(program)
    if isinstance(code, bytes):
        return None
    exc = code.exception
    if isinstance(exc, SyntaxError):
        return f"SyntaxError: {exc.msg} (line {exc.lineno})"
    return f"{type(exc).__name__}: {exc}"


def _compile_failure(tests: CodeTests, reason: str) -> Verdict:
    kids = tuple(
        Verdict.of(f"code.tests[{i}]", False, "not run: the program does not compile", {"status": "syntax_error"})
        for i in range(len(tests))
    )
    evidence = {"status": "syntax_error", "passed": 0, "total": len(tests)}
    return Verdict.of("code.tests", False, reason, evidence, children=kids)


def _job(tests: CodeTests, program: str, sandbox: Any) -> Any:
    n = len(tests)
    limits = sandbox.Limits(wall_seconds=min(600.0, 2.0 + tests.timeout * n), test_seconds=tests.timeout)
    if tests.style == "asserts":
        asserts = [sandbox.Assert(a, label=f"assert[{i}]") for i, a in enumerate(tests.asserts)]
        return sandbox.Job(program, asserts, setup=tests.setup, limits=limits, stop_on_failure=False)
    if tests.style == "stdio":
        cases = [sandbox.Stdio(x, y, compare="whitespace") for x, y in zip(tests.inputs, tests.outputs, strict=True)]
        return sandbox.Job(program, cases, limits=limits, stop_on_failure=False)
    calls = [
        sandbox.Call(tuple(x) if isinstance(x, list) else (x,), y, compare=apps_equal)
        for x, y in zip(tests.inputs, tests.outputs, strict=True)
    ]
    return sandbox.Job(
        program, calls, entry_point=tests.fn_name, setup=tests.setup, limits=limits, stop_on_failure=False
    )


@dataclass
class _Batch:
    """A call's code jobs: what goes to the sandbox, and what is already decided here.

    Rows whose program does not compile are judged here and never sent. With
    ``dedupe_default()`` (``ADHERE_DEDUPE``), a row with the same tests (the same parsed
    label object: servers memoise labels by their JSON) and a byte-identical program as an
    earlier row of the call shares that row's run and verdict, as the code suites do.
    """

    sandbox: Any
    out: list[Verdict | None]
    send: list[int] = field(default_factory=list)
    built: list[Any] = field(default_factory=list)
    copies: list[tuple[int, int]] = field(default_factory=list)  # (row, row whose verdict it shares)


def _prepare(jobs: Sequence[CodeJob]) -> _Batch:
    import importlib

    from .text.transforms import last_code_block

    sandbox = importlib.import_module("adhere.sandbox")
    batch = _Batch(sandbox, [None] * len(jobs))
    first: dict[tuple[int, str], int] | None = {} if sandbox.dedupe_default() else None
    for i, (tests, response) in enumerate(jobs):
        program = last_code_block(response)
        if first is not None:
            seen = first.setdefault((id(tests), program), i)
            if seen != i:
                batch.copies.append((i, seen))
                continue
        why = _syntax_error(program, sandbox)
        if why is not None:
            batch.out[i] = _compile_failure(tests, why)
            continue
        batch.send.append(i)
        batch.built.append(_job(tests, program, sandbox))
    return batch


def _verdicts(jobs: Sequence[CodeJob], batch: _Batch, results: Sequence[Any]) -> list[Verdict]:
    out = batch.out
    for i, result in zip(batch.send, results, strict=True):
        durations = [t.duration for t in result.tests if t.duration is not None]
        time_s = sum(durations) if durations else result.duration
        v = result.verdict("code.tests", {"time_s": round(time_s, 6)})
        out[i] = _every_test(v, len(jobs[i][0]))
    for i, seen in batch.copies:
        out[i] = out[seen]
    return [v if v is not None else Verdict.of("code.tests", None, "not judged") for v in out]


def _every_test(v: Verdict, n: int) -> Verdict:
    """One child per test, always: tests a crash or timeout kept from running count as failed
    (so group rewards compare rollouts test by test)."""
    if v.unscorable or len(v.children) >= n:
        return v
    status = str(v.evidence.get("status", "not_run"))
    missing = tuple(
        Verdict.of(f"code.tests[{i}]", False, f"not run: the program stopped ({status})", {"status": status})
        for i in range(len(v.children), n)
    )
    return Verdict(v.check, v.outcome, v.score, v.reason, v.evidence, v.children + missing, v.version)


def _run_code_tests(jobs: Sequence[CodeJob], executor: Any) -> list[Verdict]:
    try:
        batch = _prepare(jobs)
        if not batch.built:
            return _verdicts(jobs, batch, [])
        results = (executor or batch.sandbox.default_executor()).run(batch.built)
    except ImportError as exc:
        return _unavailable(jobs, f"cannot import adhere.sandbox ({exc})")
    except Exception as exc:  # our machinery broke: unscorable with the reason, never a crashed batch
        return _unavailable(jobs, f"{type(exc).__name__}: {exc}")
    return _verdicts(jobs, batch, results)


async def _arun_code_tests(jobs: Sequence[CodeJob], executor: Any) -> list[Verdict]:
    try:
        batch = _prepare(jobs)
        if not batch.built:
            return _verdicts(jobs, batch, [])
        results = await (executor or batch.sandbox.default_executor()).run_async(batch.built)
    except ImportError as exc:
        return _unavailable(jobs, f"cannot import adhere.sandbox ({exc})")
    except Exception as exc:  # our machinery broke: unscorable with the reason, never a crashed batch
        return _unavailable(jobs, f"{type(exc).__name__}: {exc}")
    return _verdicts(jobs, batch, results)
