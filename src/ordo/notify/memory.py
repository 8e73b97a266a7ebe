"""A notifier that keeps its messages in a list: the fake for tests and examples."""

from __future__ import annotations

__all__ = ["MemoryNotifier"]


class MemoryNotifier:
    """Keeps every sent text in ``sent``: the fake for unit tests and examples."""

    def __init__(self, name: str = "memory") -> None:
        self.name = name
        self.sent: list[str] = []

    def send(self, text: str) -> None:
        self.sent.append(text)
