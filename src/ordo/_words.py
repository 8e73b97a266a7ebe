"""The one way ordo writes a count with its noun: ``1 step``, ``2 steps``.

Output read "1 steps" and "1 tasks" while each message chose its own form; every count a
user reads goes through ``plural`` so the noun agrees with it.
"""

from __future__ import annotations

__all__ = ["plural"]


def plural(count: int, noun: str, many: str | None = None) -> str:
    """``count`` and ``noun``, the noun in the plural unless ``count`` is 1 (or -1).

    ``many`` is the plural for nouns that do not just take an ``s`` (``entry``/``entries``).
    """
    word = noun if abs(count) == 1 else (many or f"{noun}s")
    return f"{count} {word}"
