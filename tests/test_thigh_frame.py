import numpy as np

from hipsense.exercises import Leg, Posture
from hipsense.signal.thigh_frame import UP_IN_BODY, angles_from_up, thigh_rotation


def _up_in_thigh(flex: np.ndarray, abd: np.ndarray, leg: Leg, posture: Posture) -> np.ndarray:
    r_bt = thigh_rotation(flex, abd, leg)
    up: np.ndarray = np.einsum("nji,j->ni", r_bt, UP_IN_BODY[posture])
    return up


def test_standing_inverse_is_exact_for_both_legs() -> None:
    rng = np.random.default_rng(3)
    flex = rng.uniform(-40, 130, 500)
    abd = rng.uniform(-40, 60, 500)
    for leg in Leg:
        got_flex, got_abd = angles_from_up(
            _up_in_thigh(flex, abd, leg, Posture.STANDING), leg, Posture.STANDING
        )
        np.testing.assert_allclose(got_flex, flex, atol=1e-9)
        np.testing.assert_allclose(got_abd, abd, atol=1e-9)


def test_flexion_moves_the_knee_forward_and_abduction_away_from_midline() -> None:
    knee_in_thigh = np.array([0.0, 0.0, -1.0])
    forward = thigh_rotation(30.0, 0.0, Leg.RIGHT) @ knee_in_thigh
    assert forward[0] > 0.4
    right_out = thigh_rotation(0.0, 20.0, Leg.RIGHT) @ knee_in_thigh
    left_out = thigh_rotation(0.0, 20.0, Leg.LEFT) @ knee_in_thigh
    assert right_out[1] < -0.3 and left_out[1] > 0.3


def test_supine_flexion_is_elevation_from_the_floor_beyond_90() -> None:
    flex = np.array([0.0, 10.0, 75.0, 100.0])
    got, _ = angles_from_up(
        _up_in_thigh(flex, np.zeros(4), Leg.RIGHT, Posture.SUPINE), Leg.RIGHT, Posture.SUPINE
    )
    np.testing.assert_allclose(got, flex, atol=1e-9)
