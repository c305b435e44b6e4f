"""A tiny Prometheus text-exposition registry (counters, gauges, histograms).

Small on purpose: the server needs a handful of series, and a dependency for that is
not worth its weight. Thread-safe; label values are escaped per the exposition format.
"""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict
from collections.abc import Callable, Sequence

__all__ = ["Metrics"]

LATENCY_BUCKETS: tuple[float, ...] = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _labels(pairs: tuple[tuple[str, str], ...]) -> str:
    if not pairs:
        return ""
    esc = (v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") for _, v in pairs)
    return "{" + ",".join(f'{k}="{v}"' for (k, _), v in zip(pairs, esc, strict=True)) + "}"


class Metrics:
    """Counters, histograms and callback gauges rendered as Prometheus text."""

    def __init__(self, prefix: str = "adhere") -> None:
        self.prefix = prefix
        self._lock = threading.Lock()
        self._counters: dict[str, dict[tuple[tuple[str, str], ...], float]] = defaultdict(dict)
        self._hists: dict[str, dict[tuple[tuple[str, str], ...], list[float]]] = defaultdict(dict)
        self._hist_sums: dict[str, dict[tuple[tuple[str, str], ...], float]] = defaultdict(dict)
        self._gauges: dict[str, Callable[[], float]] = {}
        self._help: dict[str, str] = {}

    def describe(self, name: str, text: str) -> None:
        self._help[name] = text

    def inc(self, name: str, value: float = 1.0, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            series = self._counters[name]
            series[key] = series.get(key, 0.0) + value

    def observe(self, name: str, value: float, buckets: Sequence[float] = LATENCY_BUCKETS, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            counts = self._hists[name].setdefault(key, [0.0] * (len(buckets) + 1))
            counts[bisect.bisect_left(buckets, value)] += 1
            self._hist_sums[name][key] = self._hist_sums[name].get(key, 0.0) + value

    def gauge(self, name: str, read: Callable[[], float]) -> None:
        self._gauges[name] = read

    def counter_value(self, name: str, **labels: str) -> float:
        return self._counters.get(name, {}).get(tuple(sorted(labels.items())), 0.0)

    def render(self) -> str:
        out: list[str] = []
        p = self.prefix
        with self._lock:
            for name, series in sorted(self._counters.items()):
                out.append(f"# HELP {p}_{name} {self._help.get(name, name)}")
                out.append(f"# TYPE {p}_{name} counter")
                out.extend(f"{p}_{name}{_labels(k)} {v:g}" for k, v in sorted(series.items()))
            for name, hseries in sorted(self._hists.items()):
                out.append(f"# HELP {p}_{name} {self._help.get(name, name)}")
                out.append(f"# TYPE {p}_{name} histogram")
                for key, counts in sorted(hseries.items()):
                    running = 0.0
                    for bound, c in zip((*LATENCY_BUCKETS, float("inf")), counts, strict=True):
                        running += c
                        le = "+Inf" if bound == float("inf") else f"{bound:g}"
                        out.append(f"{p}_{name}_bucket{_labels((*key, ('le', le)))} {running:g}")
                    out.append(f"{p}_{name}_sum{_labels(key)} {self._hist_sums[name][key]:g}")
                    out.append(f"{p}_{name}_count{_labels(key)} {running:g}")
        for name, read in sorted(self._gauges.items()):
            out.append(f"# HELP {p}_{name} {self._help.get(name, name)}")
            out.append(f"# TYPE {p}_{name} gauge")
            out.append(f"{p}_{name} {read():g}")
        return "\n".join(out) + "\n"
