"""Where a virtual sensor's raw samples come from: an interface and three sources.

A motion source hands out consecutive blocks of raw int16 counts, exactly what the sensor's
IMU registers would hold. The sensor decides when and how they are sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

Int16Array = npt.NDArray[np.int16]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class RawBlock:
    """Consecutive raw samples; ``lost`` marks samples the sensor must count but never send."""

    acc_raw: Int16Array
    gyr_raw: Int16Array
    lost: BoolArray | None = None

    def __len__(self) -> int:
        return int(self.acc_raw.shape[0])


class MotionSource(Protocol):
    """Anything that yields raw int16 acc/gyr blocks (simulator, recording, test ramp)."""

    def read(self, max_samples: int) -> RawBlock | None:
        """Up to ``max_samples`` next samples, or None when the source is exhausted."""
        ...


def ramp_block(start: int, count: int) -> RawBlock:
    """Sample k carries acc = (k, k+1, k+2) and gyr = (-k, -k-1, -k-2), wrapped to int16.

    Every value is predictable from the sample index, so a test can check each one.
    """
    k = np.arange(start, start + count, dtype=np.int64)[:, None] + np.arange(3)
    acc = ((k + 32768) % 65536 - 32768).astype(np.int16)
    gyr = ((-k + 32768) % 65536 - 32768).astype(np.int16)
    return RawBlock(acc, gyr)


class RampSource:
    """The deterministic test source: ``ramp_block`` values, ``total`` samples (None: endless)."""

    def __init__(self, total: int | None = None) -> None:
        self.total = total
        self.position = 0

    def read(self, max_samples: int) -> RawBlock | None:
        left = max_samples if self.total is None else min(max_samples, self.total - self.position)
        if left <= 0:
            return None
        block = ramp_block(self.position, left)
        self.position += left
        return block


class RawSession(Protocol):
    """What a simulated session or a recording offers: raw counts and a lost-sample mask."""

    @property
    def acc_raw(self) -> Int16Array: ...
    @property
    def gyr_raw(self) -> Int16Array: ...
    @property
    def lost(self) -> BoolArray: ...


class ArraySource:
    """Raw arrays held in memory (a simulated session or a recording), optionally looped."""

    def __init__(
        self,
        acc_raw: npt.ArrayLike,
        gyr_raw: npt.ArrayLike,
        lost: npt.ArrayLike | None = None,
        *,
        loop: bool = False,
    ) -> None:
        self.acc_raw = np.asarray(acc_raw, dtype=np.int16).reshape(-1, 3)
        self.gyr_raw = np.asarray(gyr_raw, dtype=np.int16).reshape(-1, 3)
        self.lost = None if lost is None else np.asarray(lost, dtype=bool).reshape(-1)
        self.loop = loop
        self.position = 0

    @classmethod
    def from_session(cls, session: RawSession, *, loop: bool = False) -> ArraySource:
        """Play a ``hipsense.sim`` session (its lost samples are counted, never sent)."""
        return cls(session.acc_raw, session.gyr_raw, session.lost, loop=loop)

    def read(self, max_samples: int) -> RawBlock | None:
        n = self.acc_raw.shape[0]
        if self.position >= n:
            if not self.loop or n == 0:
                return None
            self.position = 0
        stop = min(n, self.position + max_samples)
        part = slice(self.position, stop)
        self.position = stop
        lost = None if self.lost is None else self.lost[part]
        return RawBlock(self.acc_raw[part], self.gyr_raw[part], lost)
