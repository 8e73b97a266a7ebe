"""``fibonacci`` sources: the first ``count`` Fibonacci numbers, ``batch_rows`` at a time.

What a plugin author writes: a config model, a class built from it at plan time, and
``batches`` yielding Arrow record batches of one schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pyarrow as pa
from pydantic import Field

from ordo.extractors import ExtractorConfig


class FibonacciConfig(ExtractorConfig):
    count: int = Field(ge=1)
    batch_rows: int = Field(10, ge=1)


class FibonacciExtractor:
    config_model: ClassVar[type[FibonacciConfig]] = FibonacciConfig
    requires: ClassVar[tuple[str, ...]] = ("pyarrow",)

    def __init__(self, config: FibonacciConfig, plan: Any) -> None:
        self.config = config

    def describe(self) -> str:
        return f"fibonacci ({self.config.count})"

    def batches(self, ctx: Any) -> Iterator[pa.RecordBatch]:
        a, b = 0, 1
        numbers: list[int] = []
        for n in range(1, self.config.count + 1):
            numbers.append(a)
            a, b = b, a + b
            if len(numbers) == self.config.batch_rows or n == self.config.count:
                start = n - len(numbers) + 1
                yield pa.RecordBatch.from_pydict({"n": list(range(start, n + 1)), "value": numbers})
                numbers = []
