"""A recording fake backend for SDK unit tests (an httpx transport handler)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import httpx


class RecordingBackend:
    """An httpx transport handler that records every request and answers 200 by default."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.behaviour: Callable[[httpx.Request], httpx.Response] = lambda request: httpx.Response(
            200, json={"success": True, "message": "ok", "job_status": "running"}
        )
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests.append(request)
        return self.behaviour(request)

    def transport(self) -> httpx.MockTransport:
        """The httpx transport to give to TrainerSDK(http_transport=...)."""
        return httpx.MockTransport(self)

    def calls(self) -> list[tuple[str, dict[str, Any]]]:
        """(path, body) of every request, in arrival order."""
        with self._lock:
            return [(r.url.path, json.loads(r.content)) for r in self.requests]

    def bodies(self, suffix: str) -> list[dict[str, Any]]:
        """Bodies of requests whose path ends with `suffix`."""
        return [body for path, body in self.calls() if path.endswith(suffix)]
