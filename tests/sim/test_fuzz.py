"""Any exercise, leg, rep count, rate and seed gives a well-formed session."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hipsense.exercises import Leg
from hipsense.sim import SIM_EXERCISES, Conditions, plan_set, simulate


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    exercise_id=st.sampled_from(sorted(SIM_EXERCISES)),
    leg=st.sampled_from(list(Leg)),
    n_reps=st.integers(1, 6),
    rate_and_seed=st.tuples(st.sampled_from([25, 50, 100, 200, 400]), st.integers(0, 2**32 - 1)),
    realistic=st.booleans(),
)
def test_sessions_are_well_formed(
    exercise_id: str, leg: Leg, n_reps: int, rate_and_seed: tuple[int, int], realistic: bool
) -> None:
    rate_hz, seed = rate_and_seed
    plan = plan_set(exercise_id, leg, n_reps, np.random.default_rng(seed))
    conditions = Conditions.realistic() if realistic else Conditions.clean()
    s = simulate(plan, rate_hz=rate_hz, seed=seed, conditions=conditions)
    n = len(s)
    for name in ("acc_mps2", "gyr_radps", "flexion_deg", "abduction_deg", "quat_wxyz"):
        values = getattr(s, name)
        assert values.shape[0] == n and np.isfinite(values).all(), name
    np.testing.assert_allclose(np.linalg.norm(s.quat_wxyz, axis=1), 1.0, atol=1e-9)
    assert len(s.reps) == n_reps
    ends = [r.end_s for r in s.reps]
    starts = [r.start_s for r in s.reps]
    assert all(a <= b for a, b in zip(ends, starts[1:], strict=False))
    assert starts[0] > 0.0 and ends[-1] < s.t_s[-1]
    assert all(r.low_deg < r.peak_deg for r in s.reps)
    assert np.abs(s.flexion_deg).max() < 110.0 and np.abs(s.abduction_deg).max() < 60.0
