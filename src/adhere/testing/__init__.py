"""Test helpers for adhere and for users' own tests.

:class:`FakeModelServer` is a scripted OpenAI-compatible HTTP server on loopback:
drive the real client against it instead of mocking anything.
"""

from .fake_openai import FakeModelServer, Reply, SeenRequest, default_text

__all__ = ["FakeModelServer", "Reply", "SeenRequest", "default_text"]
