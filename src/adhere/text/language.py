"""Language detection, seeded and deterministic (IFEval parity).

IFEval's reference calls ``langdetect.detect``; langdetect samples n-grams at random,
so we fix its seed (0) and keep one factory per process. ``detect`` returns the
ISO code, or ``None`` where langdetect raises (no usable features: IFEval then counts
the instruction as followed).
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["detect"]

_lock = threading.Lock()
_factory: Any = None
SEED = 0


def _get_factory() -> Any:
    global _factory
    if _factory is None:
        from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

        factory = DetectorFactory()
        factory.load_profile(PROFILES_DIRECTORY)
        factory.set_seed(SEED)
        _factory = factory
    return _factory


def detect(text: str) -> str | None:
    """The language code langdetect (seed 0) gives ``text``; ``None`` if it cannot tell."""
    from langdetect.lang_detect_exception import LangDetectException

    with _lock:
        factory = _get_factory()
    detector = factory.create()
    detector.append(text)
    try:
        return str(detector.detect())
    except LangDetectException:
        return None
