"""The rep detector's held samples and its one-pole smoothing, computed as a stream does."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def low_pass(smooth: float | None, alpha: FloatArray, y: FloatArray) -> FloatArray:
    """``s += alpha * (y - s)`` per sample (from ``y[0]`` when ``smooth`` is None), in exactly
    the float operations a per-sample stream does, so any batching gives the same bits."""
    out: list[float] = []
    keep = out.append
    pairs = zip(alpha.tolist(), y.tolist(), strict=True)
    if smooth is None:
        smooth = next(pairs)[1]
        keep(smooth)
    for a, v in pairs:  # the recurrence inline: no call per sample
        smooth = smooth + a * (v - smooth)
        keep(smooth)
    return np.array(out, dtype=np.float64)


@dataclass(frozen=True, eq=False)
class Cols:
    """Accepted samples: time, smoothed signed angle, primary, secondary, time step."""

    t: FloatArray
    y: FloatArray
    p: FloatArray
    s: FloatArray
    dt: FloatArray

    @classmethod
    def empty(cls) -> Cols:
        return cls(*(np.empty(0) for _ in range(5)))

    def __len__(self) -> int:
        return len(self.t)

    def extend(self, *cols: FloatArray) -> Cols:
        return Cols(*(np.concatenate((a, b)) for a, b in zip(self._all, cols, strict=True)))

    def tail(self, start: int) -> Cols:
        return Cols(*(a[start:].copy() for a in self._all))  # a copy: don't pin the batch

    def block(self, start: int, stop: int) -> FloatArray:
        return np.column_stack([a[start:stop] for a in self._all[:4]])

    @cached_property
    def lists(self) -> tuple[list[float], list[float], list[float]]:
        return self.t.tolist(), self.y.tolist(), self.dt.tolist()

    @property
    def _all(self) -> tuple[FloatArray, ...]:
        return self.t, self.y, self.p, self.s, self.dt
