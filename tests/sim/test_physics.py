"""The simulated IMU obeys rigid-body physics and agrees with its own truth."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from hipsense.exercises import Leg, Posture
from hipsense.samples import STANDARD_GRAVITY_MPS2
from hipsense.signal.thigh_frame import UP_IN_BODY, angles_from_up, rot_z
from hipsense.sim import Conditions, Mounting, plan_set, plan_warmup, simulate
from hipsense.sim.keyframes import CHANNELS
from hipsense.sim.kinematics import MotionModel, ideal_imu
from hipsense.sim.tracks import QuinticTrack


def _rot(q_wxyz: np.ndarray) -> Rotation:
    return Rotation.from_quat(q_wxyz, scalar_first=True)


@pytest.mark.parametrize(
    ("exercise_id", "conditions"),
    [
        ("swing-forward", Conditions.clean()),
        ("hip-circles", Conditions.clean().with_(random_mounting=True)),
        ("knee-drive", Conditions.clean().with_(soft_tissue=True, sway=True)),
        ("straight-leg-march", Conditions.clean().with_(foot_impacts=True)),
    ],
)
def test_integrated_gyro_reproduces_truth_orientation(
    exercise_id: str, conditions: Conditions
) -> None:
    plan = plan_set(exercise_id, Leg.LEFT, 5, np.random.default_rng(4), with_calibration=False)
    s = simulate(plan, rate_hz=400, seed=5, conditions=conditions)
    dt = 1.0 / s.rate_hz
    omega_mid = 0.5 * (s.gyr_radps[1:] + s.gyr_radps[:-1])
    steps = Rotation.from_rotvec(omega_mid * dt)
    truth = _rot(s.quat_wxyz)
    # each step: R_k^T R_k+1 = exp(omega dt)
    step_err = (truth[:-1].inv() * truth[1:] * steps.inv()).magnitude()
    assert np.degrees(step_err).max() < 0.01
    attitude = truth[0]
    for step in steps:
        attitude = attitude * step
    drift_deg = np.degrees((attitude.inv() * truth[-1]).magnitude())
    assert drift_deg < 0.3


def test_accelerometer_at_rest_is_gravity_in_sensor_frame() -> None:
    plan = plan_set("swing-lateral", Leg.RIGHT, 3, np.random.default_rng(1))
    s = simulate(
        plan, rate_hz=100, seed=3, conditions=Conditions.clean().with_(random_mounting=True)
    )
    still = s.segments[0]
    sel = (s.t_s > still.start_s + 0.1) & (s.t_s < still.end_s - 0.1)
    gravity = _rot(s.quat_wxyz[sel]).inv().apply([0.0, 0.0, STANDARD_GRAVITY_MPS2])
    np.testing.assert_allclose(s.acc_mps2[sel], gravity, atol=s.info.acc_scale_mps2_per_lsb)
    np.testing.assert_allclose(s.gyr_radps[sel], 0.0, atol=s.info.gyr_scale_radps_per_lsb)


def _constant_rate_model(rate_degps: float, mounting: Mounting) -> MotionModel:
    t = np.array([0.0, 10.0])
    value = np.zeros((2, len(CHANNELS)))
    value[:, CHANNELS.index("flex")] = [-60.0, -60.0 + 10 * rate_degps]
    value[:, CHANNELS.index("hip_z")] = 0.9
    vel = np.zeros_like(value)
    vel[:, CHANNELS.index("flex")] = rate_degps
    return MotionModel(QuinticTrack(t, value, vel, np.zeros_like(value)), Leg.RIGHT, mounting, 0.7)


@pytest.mark.parametrize("site", ["front", "outer"])
def test_constant_rate_rotation_gives_centripetal_acceleration(site: str) -> None:
    mounting = Mounting.make(Leg.RIGHT, site, 35.0, 0.22, 0.08)  # type: ignore[arg-type]
    rate = np.radians(200.0)
    imu = ideal_imu(_constant_rate_model(200.0, mounting), np.linspace(1.0, 9.0, 50))
    gravity = np.einsum("nji,j->ni", imu.r_ws, [0.0, 0.0, STANDARD_GRAVITY_MPS2])
    radius = mounting.lever_arm_m * [1.0, 0.0, 1.0]  # the part off the thigh's y rotation axis
    centripetal = mounting.r_ts.T @ (-(rate**2) * radius)
    np.testing.assert_allclose(imu.acc_mps2 - gravity, np.tile(centripetal, (50, 1)), atol=1e-4)
    expected_radius = np.hypot(0.22, 0.08) if site == "front" else 0.22
    np.testing.assert_allclose(np.linalg.norm(centripetal), rate**2 * expected_radius)
    expected_gyr = mounting.r_ts.T @ np.array([0.0, -rate, 0.0])  # flexion: about -y_thigh
    np.testing.assert_allclose(imu.gyr_radps, np.tile(expected_gyr, (50, 1)), atol=1e-7)


def test_truth_angles_follow_thigh_frame_convention() -> None:
    plan = plan_warmup(Leg.LEFT, np.random.default_rng(8))
    s = simulate(plan, rate_hz=50, seed=9, conditions=Conditions.realistic())
    r_bt = (_rot(s.body_quat_wxyz).inv() * _rot(s.thigh_quat_wxyz)).as_matrix()
    moving_body = np.zeros(len(s), dtype=bool)
    for seg in s.segments:
        if seg.kind == "transition":
            moving_body |= (s.t_s >= seg.start_s) & (s.t_s <= seg.end_s)
    assert {str(p) for p in s.posture} == {"standing", "supine"}
    for posture in Posture:
        sel = (s.posture == str(posture)) & ~moving_body
        up = np.einsum("nji,j->ni", r_bt[sel], UP_IN_BODY[posture])
        flex, abd = angles_from_up(up, Leg.LEFT, posture)
        np.testing.assert_allclose(s.flexion_deg[sel], flex, atol=1e-6)
        np.testing.assert_allclose(s.abduction_deg[sel], abd, atol=1e-6)


def test_soft_tissue_wobble_moves_the_sensor_but_not_the_truth() -> None:
    plan = plan_set("swing-forward", Leg.RIGHT, 8, np.random.default_rng(2), with_calibration=False)
    clean = simulate(plan, rate_hz=100, seed=1)
    wobbly = simulate(
        plan, rate_hz=100, seed=1, conditions=Conditions.clean().with_(soft_tissue=True)
    )
    np.testing.assert_array_equal(clean.flexion_deg, wobbly.flexion_deg)
    rigid = _rot(wobbly.thigh_quat_wxyz) * Rotation.from_matrix(wobbly.mounting.r_ts)
    wobble_deg = np.degrees((rigid.inv() * _rot(wobbly.quat_wxyz)).magnitude())
    assert 0.2 < wobble_deg.max() <= Conditions().wobble_max_deg + 1e-9
    rigid_clean = _rot(clean.thigh_quat_wxyz) * Rotation.from_matrix(clean.mounting.r_ts)
    assert np.degrees((rigid_clean.inv() * _rot(clean.quat_wxyz)).magnitude()).max() < 1e-6


def test_march_accelerations_integrate_to_the_sensors_displacement() -> None:
    from scipy.integrate import cumulative_trapezoid

    from hipsense.sim.choreography import still
    from hipsense.sim.keyframes import CH, KeyframeBuilder
    from hipsense.sim.kinematics import body_attitude, thigh_attitude
    from hipsense.sim.motions import exercise_set

    plan = plan_set("straight-leg-march", Leg.RIGHT, 5, np.random.default_rng(1))
    builder = KeyframeBuilder(Posture.STANDING)
    still(builder, 1.0)
    exercise_set(builder, plan.steps[3], Leg.RIGHT, None, 0.0)
    still(builder, 1.0)
    mounting = Mounting.make(Leg.RIGHT, "outer", 20.0)
    model = MotionModel(builder.track(), Leg.RIGHT, mounting, heading_rad=1.1)
    t = np.arange(0.0, builder.now_s, 1 / 400)
    imu = ideal_imu(model, t)
    acc_world = np.einsum("nij,nj->ni", imu.r_ws, imu.acc_mps2) - [0, 0, STANDARD_GRAVITY_MPS2]
    vel = cumulative_trapezoid(acc_world, t, axis=0, initial=0.0)
    displacement = np.trapezoid(vel, t, axis=0)
    values = model.track(t[[0, -1]])
    hip = np.column_stack([values[:, CH["hip_x"]], np.zeros(2), values[:, CH["hip_z"]]])
    r_wt = body_attitude(model, t[[0, -1]], values) @ thigh_attitude(values, Leg.RIGHT)
    sensor = hip @ rot_z(1.1).T + r_wt @ mounting.lever_arm_m
    assert np.linalg.norm(sensor[1] - sensor[0]) > 3.0  # it walked
    np.testing.assert_allclose(vel[-1], 0.0, atol=1e-3)
    np.testing.assert_allclose(displacement, sensor[1] - sensor[0], atol=0.01)


def test_oracle_mounting_and_sensor_attitude_give_the_truth_angles() -> None:
    """What a perfect estimator sees: gravity in the sensor frame, turned by the true R_TS."""
    plan = plan_warmup(Leg.RIGHT, np.random.default_rng(5))
    s = simulate(
        plan, rate_hz=50, seed=5, conditions=Conditions.clean().with_(random_mounting=True)
    )
    up_in_sensor = _rot(s.quat_wxyz).inv().apply([0.0, 0.0, 1.0])
    up_in_thigh = up_in_sensor @ s.mounting.r_ts.T
    steady = np.ones(len(s), dtype=bool)
    for seg in s.segments:
        if seg.kind == "transition":
            steady &= (s.t_s < seg.start_s) | (s.t_s > seg.end_s)
    for posture in Posture:
        sel = steady & (s.posture == posture)
        flex, abd = angles_from_up(up_in_thigh[sel], Leg.RIGHT, posture)
        np.testing.assert_allclose(flex, s.flexion_deg[sel], atol=1e-6)
        np.testing.assert_allclose(abd, s.abduction_deg[sel], atol=1e-6)
