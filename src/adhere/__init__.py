"""adhere: decide, deterministically and fast, whether an LLM's output adheres to what it was asked.

Public API::

    from adhere import Spec, Verdict, check, Finding
    spec = Spec.parse({"all": [{"check": "punctuation.no_comma"}]})
    verdict = spec.evaluate("No commas here.")
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_members
from .errors import AdhereError, BackendError, DatasetError, MissingExtraError, SandboxError, SpecError

if TYPE_CHECKING:
    from .registry import REGISTRY, CheckInfo, Finding, Params, check
    from .spec import Spec
    from .subjects import Message, Response
    from .text.view import TextView
    from .verdict import Outcome, Verdict

# The rest is imported on first use (PEP 562): the registry pulls in pydantic, and
# ``adhere eval humaneval`` (or a reward function for code) never needs it.
_HOMES = {
    "registry": ("REGISTRY", "CheckInfo", "Finding", "Params", "check"),
    "spec": ("Spec",),
    "subjects": ("Message", "Response"),
    "text.view": ("TextView",),
    "verdict": ("Outcome", "Verdict"),
}


__version__ = "0.1.0"

__all__ = [
    "REGISTRY",
    "AdhereError",
    "BackendError",
    "CheckInfo",
    "DatasetError",
    "Finding",
    "Message",
    "MissingExtraError",
    "Outcome",
    "Params",
    "Response",
    "SandboxError",
    "Spec",
    "SpecError",
    "TextView",
    "Verdict",
    "__version__",
    "check",
]

__getattr__, __dir__ = lazy_members(__name__, globals(), _HOMES, __all__)
