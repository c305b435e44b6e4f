"""Assert-style tests, rewritten so their expected values stay out of the sandbox.

``assert candidate([1, 2], 3) == [4, 5]`` is split at the boundary: the parts that
involve the program (``candidate([1, 2], 3)``, the *holes*) are evaluated in the
sandbox and come back as plain data; the rest (``hole == [4, 5]``, the *frame*) is
evaluated here. The frame may use only literals, containers, arithmetic, comparisons,
boolean logic, subscripts, and calls of a few pure functions (``abs``, ``round``,
``len``, ``set``, ``sorted``, ``math.isclose``, ...); anything else becomes a hole. A
hole may name only ``candidate``, the functions the reference solution defines, and the
test's imports; otherwise (loop variables, helpers of the test, random inputs) the
assert cannot be split and runs whole inside the sandbox as an :class:`~adhere.sandbox.Assert`
(the weaker, documented guarantee).

Python evaluates ``a and b`` lazily; the holes are all evaluated first. The verdict is
the same (a false ``a`` fails the assert either way); only which failure is reported
first may differ.
"""

from __future__ import annotations

import ast
import builtins
import math
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from types import CodeType
from typing import Any

from ..sandbox import Assert, Check, Test
from ..sandbox._values import Digest

__all__ = [
    "RewriteReport",
    "defined_names",
    "dump_test",
    "imported_names",
    "load_test",
    "parse_quietly",
    "rewrite_assert",
    "rewrite_check_function",
]

_SAFE_FUNCTIONS: dict[str, Callable[..., Any]] = {
    name: getattr(builtins, name)
    for name in (
        "abs", "round", "len", "set", "frozenset", "sorted", "list", "tuple", "dict", "sum", "min", "max",
        "all", "any", "float", "int", "str", "bool", "complex", "isinstance", "type", "reversed", "enumerate",
        "zip", "range", "repr", "map", "filter", "divmod", "pow", "chr", "ord", "hash",
    )
}  # fmt: skip
_SAFE_TYPES = {"int", "float", "str", "list", "tuple", "dict", "set", "frozenset", "bool", "complex", "bytes"}
_SAFE_MATH = {
    name: getattr(math, name)
    for name in (
        "isclose", "fabs", "sqrt", "floor", "ceil", "isnan", "isinf", "isfinite", "log", "log2", "log10", "exp",
        "pi", "e", "inf", "nan", "trunc", "pow", "hypot", "dist", "prod", "fsum", "comb", "factorial", "gcd",
    )
    if hasattr(math, name)
}  # fmt: skip
_MATH_MODULE = type("math", (), _SAFE_MATH)
_FRAME_GLOBALS: dict[str, Any] = {
    "__builtins__": {},
    **_SAFE_FUNCTIONS,
    **{name: getattr(builtins, name) for name in _SAFE_TYPES},
    "math": _MATH_MODULE,
}
_FRAME_NODES = (
    ast.Expression, ast.Constant, ast.List, ast.Tuple, ast.Set, ast.Dict, ast.UnaryOp, ast.BinOp, ast.BoolOp,
    ast.Compare, ast.IfExp, ast.Subscript, ast.Slice, ast.Load, ast.operator, ast.unaryop, ast.boolop,
    ast.cmpop, ast.keyword, ast.Starred,
)  # fmt: skip


@dataclass
class RewriteReport:
    """How a test file was turned into tests (for reports and the documentation)."""

    checks: int = 0
    asserts: int = 0
    why_not: str = ""


def parse_quietly(source: str) -> ast.Module:
    """``ast.parse`` without warnings: reference solutions are old code (``"\\w"`` escapes),
    and a warning turned into an error must not change how their tests are read.

    Raises:
        SyntaxError: the source does not parse.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(source)


def defined_names(source: str) -> set[str]:
    """Top-level function and class names (and simple assignments) of ``source``."""
    try:
        tree = parse_quietly(source)
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def imported_names(source: str) -> set[str]:
    """Names bound by the top-level imports of ``source``."""
    try:
        tree = parse_quietly(source)
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.update(a.asname or a.name for a in node.names)
    return names


def _is_frame_call(node: ast.Call) -> bool:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id in _SAFE_FUNCTIONS or func.id in _SAFE_TYPES
    return (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id == "math"
        and func.attr in _SAFE_MATH
    )


class _Splitter:
    """Cut an expression into a frame (evaluated here) and holes (evaluated in the sandbox)."""

    def __init__(self, allowed: set[str]) -> None:
        self.allowed = allowed
        self.holes: list[str] = []
        self.ok = True

    def split(self, node: ast.expr) -> ast.expr:
        if isinstance(node, ast.Name):
            if node.id not in self.allowed and (node.id in _SAFE_TYPES or node.id in ("True", "False", "None")):
                return node
            return self._hole(node)
        if isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name) and node.value.id == "math" and node.attr in _SAFE_MATH:
                return node
            return self._hole(node)
        if isinstance(node, ast.Call):
            # A name the program defines (MBPP's ``def sum(a, b)``) is the program's, not a builtin.
            shadowed = isinstance(node.func, ast.Name) and node.func.id in self.allowed
            if shadowed or not _is_frame_call(node):
                return self._hole(node)
            node.args = [self.split(a) for a in node.args]
            for kw in node.keywords:
                kw.value = self.split(kw.value)
            return node
        if isinstance(node, ast.Starred):
            node.value = self.split(node.value)
            return node
        if not isinstance(node, _FRAME_NODES):
            return self._hole(node)
        for name, value in ast.iter_fields(node):
            if isinstance(value, ast.expr):
                setattr(node, name, self.split(value))
            elif isinstance(value, list):
                setattr(node, name, [self.split(v) if isinstance(v, ast.expr) else v for v in value])
        return node

    def _hole(self, node: ast.expr) -> ast.expr:
        free = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        bound = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)} | {
            a.arg for n in ast.walk(node) if isinstance(n, ast.Lambda) for a in n.args.args
        }
        unknown = free - bound - self.allowed - set(_SAFE_FUNCTIONS) - _SAFE_TYPES - {"True", "False", "None"}
        if unknown:
            self.ok = False
        index = len(self.holes)
        self.holes.append(ast.unparse(node))
        return ast.copy_location(ast.Name(id=f"__h{index}", ctx=ast.Load()), node)


def _truthy(value: Any) -> bool:
    """Python's truthiness; a digest stands for a large (so non-empty) value."""
    if isinstance(value, Digest):
        return value.size > 2
    return bool(value)


class _Judge:
    """The supervisor's side of a split assert: the frame evaluated over the holes' values.

    The frame's source is kept (what the rewrite cache stores) and the code is compiled
    from it, so a fresh rewrite and a cached one judge with the same code.
    """

    __slots__ = ("_code", "assert_source", "frame_source")

    def __init__(self, frame_source: str, assert_source: str, code: CodeType) -> None:
        self.frame_source = frame_source
        self.assert_source = assert_source
        self._code = code

    def __call__(self, values: tuple[Any, ...]) -> tuple[bool, str]:
        scope = {f"__h{i}": v for i, v in enumerate(values)}
        try:
            result = eval(self._code, dict(_FRAME_GLOBALS), scope)
        except Exception as exc:
            return False, f"assertion raised {type(exc).__name__}: {exc}"[:300]
        if _truthy(result):
            return True, ""
        shown = ", ".join(_short(v) for v in values)
        return False, f"assertion failed: {self.assert_source[:160]} (the program gave: {shown})"


def _is_frame(tree: ast.Expression, holes: int) -> bool:
    """Whether ``tree`` is a frame :class:`_Splitter` could have made: only frame nodes, the
    names of the ``holes`` and the safe functions and types, ``math.<safe>``. A stored frame
    runs in the supervisor, so it gets no more trust than the dataset it was made from."""
    names = {f"__h{i}" for i in range(holes)} | _SAFE_TYPES | set(_SAFE_FUNCTIONS) | {"True", "False", "None", "math"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            ok = node.id in names and isinstance(node.ctx, ast.Load)
        elif isinstance(node, ast.Attribute):
            ok = isinstance(node.value, ast.Name) and node.value.id == "math" and node.attr in _SAFE_MATH
        elif isinstance(node, ast.Call):
            ok = _is_frame_call(node)
        else:
            ok = isinstance(node, _FRAME_NODES)
        if not ok:
            return False
    return True


def _short(value: Any) -> str:
    from ..sandbox._values import preview

    return preview(value, 60)


def rewrite_assert(statement: ast.Assert, allowed: set[str], *, label: str = "") -> Check | None:
    """One assert as a :class:`Check`, or None when it cannot be split safely."""
    splitter = _Splitter(allowed)
    source = ast.unparse(statement.test)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expression = ast.parse(source, mode="eval")
    body = splitter.split(ast.fix_missing_locations(expression).body)
    if not splitter.ok:
        return None
    # The frame is kept as source (what the rewrite cache stores) and compiled from it, so a
    # fresh rewrite and a cached one judge with the same code.
    frame_source = ast.unparse(ast.fix_missing_locations(ast.Expression(body=body)))
    try:
        code = compile(frame_source, "<assert>", "eval")
    except (SyntaxError, ValueError):  # pragma: no cover - unparse/parse round-trips
        return None
    return Check(tuple(splitter.holes), _Judge(frame_source, source, code), label=label)


def check_from_parts(holes: Sequence[str], frame_source: str, assert_source: str, label: str) -> Check:
    """A :class:`Check` rebuilt from what :func:`dump_test` kept.

    Raises:
        ValueError: the frame does not parse, or is not one the splitter could have made.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(frame_source, mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"a stored frame does not parse: {exc}") from None
    if not _is_frame(tree, len(holes)):
        raise ValueError(f"a stored frame is not a frame: {frame_source[:80]}")
    code = compile(tree, "<assert>", "eval")
    return Check(tuple(holes), _Judge(frame_source, assert_source, code), label=label)


def dump_test(test: Test) -> list[Any] | None:
    """A rewritten test as plain JSON data (None: a kind the rewriter does not produce)."""
    if isinstance(test, Check):
        judge = test.judge
        if not isinstance(judge, _Judge) or test.seconds is not None:
            return None
        return ["check", list(test.sources), judge.frame_source, judge.assert_source, test.label]
    if isinstance(test, Assert) and test.seconds is None:
        return ["assert", test.statement, test.label]
    return None


def load_test(data: Any) -> Test:
    """The inverse of :func:`dump_test`.

    Raises:
        ValueError: ``data`` is not what :func:`dump_test` writes.
    """
    if isinstance(data, list) and len(data) == 5 and data[0] == "check":
        _, holes, frame, source, label = data
        strings = isinstance(frame, str) and isinstance(source, str) and isinstance(label, str)
        if strings and isinstance(holes, list) and all(isinstance(h, str) for h in holes):
            return check_from_parts(holes, frame, source, label)
    if isinstance(data, list) and len(data) == 3 and data[0] == "assert":
        _, statement, label = data
        if isinstance(statement, str) and isinstance(label, str):
            return Assert(statement, label=label)
    raise ValueError(f"not a stored test: {str(data)[:80]}")


def rewrite_statements(
    statements: Iterable[ast.stmt], allowed: set[str], *, prefix: str = ""
) -> tuple[list[Test], list[str], str]:
    """Tests for a sequence of statements that are all asserts (or imports / ``pass``).

    Returns (tests, imports to run as setup, why it failed); ``tests`` is empty and
    ``why`` says why when some statement cannot be split.
    """
    tests: list[Test] = []
    imports: list[str] = []
    for i, stmt in enumerate(statements):
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            imports.append(ast.unparse(stmt))
            allowed = allowed | imported_names(ast.unparse(stmt))
            continue
        if isinstance(stmt, ast.Pass) or (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)):
            continue
        if not isinstance(stmt, ast.Assert):
            return [], [], f"statement {i + 1} is a {type(stmt).__name__}, not an assert"
        check = rewrite_assert(stmt, allowed, label=f"{prefix}{len(tests)}")
        if check is None:
            return [], [], f"assert {i + 1} uses names the sandbox cannot see"
        tests.append(check)
    return tests, imports, ""


def _is_metadata(node: ast.stmt) -> bool:
    """HumanEval's ``METADATA = {...}`` (not a test)."""
    return isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) and t.id == "METADATA" for t in node.targets)


def rewrite_check_function(
    test_source: str, entry_point: str, allowed: set[str]
) -> tuple[list[Test], str, RewriteReport]:
    """Tests from a HumanEval-style ``def check(candidate): assert ...`` file.

    Returns (tests, setup code for the sandbox, report). When the check function cannot
    be split, a single :class:`Assert` runs the whole file and ``check(entry_point)``.
    """
    report = RewriteReport()
    tree = parse_quietly(test_source)
    module_imports: list[str] = []
    check_fn: ast.FunctionDef | None = None
    others: list[str] = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            module_imports.append(ast.unparse(node))
        elif isinstance(node, ast.FunctionDef) and node.name == "check":
            check_fn = node
        elif _is_metadata(node) or (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
            continue
        else:
            others.append(type(node).__name__)
    why = ""
    if check_fn is None:
        why = "no check(candidate) function"
    elif others:
        why = f"the test file also defines {', '.join(others)}"
    elif [a.arg for a in check_fn.args.args] != ["candidate"]:
        why = "check() does not take exactly 'candidate'"
    if not why and check_fn is not None:
        allowed_here = allowed | {"candidate"} | imported_names("\n".join(module_imports))
        tests, imports, why = rewrite_statements(check_fn.body, allowed_here)
        if not why:
            report.checks = len(tests)
            return tests, "\n".join(module_imports + imports), report
    report.asserts = 1
    report.why_not = why
    statement = f"{test_source}\n\ncheck({entry_point})\n"
    return [Assert(statement, label="check")], "", report
