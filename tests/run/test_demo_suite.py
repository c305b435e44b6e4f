"""The built-in demo suite: well-formed, and a tour of the whole catalog and spec language."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson

from adhere.registry import REGISTRY
from adhere.spec import CheckNode, Node, Spec
from adhere.suites import get_suite
from adhere.suites.demo import DEMO_FILE


def demo_specs() -> list[Spec]:
    return [Spec.parse(orjson.loads(line)["spec"]) for line in DEMO_FILE.read_bytes().splitlines()]


def node_kinds(node_type: type[Node]) -> set[type[Node]]:
    out = set()
    for sub in node_type.__subclasses__():
        out.add(sub)
        out |= node_kinds(sub)
    return out


def test_every_check_family_appears_in_the_demo() -> None:
    used = {n.info.id for spec in demo_specs() for n in spec.root.walk() if isinstance(n, CheckNode)}
    families = {c.id.split(".")[0] for c in REGISTRY}
    missing = sorted(families - {u.split(".")[0] for u in used})
    assert not missing, f"check families without a demo sample: {missing} (add one to {DEMO_FILE.name})"


def test_every_spec_node_kind_appears_in_the_demo() -> None:
    used = {type(n) for spec in demo_specs() for n in spec.root.walk()}
    missing = sorted(k.__name__ for k in node_kinds(Node) - used)
    assert not missing, f"spec node kinds without a demo sample: {missing}"


def test_demo_data_is_well_formed() -> None:
    suite = get_suite("demo")
    samples = suite.load(None)
    assert getattr(suite, "problems", None) == []
    rows = [orjson.loads(line) for line in DEMO_FILE.read_bytes().splitlines()]
    assert len(samples) == len(rows) >= 30
    assert len({r["key"] for r in rows}) == len(rows)
    assert all(r["expect"] in ("pass", "fail") and r["note"] and r["response"] for r in rows)
    assert {r["expect"] for r in rows} == {"pass", "fail"}
    # the demo's data is its own responses file, and lives inside the package (shipped in the wheel)
    assert suite.default_responses(None) == DEMO_FILE  # type: ignore[attr-defined]
    assert DEMO_FILE.parent.parent.name == "suites" and DEMO_FILE.parents[2].name == "adhere"


BLOCK_EXTRAS = """
import sys
class Blocker:  # a machine without the optional extras (and without nltk)
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"textblob", "hanzidentifier", "datasets", "transformers", "nltk", "ruff"}:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, Blocker())
sys.argv = ["adhere", "eval", "demo", "--out", sys.argv[1], "--json", "--no-progress"]
from adhere.cli import main
main()
"""


def test_demo_needs_no_optional_extra(tmp_path: Path) -> None:
    """Every demo verdict is what its author intended even without any extra installed."""
    proc = subprocess.run(
        [sys.executable, "-c", BLOCK_EXTRAS, str(tmp_path / "run")], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    summary = orjson.loads((tmp_path / "run" / "summary.json").read_bytes())
    assert summary["expected"]["matched"] == summary["expected"]["labelled"] == summary["n"]
