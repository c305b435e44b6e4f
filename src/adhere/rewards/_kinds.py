"""Importing this module registers every built-in reward kind."""

from . import _code, _combine, _length, _outcome  # noqa: F401
