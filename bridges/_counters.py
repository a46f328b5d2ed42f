"""Thread-safe named counters shared by the OSC and MIDI servers."""

from __future__ import annotations

import threading

__all__ = ["Counters"]


class Counters:
    """Integer counters by name (the names are fixed at creation); any thread may update them."""

    def __init__(self, names):
        self._lock = threading.Lock()
        self._values = dict.fromkeys(names, 0)

    def add(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._values[name] += n

    def maximum(self, name: str, value: int) -> None:
        """Raise counter ``name`` to ``value`` if that is higher (a high-water mark)."""
        with self._lock:
            self._values[name] = max(self._values[name], value)

    def get(self, name: str, default=0):
        with self._lock:
            return self._values.get(name, default)

    def snapshot(self) -> dict:
        with self._lock:
            return dict(self._values)
