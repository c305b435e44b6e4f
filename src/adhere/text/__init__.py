"""Text analysis: the one place that splits responses into words, sentences and structure."""

from .language import detect as detect_language
from .view import ITEM_KINDS, TextView

__all__ = ["ITEM_KINDS", "TextView", "detect_language"]
