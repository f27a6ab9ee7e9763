"""Foot strikes: a short, damped vertical shock of the hip (and so of the sensor).

Each strike is a few quintic half-waves of hip height (millimetres at 18-30 Hz), which
gives the accelerometer spikes of one to a few g while the motion stays C2 and the
gyroscope is untouched.
"""

from __future__ import annotations

import numpy as np

from hipsense.sim.tracks import QuinticTrack

_DECAY = (0.0, -1.0, 0.45, -0.2, 0.0)  # successive half-wave extremes, relative to the drop


def impact_track(
    contacts: list[tuple[float, float]], rng: np.random.Generator
) -> QuinticTrack | None:
    """One channel: vertical hip offset (m) from foot strikes at (time, strength)."""
    if not contacts:
        return None
    times: list[float] = []
    values: list[float] = []
    for t_s, strength in sorted(contacts):
        if times and t_s <= times[-1]:
            continue  # the previous shock is still ringing: one strike is enough
        drop_m = strength * rng.uniform(0.3e-3, 1.0e-3)
        half_period_s = 0.5 / rng.uniform(18.0, 30.0)
        times.extend(t_s + half_period_s * np.arange(len(_DECAY)))
        values.extend(drop_m * np.asarray(_DECAY))
    t, value = np.asarray(times), np.asarray(values)[:, None]
    dt_in = np.diff(t, prepend=t[0] - 1.0)[:, None]
    dt_out = np.diff(t, append=t[-1] + 1.0)[:, None]
    prev = np.vstack([[0.0], value[:-1]])
    nxt = np.vstack([value[1:], [0.0]])
    acc = -0.25 * np.pi**2 * ((value - prev) / dt_in**2 + (value - nxt) / dt_out**2)
    acc = np.where(value == 0.0, 0.0, acc)
    return QuinticTrack(t, value, np.zeros_like(value), acc)
