"""Model backends: the :class:`Generator` contract and its implementations.

* :class:`OpenAIGenerator` (``openai:NAME``): any OpenAI-compatible server.
* :class:`ReplayGenerator` (``replay:FILE``): answers from a responses file.
* ``TransformersGenerator`` (``transformers:PATH``, the ``transformers`` extra):
  a local model; import it from :mod:`adhere.models.local`.

All share one driver (:class:`BaseGenerator`): bounded concurrency, the on-disk
:class:`ResponseCache`, ``<think>`` reasoning recorded always and stripped only on
request, and failures recorded on the :class:`Completion` (never raised).
"""

from .base import (
    BaseGenerator,
    Completion,
    ErrorKind,
    GenerationFailure,
    Generator,
    GenParams,
    Prompt,
    RawOutput,
    Request,
    requests_for,
)
from .cache import ResponseCache, cache_key, default_cache_path
from .factory import BACKENDS, open_generator
from .openai_compat import OpenAIGenerator
from .replay import ReplayGenerator
from .retry import RetryPolicy

__all__ = [
    "BACKENDS",
    "BaseGenerator",
    "Completion",
    "ErrorKind",
    "GenParams",
    "GenerationFailure",
    "Generator",
    "OpenAIGenerator",
    "Prompt",
    "RawOutput",
    "ReplayGenerator",
    "Request",
    "ResponseCache",
    "RetryPolicy",
    "cache_key",
    "default_cache_path",
    "open_generator",
    "requests_for",
]
