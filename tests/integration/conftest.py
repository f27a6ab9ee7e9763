"""Helpers for the virtual-BLE end-to-end tests: collect a link's stream into arrays."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import numpy as np
import pytest

from hipsense.samples import SampleBatch
from hipsense.sources.ble import LinkStatus, SensorLink


@dataclass
class Collected:
    batches: list[SampleBatch] = field(default_factory=list)
    statuses: list[LinkStatus] = field(default_factory=list)

    @property
    def samples(self) -> int:
        return sum(len(b) for b in self.batches)

    def indices(self) -> np.ndarray:
        return np.concatenate(
            [b.meta["first_index"] + np.arange(len(b)) for b in self.batches]  # type: ignore[operator]
        )

    def cat(self, name: str) -> np.ndarray:
        return np.concatenate([getattr(b, name) for b in self.batches])


Collect = Callable[..., Awaitable[Collected]]


async def _collect(
    link: SensorLink,
    samples: int,
    *,
    timeout_s: float = 30.0,
    on_item: Callable[[Collected], Awaitable[None]] | None = None,
) -> Collected:
    """Stream until ``samples`` samples arrived (fails after ``timeout_s``)."""
    got = Collected()

    async def run() -> None:
        async for item in link.stream():
            if isinstance(item, LinkStatus):
                got.statuses.append(item)
            else:
                got.batches.append(item)
            if on_item is not None:
                await on_item(got)
            if got.samples >= samples:
                return

    await asyncio.wait_for(run(), timeout_s)
    return got


@pytest.fixture
def collect() -> Collect:
    return _collect
