"""C2-smooth multi-channel trajectories: quintic Hermite pieces between keyframes.

Each keyframe fixes value, velocity and acceleration of every channel, so consecutive
pieces agree up to the second derivative: positions are C2 and the accelerometer, which
sees second derivatives, never jumps. Evaluation is vectorised and works at any time, so
the simulator can sample exactly where it needs (no resampling of a stored grid).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def _hermite_basis() -> FloatArray:
    """Monomial coefficients (6 powers x 6 weights) of the quintic Hermite interpolant.

    Weights are (y0, h*v0, h^2*a0, y1, h*v1, h^2*a1) on the unit interval.
    """
    powers = np.arange(6)
    rows = []
    for tau in (0.0, 1.0):
        rows.append(tau**powers)  # value
        rows.append(np.where(powers >= 1, powers * tau ** np.maximum(powers - 1, 0), 0.0))
        rows.append(
            np.where(powers >= 2, powers * (powers - 1) * tau ** np.maximum(powers - 2, 0), 0.0)
        )
    constraints = np.array([rows[0], rows[1], rows[2], rows[3], rows[4], rows[5]])
    return np.asarray(np.linalg.inv(constraints), dtype=np.float64)


_BASIS = _hermite_basis()


@dataclass(frozen=True, eq=False)
class QuinticTrack:
    """Channels (K, C) given at strictly increasing keyframe times (K,), held beyond the ends."""

    t_s: FloatArray
    value: FloatArray
    vel: FloatArray
    acc: FloatArray

    def __post_init__(self) -> None:
        k = self.t_s.shape[0]
        if k < 2 or np.any(np.diff(self.t_s) <= 0):
            raise ValueError("a track needs at least two strictly increasing keyframe times")
        for name in ("value", "vel", "acc"):
            if getattr(self, name).shape != self.value.shape or self.value.shape[0] != k:
                raise ValueError(f"track {name} must have shape {(k, self.value.shape[1:])}")

    @property
    def end_s(self) -> float:
        return float(self.t_s[-1])

    @cached_property
    def _coefficients(self) -> FloatArray:
        """(K-1, 6 powers, C) monomial coefficients in the normalised time of each piece."""
        h = np.diff(self.t_s)[:, None]
        weights = np.stack(
            [
                self.value[:-1],
                h * self.vel[:-1],
                h**2 * self.acc[:-1],
                self.value[1:],
                h * self.vel[1:],
                h**2 * self.acc[1:],
            ],
            axis=1,
        )
        return np.asarray(np.einsum("pw,iwc->ipc", _BASIS, weights), dtype=np.float64)

    def __call__(self, t_s: npt.ArrayLike, deriv: int = 0) -> FloatArray:
        """Channel values (n, C) or their ``deriv``-th time derivative (deriv 0, 1 or 2)."""
        t = np.asarray(t_s, dtype=np.float64)
        coef = self._coefficients
        idx = np.clip(np.searchsorted(self.t_s, t, side="right") - 1, 0, coef.shape[0] - 1)
        h = self.t_s[idx + 1] - self.t_s[idx]
        tau = np.clip((t - self.t_s[idx]) / h, 0.0, 1.0)
        inside = (t >= self.t_s[0]) & (t <= self.t_s[-1])
        for _ in range(deriv):
            coef = coef[:, 1:] * np.arange(1, coef.shape[1])[None, :, None]
        result: FloatArray = coef[idx, -1]
        for p in range(coef.shape[1] - 2, -1, -1):
            result = result * tau[:, None] + coef[idx, p]
        if deriv:
            result = result / h[:, None] ** deriv
            result = np.where(inside[:, None], result, 0.0)
        return result


def smooth_noise(
    rng: np.random.Generator, duration_s: float, n_channels: int, knot_s: float
) -> QuinticTrack:
    """Zero-mean smooth random motion of unit scale with knots every ~``knot_s`` seconds."""
    n = max(3, int(np.ceil(duration_s / knot_s)) + 2)
    t = np.arange(n, dtype=np.float64) * knot_s - knot_s
    value = rng.standard_normal((n, n_channels))
    vel = np.gradient(value, knot_s, axis=0)
    return QuinticTrack(t, value, vel, np.zeros_like(value))
