"""The simulator's down-leg fault: the other thigh lifts or rolls during one raise."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation
from two_thighs import two_thighs

from hipsense.sim import SimSession

SEED, FAULTY = 1, 1


def _tilt_deg(down: SimSession, start_s: float, end_s: float) -> float:
    """The down thigh's largest tilt from its attitude at ``start_s`` (oracle attitudes)."""
    up = Rotation.from_quat(down.thigh_quat_wxyz, scalar_first=True).inv().apply([0, 0, 1.0])
    k0, k1 = np.searchsorted(down.t_s, [start_s, end_s])
    return float(np.degrees(np.arccos(np.clip(up[k0:k1] @ up[k0], -1.0, 1.0))).max())


@pytest.mark.parametrize("fault", ["down_leg_lift_deg", "down_leg_roll_deg"])
def test_the_fault_tilts_the_down_thigh_in_that_raise_only(fault: str) -> None:
    clean = two_thighs(SEED)
    faulty = two_thighs(SEED, faults={FAULTY: {fault: 6.0}})
    # the raised thigh and the timing are the same session's
    np.testing.assert_array_equal(clean.up.acc_raw, faulty.up.acc_raw)
    for i, rep in enumerate(clean.up.reps):
        follow = _tilt_deg(clean.down, rep.start_s, rep.end_s)
        tilt = _tilt_deg(faulty.down, rep.start_s, rep.end_s)
        # a correct down thigh follows the pelvis by 3 % of the raise
        assert follow == pytest.approx(0.03 * rep.peak_deg, abs=0.3)
        if i == FAULTY:  # a lift adds to the pelvis follow, a roll turns about another axis
            added = follow + 6.0 if fault == "down_leg_lift_deg" else np.hypot(follow, 6.0)
            assert tilt == pytest.approx(added, abs=0.3)
        else:
            assert tilt == pytest.approx(follow, abs=1e-6)
