"""The one exception tree of adhere.

Everything adhere raises on purpose derives from :class:`AdhereError`, so callers can
catch "adhere could not do this" in one place while a *verdict* (the output failed a
check) is never an exception::

    AdhereError
    ├── SpecError(ValueError)         a spec, check id or parameter is invalid; names the path
    ├── DatasetError(ValueError)      input data is malformed; names the file and line
    ├── SandboxError(RuntimeError)    our own execution machinery broke (not the candidate)
    ├── BackendError(RuntimeError)    a model backend failed for good
    └── MissingExtraError(ImportError) an optional dependency is absent; says what to install

Argument errors also subclass ``ValueError`` so code written against the standard
library's conventions keeps working.
"""

from __future__ import annotations

__all__ = [
    "AdhereError",
    "BackendError",
    "DatasetError",
    "MissingExtraError",
    "SandboxError",
    "SpecError",
]


class AdhereError(Exception):
    """Base of every error adhere raises on purpose."""


class SpecError(AdhereError, ValueError):
    """A spec, check id or check parameter is invalid.

    ``path`` locates the problem inside the spec tree (``"all[2].params.min"``), so
    a user with a 500-line YAML file knows where to look.
    """

    def __init__(self, message: str, path: str = "") -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}" if path else message)


class DatasetError(AdhereError, ValueError):
    """Input data (a dataset or a responses file) is malformed."""

    def __init__(self, message: str, source: str = "", line: int | None = None) -> None:
        self.source = source
        self.line = line
        where = source + (f":{line}" if line is not None else "")
        super().__init__(f"{where}: {message}" if where else message)


class SandboxError(AdhereError, RuntimeError):
    """Our execution machinery failed; the candidate program is not to blame."""


class BackendError(AdhereError, RuntimeError):
    """A model backend failed permanently (after retries)."""


class MissingExtraError(AdhereError, ImportError):
    """An optional dependency is not installed."""

    def __init__(self, package: str, extra: str) -> None:
        self.package = package
        self.extra = extra
        super().__init__(f"this feature needs the '{package}' package: pip install 'adhere[{extra}]'")


def require(module: str, extra: str) -> object:
    """Import an optional dependency or raise :class:`MissingExtraError` with the install hint."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(module.split(".")[0], extra) from exc
