"""Simulated sets of every exercise (truth angles with sensor-like errors): exact counts."""

from __future__ import annotations

import numpy as np
import pytest

from hipsense.exercises import CATALOGUE, Angle, Leg, get_exercise
from hipsense.signal.reps import RepCompleted, RepDetector
from hipsense.sim import Conditions, plan_set, simulate


@pytest.mark.parametrize("exercise_id", list(CATALOGUE))
def test_realistic_set_is_counted_exactly_and_announced_in_time(exercise_id: str) -> None:
    seed = 1000 + list(CATALOGUE).index(exercise_id)
    rng = np.random.default_rng(seed)
    plan = plan_set(exercise_id, Leg.LEFT, int(rng.integers(12, 19)), rng)
    s = simulate(plan, rate_hz=50.0, seed=seed, conditions=Conditions.realistic())
    ex = get_exercise(exercise_id)
    flex = s.flexion_deg + rng.normal(0.0, 0.3, len(s)) + np.cumsum(rng.normal(0, 0.04, len(s)))
    abd = s.abduction_deg + rng.normal(0.0, 0.3, len(s))
    flex[s.lost] = abd[s.lost] = np.nan
    primary, secondary = (flex, abd) if ex.primary is Angle.FLEXION else (abd, flex)
    after_cal = s.t_s >= max([g.end_s for g in s.segments if g.kind == "calibration-swings"] or [0])
    detector = RepDetector(ex, leg=Leg.LEFT)
    done = [
        e.rep
        for i in range(0, len(s), 5)
        for e in detector.update(
            s.t_s[i : i + 5][after_cal[i : i + 5]],
            primary[i : i + 5][after_cal[i : i + 5]],
            secondary[i : i + 5][after_cal[i : i + 5]],
        )
        if isinstance(e, RepCompleted)
    ]
    truth = [r for r in s.reps if r.exercise_id == exercise_id]
    assert len(done) == len(truth)
    latency_s = [r.detected_s - tr.end_s for r, tr in zip(done, truth, strict=True)]
    assert max(latency_s) <= 0.3
