"""Simulated sets drawn as ``bench/bench_angles.py`` draws them, so a test can pin a case
the benchmark found (by its seed) without copying the benchmark's sampling."""

from __future__ import annotations

import numpy as np

from hipsense.exercises import Leg
from hipsense.sim import Conditions, SimSession, plan_set, simulate


def benchmark_set(exercise_id: str, seed: int, conditions: Conditions) -> SimSession:
    """The benchmark's set for ``seed``: leg, rate (50/100/200 Hz) and 8 reps drawn from
    ``10_000 + seed``, simulated with ``seed``."""
    rng = np.random.default_rng(10_000 + seed)
    leg = Leg.LEFT if rng.random() < 0.5 else Leg.RIGHT
    rate_hz = float(rng.choice([50.0, 100.0, 200.0]))
    plan = plan_set(exercise_id, leg, 8, rng)
    return simulate(plan, rate_hz=rate_hz, seed=seed, conditions=conditions)
