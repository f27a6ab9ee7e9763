"""Rigid-body kinematics of body, thigh and sensor: what an ideal IMU on the thigh measures.

Frames: world W (z up), body B, thigh T and sensor S as in ``signal.thigh_frame``.
R_WB = R_z(heading + yaw) R_y(pitch) R_sway; R_WT = R_WB R_BT with R_BT = thigh_rotation(flex,
abd) R_z(twist); R_WS = R_WT R_TS exp(wobble). The gyroscope reads the sensor's body rate
and the accelerometer the specific force f = R_WS^T (p_S'' + g z) at the sensor's origin
p_S = p_hip + R_WT lever. Derivatives of rotations come from central differences of the
continuous trajectories (step ``DIFF_STEP_S``), so they are consistent with the attitude.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.spatial.transform import Rotation

from hipsense.exercises import Leg
from hipsense.samples import STANDARD_GRAVITY_MPS2
from hipsense.signal.thigh_frame import leg_sign, rot_x, rot_y, rot_z, thigh_rotation
from hipsense.sim.keyframes import CH
from hipsense.sim.tracks import FloatArray, QuinticTrack

DIFF_STEP_S = 2e-4
MountingSite = Literal["front", "outer"]


@dataclass(frozen=True, eq=False)
class Mounting:
    """Where the sensor sits on the thigh: the oracle calibration.

    ``r_ts`` maps sensor-frame vectors into the thigh frame; ``lever_arm_m`` is the sensor's
    origin relative to the hip joint centre, in the thigh frame.
    """

    leg: Leg
    site: MountingSite
    skin_angle_deg: float
    r_ts: FloatArray
    lever_arm_m: FloatArray

    @classmethod
    def make(
        cls,
        leg: Leg,
        site: MountingSite,
        skin_angle_deg: float = 0.0,
        along_thigh_m: float = 0.2,
        skin_offset_m: float = 0.075,
    ) -> Mounting:
        """Sensor z = outward skin normal, x = up the thigh, then turned about the normal."""
        lateral = np.array([0.0, -leg_sign(leg), 0.0])  # right leg: lateral is -y
        normal = np.array([1.0, 0.0, 0.0]) if site == "front" else lateral
        x_s = np.array([0.0, 0.0, 1.0])
        base = np.column_stack([x_s, np.cross(normal, x_s), normal])
        r_ts = base @ rot_z(np.radians(skin_angle_deg))
        lever = np.array([0.0, 0.0, -along_thigh_m]) + skin_offset_m * normal
        return cls(leg, site, skin_angle_deg, r_ts, lever)

    @classmethod
    def random(cls, leg: Leg, rng: np.random.Generator) -> Mounting:
        site: MountingSite = "front" if rng.random() < 0.5 else "outer"
        return cls.make(
            leg,
            site,
            float(rng.uniform(-180.0, 180.0)),
            float(rng.uniform(0.15, 0.25)),
            float(rng.uniform(0.06, 0.09)),
        )


@dataclass(frozen=True, eq=False)
class MotionModel:
    """Everything that moves: keyframe track, leg, heading, optional sway (roll, pitch deg)
    and foot-strike shocks."""

    track: QuinticTrack
    leg: Leg
    mounting: Mounting
    heading_rad: float = 0.0
    sway: QuinticTrack | None = None
    impacts: QuinticTrack | None = None  # vertical hip shock (m) from foot strikes


@dataclass(frozen=True, eq=False)
class IdealImu:
    gyr_radps: FloatArray
    acc_mps2: FloatArray
    r_ws: FloatArray
    r_wt: FloatArray
    r_wb: FloatArray


def thigh_attitude(values: FloatArray, leg: Leg) -> FloatArray:
    """R_BT (n, 3, 3) from track values (flexion, abduction, twist about the long axis)."""
    twist = rot_z(np.radians(values[:, CH["twist"]]))
    return thigh_rotation(values[:, CH["flex"]], values[:, CH["abd"]], leg) @ twist


def body_attitude(model: MotionModel, t_s: FloatArray, values: FloatArray) -> FloatArray:
    yaw = model.heading_rad + np.radians(values[:, CH["yaw"]])
    r_wb = rot_z(yaw) @ rot_y(np.radians(values[:, CH["pitch"]]))
    if model.sway is not None:
        sway = np.radians(model.sway(t_s))
        r_wb = r_wb @ rot_x(sway[:, 0]) @ rot_y(sway[:, 1])
    return r_wb


def _hip_acc(model: MotionModel, t_s: FloatArray) -> FloatArray:
    acc = model.track(t_s, deriv=2)
    local = np.column_stack([acc[:, CH["hip_x"]], np.zeros(len(t_s)), acc[:, CH["hip_z"]]])
    if model.impacts is not None:
        local[:, 2] += model.impacts(t_s, deriv=2)[:, 0]
    return local @ rot_z(model.heading_rad).T


def _right_jacobian(theta: FloatArray) -> FloatArray:
    """SO(3) right Jacobian: R(theta)^T dR/dt = [J_r(theta) theta']x."""
    angle = np.linalg.norm(theta, axis=-1)[:, None, None]
    small = angle < 1e-8
    safe = np.where(small, 1.0, angle)
    x, y, z = theta[:, 0], theta[:, 1], theta[:, 2]
    o = np.zeros_like(x)
    skew = np.stack(
        [np.stack([o, -z, y], -1), np.stack([z, o, -x], -1), np.stack([-y, x, o], -1)], -2
    )
    c1 = np.where(small, 0.5, (1 - np.cos(safe)) / safe**2)
    c2 = np.where(small, 1.0 / 6.0, (safe - np.sin(safe)) / safe**3)
    return np.eye(3)[None] - c1 * skew + c2 * skew @ skew


def ideal_imu(
    model: MotionModel,
    t_s: FloatArray,
    wobble_rad: FloatArray | None = None,
    wobble_rate_radps: FloatArray | None = None,
) -> IdealImu:
    """Noise-free gyroscope and accelerometer (sensor frame) and attitudes at ``t_s``.

    ``wobble_rad``/``wobble_rate_radps`` (n, 3): sensor rotation vector relative to the
    thigh mounting (sensor frame) and its time derivative.
    """
    n, h = len(t_s), DIFF_STEP_S
    times = np.concatenate([t_s - h, t_s, t_s + h])
    values = model.track(times)
    r_wt = body_attitude(model, times, values) @ thigh_attitude(values, model.leg)
    before, now, after = r_wt[:n], r_wt[n : 2 * n], r_wt[2 * n :]
    rel = np.einsum("nji,njk->nik", before, after)
    omega_t = Rotation.from_matrix(rel).as_rotvec() / (2 * h)
    lever = r_wt @ model.mounting.lever_arm_m
    lever_acc = (lever[2 * n :] - 2 * lever[n : 2 * n] + lever[:n]) / h**2
    p_acc = lever_acc + _hip_acc(model, t_s)
    mount = np.broadcast_to(model.mounting.r_ts, (n, 3, 3))
    gyr_extra = np.zeros((n, 3))
    if wobble_rad is not None and wobble_rate_radps is not None:
        mount = mount @ Rotation.from_rotvec(wobble_rad).as_matrix()
        gyr_extra = np.einsum("nij,nj->ni", _right_jacobian(wobble_rad), wobble_rate_radps)
    r_ws = now @ mount
    gyr = np.einsum("nji,nj->ni", mount, omega_t) + gyr_extra
    specific_force = p_acc + np.array([0.0, 0.0, STANDARD_GRAVITY_MPS2])
    acc = np.einsum("nji,nj->ni", r_ws, specific_force)
    r_wb = body_attitude(model, t_s, values[n : 2 * n])
    return IdealImu(gyr, acc, r_ws, now, r_wb)
