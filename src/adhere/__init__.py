"""adhere: decide, deterministically and fast, whether an LLM's output adheres to what it was asked.

Public API::

    from adhere import Spec, Verdict, check, Finding
    spec = Spec.parse({"all": [{"check": "punctuation.no_comma"}]})
    verdict = spec.evaluate("No commas here.")
"""

from .errors import AdhereError, BackendError, DatasetError, MissingExtraError, SandboxError, SpecError
from .registry import REGISTRY, CheckInfo, Finding, Params, check
from .spec import Spec
from .subjects import Message, Response
from .text.view import TextView
from .verdict import Outcome, Verdict

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
