"""Suites: a dataset bound to specs and metrics. ``get_suite(name)`` finds a built-in one."""

from .base import SUITES, Pair, ResponseRow, Sample, Suite, get_suite, register_suite

__all__ = ["SUITES", "Pair", "ResponseRow", "Sample", "Suite", "get_suite", "register_suite"]
