"""Hip circles: count full turns of the knee and their direction, streaming.

The (abduction, flexion) point circles a centre that is tracked by a slow moving average;
its polar angle around that centre is unwrapped and a circle is counted each time the
accumulated turn reaches 360°. Samples close to the centre (radius below half of
``min_rise_deg``) and jumps above 90° per sample are ignored, so a to-and-fro swing that
passes through the centre never accumulates a turn. The turn is the net winding, so noise
and brief reversals cancel out instead of restarting the count.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import numpy.typing as npt

from hipsense.exercises import RepParams
from hipsense.signal.quality import Rep, speed_sparc

FloatArray = npt.NDArray[np.float64]

CENTRE_TAU_S = 3.0
MAX_STEP_RAD = math.pi / 2
CLOCKWISE = "clockwise"  # seen with abduction to the right and flexion up
ANTICLOCKWISE = "anticlockwise"


class CircleCounter:
    def __init__(self, params: RepParams) -> None:
        self.params = params
        self._centre: tuple[float, float] | None = None
        self._last_t = -math.inf
        self._phase = math.nan
        self._turn_rad = 0.0
        self._index = 0
        self._buf: deque[tuple[float, float, float]] = deque()

    def update(
        self, t_s: FloatArray, flexion_deg: FloatArray, abduction_deg: FloatArray
    ) -> list[Rep]:
        ok = np.isfinite(t_s) & np.isfinite(flexion_deg) & np.isfinite(abduction_deg)
        reps: list[Rep] = []
        rows = zip(
            t_s[ok].tolist(), flexion_deg[ok].tolist(), abduction_deg[ok].tolist(), strict=True
        )
        for t, f, a in rows:
            rep = self._step(t, f, a)
            if rep is not None:
                reps.append(rep)
        return reps

    def _step(self, t: float, f: float, a: float) -> Rep | None:
        dt = t - self._last_t
        if dt <= 0.0:
            return None
        self._last_t = t
        if self._centre is None:
            self._centre = (a, f)
        k = min(1.0, dt / (CENTRE_TAU_S + dt))
        ca, cf = self._centre
        self._centre = (ca + k * (a - ca), cf + k * (f - cf))
        self._buf.append((t, f, a))
        while t - self._buf[0][0] > self.params.max_rep_s:
            self._buf.popleft()
        if math.hypot(a - ca, f - cf) < 0.5 * self.params.min_rise_deg:
            return None
        phase = math.atan2(f - cf, a - ca)
        step = 0.0 if math.isnan(self._phase) else _wrap_rad(phase - self._phase)
        self._phase = phase
        if abs(step) > MAX_STEP_RAD:
            return None
        self._turn_rad += step  # net winding: jitter back and forth cancels out
        if abs(self._turn_rad) < 2.0 * math.pi:
            return None
        return self._circle(t)

    def _keep_last(self) -> None:
        last = self._buf[-1]
        self._buf.clear()
        self._buf.append(last)

    def _circle(self, t: float) -> Rep | None:
        direction = ANTICLOCKWISE if self._turn_rad > 0 else CLOCKWISE
        self._turn_rad -= math.copysign(2.0 * math.pi, self._turn_rad)
        cols = np.array(self._buf, dtype=np.float64)
        self._keep_last()
        t_s, flex, abd = cols[:, 0], cols[:, 1], cols[:, 2]
        if t_s[-1] - t_s[0] < self.params.min_rep_s:
            return None
        self._index += 1
        return Rep(
            index=self._index,
            start_s=float(t_s[0]),
            end_s=t,
            duration_s=float(t_s[-1] - t_s[0]),
            peak_deg=float(flex.max()),
            low_deg=float(flex.min()),
            rom_deg=float(flex.max() - flex.min()),
            hold_s=0.0,
            descent_s=math.nan,
            off_plane_deg=float(abd.max() - abd.min()),
            sparc=speed_sparc(t_s, flex, abd),
            flags=(direction,),
            detected_s=t,
        )


def _wrap_rad(angle: float) -> float:
    return (angle + math.pi) % (2.0 * math.pi) - math.pi
