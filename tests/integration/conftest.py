"""Helpers for the virtual-BLE end-to-end tests: gather one link's stream into arrays."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import numpy as np

from hipsense.samples import SampleBatch
from hipsense.sources.ble import LinkStatus, SensorLink


def first_index(batch: SampleBatch) -> int:
    """The link's running index of the batch's first sample."""
    index = batch.meta["first_index"]
    assert isinstance(index, int)
    return index


class Collector:
    """Reads one ``link.stream()`` (a single iterator, so nothing is dropped between waits)."""

    def __init__(self, link: SensorLink) -> None:
        self.stream = link.stream()
        self.batches: list[SampleBatch] = []
        self.statuses: list[LinkStatus] = []
        self.samples = 0

    def last_index(self) -> int:
        last = self.batches[-1]
        return first_index(last) + len(last) - 1

    def indices(self) -> np.ndarray:
        parts = [first_index(b) + np.arange(len(b)) for b in self.batches]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=int)

    def cat(self, name: str) -> np.ndarray:
        return np.concatenate([getattr(b, name) for b in self.batches])

    async def until(
        self,
        done: Callable[[Collector], bool],
        timeout_s: float = 30.0,
        on_item: Callable[[Collector], Awaitable[None]] | None = None,
    ) -> Collector:
        async def run() -> None:
            while not done(self):
                item = await anext(self.stream)
                if isinstance(item, LinkStatus):
                    self.statuses.append(item)
                else:
                    self.batches.append(item)
                    self.samples += len(item)
                if on_item is not None:
                    await on_item(self)

        await asyncio.wait_for(run(), timeout_s)
        return self

    async def samples_at_least(self, count: int, timeout_s: float = 30.0) -> Collector:
        return await self.until(lambda c: c.samples >= count, timeout_s)

    async def close(self) -> None:
        await self.stream.aclose()
