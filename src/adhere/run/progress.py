"""A progress bar that stays out of the way of fast runs.

Most text-suite runs finish in well under a second; a bar that flashes up and away
is noise. :class:`DelayedProgress` shows a rich bar (with rate and ETA) on standard
error only once the work has taken more than ``delay`` seconds, and only on a terminal.
"""

from __future__ import annotations

import sys
import time
from typing import Any, Protocol

__all__ = ["DelayedProgress", "ProgressSink"]


class ProgressSink(Protocol):
    """What the runner reports progress to."""

    def start(self, total: int, done: int = 0) -> None: ...

    def advance(self, n: int = 1) -> None: ...

    def stop(self) -> None: ...


class DelayedProgress:
    """Rich progress on stderr, shown after ``delay`` seconds of work (see the module docstring)."""

    def __init__(self, description: str, *, delay: float = 1.0, enabled: bool | None = None) -> None:
        self.description = description
        self.delay = delay
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._t0 = 0.0
        self._total = 0
        self._done = 0
        self._bar: Any = None
        self._task: Any = None

    def start(self, total: int, done: int = 0) -> None:
        self._t0 = time.monotonic()
        self._total = total
        self._done = done

    def advance(self, n: int = 1) -> None:
        self._done += n
        if not self.enabled:
            return
        if self._bar is None:
            if time.monotonic() - self._t0 < self.delay:
                return
            self._show()
        self._bar.update(self._task, completed=self._done)

    def _show(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        class _Rate(TextColumn):
            def __init__(self) -> None:
                super().__init__("")

            def render(self, task: Any) -> Any:
                from rich.text import Text

                speed = task.finished_speed or task.speed
                return Text(f"{speed:,.0f}/s" if speed else "", style="progress.data.speed")

        self._bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            _Rate(),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self._bar.start()
        self._task = self._bar.add_task(self.description, total=self._total, completed=self._done)

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=self._done)
            self._bar.stop()
            self._bar = None
