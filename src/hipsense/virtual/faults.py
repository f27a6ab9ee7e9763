"""Misbehaviour injection for the virtual sensor: what a flaky link or firmware bug looks like.

Each fault fires on every Nth packet (0 = never). The injector records which samples can
never reach the host in order (``spoiled``), so a test knows exactly what to expect.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from hipsense.protocol import PROTOCOL_VERSION


@dataclass(frozen=True)
class Faults:
    """Which packets to spoil; counts are 'every Nth packet', 0 disables the fault."""

    garbage_every: int = 0  # random bytes sent after the packet
    short_every: int = 0  # the packet is cut short (its samples never arrive)
    duplicate_every: int = 0  # the packet is sent twice
    reorder_every: int = 0  # the packet is held back and sent after the next one
    seed: int = 0


@dataclass
class FaultStats:
    garbage: int = 0
    short: int = 0
    duplicated: int = 0
    reordered: int = 0
    spoiled: list[tuple[int, int]] = field(default_factory=list)  # (first index, count)

    @property
    def spoiled_samples(self) -> int:
        return sum(count for _, count in self.spoiled)


class FaultInjector:
    """Turns each encoded packet into the notifications actually sent."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.stats = FaultStats()
        self._rng = random.Random(faults.seed)
        self._packets = 0
        self._held: tuple[bytes, int, int] | None = None

    def _fires(self, every: int) -> bool:
        return every > 0 and self._packets % every == 0

    def apply(self, payload: bytes, first_index: int, count: int) -> list[bytes]:
        self._packets += 1
        f, out = self.faults, []
        if self._fires(f.short_every):
            self.stats.short += 1
            self.stats.spoiled.append((first_index, count))
            out.append(payload[: self._rng.randrange(1, len(payload))])
        elif self._held is None and self._fires(f.reorder_every):
            self.stats.reordered += 1
            self.stats.spoiled.append((first_index, count))
            self._held = (payload, first_index, count)
            return []
        else:
            out.append(payload)
            if self._fires(f.duplicate_every):
                self.stats.duplicated += 1
                out.append(payload)
            if self._held is not None:  # overtaken by a packet that arrives whole
                out.append(self._held[0])
                self._held = None
        if self._fires(f.garbage_every):
            self.stats.garbage += 1
            out.append(self._garbage(len(payload)))
        return out

    def _garbage(self, max_len: int) -> bytes:
        junk = bytearray(self._rng.randbytes(self._rng.randrange(1, max_len + 1)))
        junk[0] = (PROTOCOL_VERSION + self._rng.randrange(1, 256)) % 256  # never a valid version
        return bytes(junk)
