"""``simulate``: a plan plus conditions and a seed become IMU samples with ground truth."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.spatial.transform import Rotation

from hipsense.exercises import Angle, Leg
from hipsense.protocol.hipsense_v1 import SensorInfo
from hipsense.samples import SampleBatch
from hipsense.sim.choreography import build_keyframes, postural_sway
from hipsense.sim.conditions import Conditions
from hipsense.sim.impacts import impact_track
from hipsense.sim.keyframes import Segment
from hipsense.sim.kinematics import MotionModel, Mounting, ideal_imu
from hipsense.sim.plan import SessionPlan
from hipsense.sim.sensor import (
    BoolArray,
    Int16Array,
    acc_errors,
    gyro_errors,
    lost_mask,
    quantise,
    sensor_info,
)
from hipsense.sim.tracks import FloatArray
from hipsense.sim.truth import (
    TruthRep,
    posture_at,
    posture_per_sample,
    truth_angles,
    truth_rep,
)
from hipsense.sim.wobble import WobbleParams, thigh_wobble

__all__ = ["Segment", "SimSession", "TruthRep", "simulate", "truth_angles"]

_CHUNK = 1 << 16


@dataclass(frozen=True, eq=False)
class SimSession:
    """Simulated samples (sensor frame) and the truth behind them.

    ``acc_mps2``/``gyr_radps`` are exactly the decoder's SI values of ``acc_raw``/``gyr_raw``.
    Truth angles are the thigh's relative to the body (thigh_frame convention, 0 at the
    posture's neutral), never the sensor's wobble or the body's sway. Quaternions (w >= 0)
    map sensor, thigh and body frames to the world (z up, random heading); ``quat_wxyz`` is
    the sensor's real attitude, wobble included. ``posture`` is per sample ("standing" or
    "supine"; a transition carries the posture it ends in). ``reps`` lists every rep in
    time order, including the other leg's (``rep.leg``; the sensor's leg is ``leg``).
    Samples flagged in ``lost`` stay in the arrays; consumers drop them (or use ``batches``).
    """

    rate_hz: float
    t_s: FloatArray
    acc_raw: Int16Array
    gyr_raw: Int16Array
    info: SensorInfo
    acc_mps2: FloatArray
    gyr_radps: FloatArray
    flexion_deg: FloatArray
    abduction_deg: FloatArray
    quat_wxyz: FloatArray
    thigh_quat_wxyz: FloatArray
    body_quat_wxyz: FloatArray
    posture: npt.NDArray[np.str_]
    mounting: Mounting
    reps: tuple[TruthRep, ...]
    segments: tuple[Segment, ...]
    lost: BoolArray
    plan: SessionPlan
    conditions: Conditions
    seed: int

    @property
    def leg(self) -> Leg:
        """The leg whose thigh carries the sensor."""
        return self.mounting.leg

    def __len__(self) -> int:
        return int(self.t_s.shape[0])

    def primary_deg(self, primary: Angle) -> FloatArray:
        return self.flexion_deg if primary is Angle.FLEXION else self.abduction_deg

    def batches(self, samples_per_batch: int = 10, sensor_id: str = "sim") -> list[SampleBatch]:
        """The received samples as consecutive batches, as a decoder would hand them on: lost
        samples are dropped and counted in the next batch's ``lost_before``."""
        received = np.flatnonzero(~self.lost)
        if received.size == 0:
            return []
        run_start = np.concatenate([[True], np.diff(received) > 1])
        run_first = np.maximum.accumulate(np.where(run_start, np.arange(received.size), 0))
        cut = (np.arange(received.size) - run_first) % samples_per_batch == 0
        starts = np.flatnonzero(cut)
        lost_before = received[starts] - np.concatenate([[-1], received])[starts] - 1
        return [
            SampleBatch(
                sensor_id,
                self.t_s[idx],
                self.acc_mps2[idx],
                self.gyr_radps[idx],
                lost_before=int(gap),
            )
            for idx, gap in zip(np.split(received, starts[1:]), lost_before, strict=True)
        ]


def _quat_wxyz(r: FloatArray) -> FloatArray:
    return np.asarray(
        Rotation.from_matrix(r).as_quat(canonical=True, scalar_first=True), dtype=np.float64
    )


@dataclass(frozen=True, eq=False)
class _Ideal:
    gyr_radps: FloatArray
    acc_mps2: FloatArray
    quat_wxyz: FloatArray
    thigh_quat_wxyz: FloatArray
    body_quat_wxyz: FloatArray
    flexion_deg: FloatArray
    abduction_deg: FloatArray


def _ideal_samples(
    model: MotionModel,
    t_s: FloatArray,
    posture: npt.NDArray[np.str_],
    wobble: tuple[FloatArray, FloatArray] | None,
) -> _Ideal:
    """Noise-free readings, attitudes and truth angles, chunk by chunk to bound memory."""
    n = len(t_s)
    out = _Ideal(
        np.empty((n, 3)), np.empty((n, 3)), np.empty((n, 4)), np.empty((n, 4)),
        np.empty((n, 4)), np.empty(n), np.empty(n),
    )  # fmt: skip
    for lo in range(0, n, _CHUNK):
        sl = slice(lo, min(n, lo + _CHUNK))
        w = None if wobble is None else (wobble[0][sl], wobble[1][sl])
        imu = ideal_imu(model, t_s[sl], *(w or (None, None)))
        out.gyr_radps[sl], out.acc_mps2[sl] = imu.gyr_radps, imu.acc_mps2
        out.quat_wxyz[sl] = _quat_wxyz(imu.r_ws)
        out.thigh_quat_wxyz[sl] = _quat_wxyz(imu.r_wt)
        out.body_quat_wxyz[sl] = _quat_wxyz(imu.r_wb)
        truth = truth_angles(model.track(t_s[sl]), model.leg, posture[sl])
        out.flexion_deg[sl], out.abduction_deg[sl] = truth
    return out


def _sensor_wobble(
    model: MotionModel, n: int, rate_hz: float, c: Conditions, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray] | None:
    """Soft-tissue wobble rotation vector and rate in the sensor frame, if enabled."""
    if not c.soft_tissue:
        return None
    params = WobbleParams.random(rng, c.wobble_max_deg)
    theta_t, rate_t = thigh_wobble(
        model.track, model.leg, n, rate_hz, params, impacts=model.impacts
    )
    return theta_t @ model.mounting.r_ts, rate_t @ model.mounting.r_ts


def simulate(
    plan: SessionPlan,
    *,
    rate_hz: float = 100.0,
    seed: int = 0,
    conditions: Conditions | None = None,
) -> SimSession:
    """Simulate ``plan`` sampled at ``rate_hz`` (25-400 Hz); deterministic given ``seed``."""
    if not 1.0 <= rate_hz <= 2000.0:
        raise ValueError(f"rate_hz={rate_hz} is outside the supported 1-2000 Hz")
    c = conditions or Conditions.clean()
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(7)]
    mounting = (
        Mounting.random(plan.leg, rngs[0])
        if c.random_mounting
        else Mounting.make(plan.leg, "front")
    )
    b = build_keyframes(plan, c, rngs[1])
    track = b.track()
    heading = float(rngs[2].uniform(-np.pi, np.pi))
    model = MotionModel(
        track,
        plan.leg,
        mounting,
        heading,
        postural_sway(track, c, rngs[3]) if c.sway else None,
        impact_track(b.contacts, rngs[6]) if c.foot_impacts else None,
    )
    n = math.floor(track.end_s * rate_hz) + 1
    t = np.arange(n) / rate_hz
    posture = posture_per_sample(t, b.segments)
    ideal = _ideal_samples(model, t, posture, _sensor_wobble(model, n, rate_hz, c, rngs[4]))
    info = sensor_info(rate_hz, c)
    gyr = ideal.gyr_radps + gyro_errors(rngs[5], n, rate_hz, c)
    acc = ideal.acc_mps2 + acc_errors(rngs[5], n, rate_hz, c)
    gyr_raw, gyr_si = quantise(gyr, info.gyr_scale_radps_per_lsb)
    acc_raw, acc_si = quantise(acc, info.acc_scale_mps2_per_lsb)
    reps = tuple(truth_rep(w, track, plan.leg, posture_at(b.segments, w.start_s)) for w in b.reps)
    segments = tuple(b.segments)
    return SimSession(
        rate_hz, t, acc_raw, gyr_raw, info, acc_si, gyr_si,
        ideal.flexion_deg, ideal.abduction_deg,
        ideal.quat_wxyz, ideal.thigh_quat_wxyz, ideal.body_quat_wxyz,
        posture, mounting, reps, segments,
        lost_mask(rngs[5], n, c.lost_fraction, c.lost_burst), plan, c, seed,
    )  # fmt: skip
