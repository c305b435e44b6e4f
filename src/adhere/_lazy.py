"""Package members imported on first use (PEP 562).

For package ``__init__`` modules that must stay cheap to import: ``adhere`` (the registry
pulls in pydantic, which a code run never needs) and ``adhere.metrics`` (a code suite needs
only pass@k, not every statistics module).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["lazy_members"]


def lazy_members(
    package: str, namespace: dict[str, Any], homes: Mapping[str, Iterable[str]], public: Iterable[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The package's ``__getattr__`` and ``__dir__``: ``homes`` maps each submodule (relative
    to ``package``) to the names it provides; a name is imported on first access and then
    stored in the package's ``namespace``, so later accesses cost nothing."""
    home_of = {name: module for module, names in homes.items() for name in names}
    exported = frozenset(public)

    def member(name: str) -> Any:
        module = home_of.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        namespace[name] = value
        return value

    def names() -> list[str]:
        return sorted(set(namespace) | exported)

    return member, names
