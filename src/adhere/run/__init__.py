"""The suite runner: read or generate responses, verify them, write a resumable run directory.

``run_eval`` is the one entry point the CLI (``adhere eval``) uses; the pieces
(:class:`JsonlStore`, :func:`read_responses`, the manifest helpers) are reusable by
generating runners.
"""

from .generate import GenerateOptions, run_generate
from .jsonl import JsonlObject, read_objects
from .progress import DelayedProgress, ProgressSink
from .responses import read_responses
from .runner import RUN_FILES, EvalOutcome, EvalRequest, RunDirError, pair_identity, row_identity, run_eval
from .store import JsonlStore, Recovered

__all__ = [
    "RUN_FILES",
    "DelayedProgress",
    "EvalOutcome",
    "EvalRequest",
    "GenerateOptions",
    "JsonlObject",
    "JsonlStore",
    "ProgressSink",
    "Recovered",
    "RunDirError",
    "pair_identity",
    "read_objects",
    "read_responses",
    "row_identity",
    "run_eval",
    "run_generate",
]
