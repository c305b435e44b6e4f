"""``adhere serve``: verification and rewards over HTTP (extra ``serve``).

Endpoints: ``POST /v1/verify``, ``POST /v1/reward``, ``POST /get_reward`` (OpenRLHF),
``GET /v1/checks``, ``GET /healthz``, ``GET /metrics`` (Prometheus text).
"""

from ._app import create_app
from ._config import ServeConfig

__all__ = ["ServeConfig", "create_app"]
