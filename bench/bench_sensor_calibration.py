"""Sensor calibration (six faces + gyro bias at rest): how much does it buy on realistic sets?

Each realistic simulated set (random seeds, never tuned on) is analysed three ways, on the
same samples: as received (hipsense learns the accelerometer offset at rest by itself), as
received without that in-use estimate, and after the sensor's six-face calibration.

The six-face calibration is simulated for the very sensor of the set: its true accelerometer
offset and gyro bias (re-drawn from the simulator's seed), six still poses of 2 s with up to
5 deg of tilt, the set's noise and int16 quantisation, found by the streaming guide
(``SixFaceGuide``). Because the calibration is done on another day, the set's sensor then
differs from it by a turn-on repeatability of 3 mg (accelerometer) and 0.3 deg/s (gyro).

Then, on the same sensor-calibrated sets: how far the automatic mounting calibration is from
an oracle given the true mounting (same live fusion, same data), how much more it misses the
truth than that oracle does, and the floor of any calibration that takes its neutral from the
protocol's still phases: the tilt, in the true thigh frame, of the accelerometer's mean
direction over them (the body's postural sway then, and the part of the accelerometer offset
no rest can reveal, which tilts the oracle's fused neutral instead).

Run: .venv/bin/python bench/bench_sensor_calibration.py [--seeds N]
"""

from __future__ import annotations

import sys
from dataclasses import replace

import numpy as np
from scipy.spatial.transform import Rotation

from hipsense.exercises import CATALOGUE, Angle, Leg
from hipsense.samples import STANDARD_GRAVITY_MPS2, SampleBatch
from hipsense.signal.angles import AnglePipeline, compute_angles, thigh_angles
from hipsense.signal.mounting import MountingCalibration
from hipsense.signal.sensor_calibration import SensorCalibration, SixFaceGuide
from hipsense.signal.thigh_frame import angles_from_up
from hipsense.sim import Conditions, SimSession, plan_set, simulate
from hipsense.sim.sensor import acc_errors, gyro_errors

EXERCISES = ("swing-forward", "knee-drive", "swing-lateral", "slr")
ACC_REPEAT_MG, GYR_REPEAT_DPS = 3.0, 0.3


def session(exercise_id: str, seed: int, cond: Conditions) -> SimSession:
    """The same draws as bench_angles: seed -> leg, rate, plan."""
    rng = np.random.default_rng(10_000 + seed)
    leg = Leg.LEFT if rng.random() < 0.5 else Leg.RIGHT
    rate = float(rng.choice([50.0, 100.0, 200.0]))
    return simulate(plan_set(exercise_id, leg, 8, rng), rate_hz=rate, seed=seed, conditions=cond)


def true_sensor_errors(s: SimSession) -> tuple[np.ndarray, np.ndarray]:
    """(accelerometer offset m/s^2, gyro bias rad/s) the simulator drew for this session."""
    c, n = s.conditions, len(s)

    def stream() -> np.random.Generator:  # simulate() draws sensor errors from stream 5
        return np.random.default_rng(np.random.SeedSequence(s.seed).spawn(7)[5])

    gyr_bias = gyro_errors(stream(), 1, s.rate_hz, c.with_(gyro_noise=False))[0]
    rng = stream()
    gyro_errors(rng, n, s.rate_hz, c)  # advance exactly as simulate() did
    acc_offset = acc_errors(rng, 1, s.rate_hz, c.with_(acc_noise=False))[0]
    return acc_offset, gyr_bias


def six_face_calibration(s: SimSession, rng: np.random.Generator) -> SensorCalibration:
    """The streaming guide on a simulated six-face session of this sensor."""
    acc_offset, gyr_bias = true_sensor_errors(s)
    rate, info, n = s.rate_hz, s.info, round(2.0 * s.rate_hz)
    guide = SixFaceGuide(rate)
    for axis in range(6):
        up = np.eye(3)[axis // 2] * (1.0 if axis % 2 == 0 else -1.0)
        tilt = Rotation.from_rotvec(rng.normal(0.0, np.radians(2.5), 3)).apply(up)
        noise_acc = 200e-6 * STANDARD_GRAVITY_MPS2 * np.sqrt(rate) * rng.standard_normal((n, 3))
        noise_gyr = np.radians(0.015 * np.sqrt(rate)) * rng.standard_normal((n, 3))
        acc = STANDARD_GRAVITY_MPS2 * tilt + acc_offset + noise_acc
        gyr = gyr_bias + noise_gyr
        turn = np.full((round(0.5 * rate), 3), 1.5)  # turning to the next face, ~85 deg/s
        for a, g in ((acc, gyr), (np.tile(acc[-1], (len(turn), 1)), turn)):
            a_q = np.rint(a / info.acc_scale_mps2_per_lsb) * info.acc_scale_mps2_per_lsb
            g_q = np.rint(g / info.gyr_scale_radps_per_lsb) * info.gyr_scale_radps_per_lsb
            guide.update(a_q, g_q)
    if guide.calibration is None:
        raise RuntimeError(f"six-face guide did not finish: {guide.progress}")
    return guide.calibration


def calibrated(s: SimSession, cal: SensorCalibration, rng: np.random.Generator) -> SimSession:
    """The set as the app sees it with ``cal`` applied, on a later power-up of the sensor."""
    drift_acc = rng.normal(0.0, ACC_REPEAT_MG * 1e-3 * STANDARD_GRAVITY_MPS2, 3)
    drift_gyr = np.radians(rng.normal(0.0, GYR_REPEAT_DPS, 3))
    acc, gyr = cal.apply_arrays(s.acc_mps2 + drift_acc, s.gyr_radps + drift_gyr)
    return replace(s, acc_mps2=acc, gyr_radps=gyr)


def live(s: SimSession, posture: object, *, rest_offset: bool = True) -> tuple[np.ndarray, ...]:
    keep = ~s.lost
    t, acc, gyr = s.t_s[keep], s.acc_mps2[keep], s.gyr_radps[keep]
    pipe = AnglePipeline(s.rate_hz, posture, s.leg, rest_offset=rest_offset)  # type: ignore[arg-type]
    out = [pipe.update(SampleBatch("sim", t[i : i + 10], acc[i : i + 10], gyr[i : i + 10]))
           for i in range(0, len(t), 10)] + [pipe.flush()]  # fmt: skip
    flex = np.concatenate([o.flexion_deg for o in out])
    abd = np.concatenate([o.abduction_deg for o in out])
    return flex, abd


def scores(s: SimSession, exercise_id: str, est: np.ndarray) -> float:
    """RMSE over the set's valid samples. (No SLR peaks here: this is the pipeline's first
    pass, without the first raise back-filled once it has calibrated, so a peak would come
    from the raise's tail; bench_angles measures peaks on the trace the app shows.)"""
    ex, keep = CATALOGUE[exercise_id], ~s.lost
    t = s.t_s[keep]
    truth = s.primary_deg(ex.primary)[keep]
    in_set = np.zeros(len(t), bool)
    for g in s.segments:
        in_set |= (g.kind == "set") & (t >= g.start_s) & (t < g.end_s)
    ok = in_set & np.isfinite(est)
    return float(np.sqrt(np.mean((est[ok] - truth[ok]) ** 2)))


VARIANTS = ("as received", "no in-use offset", "sensor-calibrated")


def evaluate(exercise_id: str, seed: int) -> tuple[dict[str, float], float]:
    s = session(exercise_id, seed, Conditions.realistic())
    rng = np.random.default_rng(20_000 + seed)
    cal = six_face_calibration(s, rng)
    offset_err_mg = 1e3 * np.abs(np.array(cal.acc_offset_mps2) - true_sensor_errors(s)[0]).max()
    ex = CATALOGUE[exercise_id]
    pick = 1 if ex.primary is Angle.ABDUCTION else 0
    runs = {
        "as received": live(s, ex.posture)[pick],
        "no in-use offset": live(s, ex.posture, rest_offset=False)[pick],
        "sensor-calibrated": live(calibrated(s, cal, rng), ex.posture)[pick],
    }
    out = {k: scores(s, exercise_id, v) for k, v in runs.items()}
    keep = ~s.lost
    c = calibrated(s, cal, np.random.default_rng(20_000 + seed))
    off = compute_angles(s.t_s[keep], c.acc_mps2[keep], c.gyr_radps[keep], s.rate_hz,
                         posture=ex.posture, leg=s.leg)  # fmt: skip
    out["sensor-calibrated offline"] = scores(
        s, exercise_id, (off.flexion_deg, off.abduction_deg)[pick]
    )
    return out, offset_err_mg / STANDARD_GRAVITY_MPS2


def _cell(v: list[float]) -> str:
    return f"{np.mean(v):6.2f} {np.max(v):6.2f}" if v else "     -      -"


def run(n_seeds: int) -> None:
    cols = (*VARIANTS, "sensor-calibrated offline")
    print(f"## realistic sets, live pipeline, {n_seeds} seeds per exercise; mean / worst [deg]")
    print(f"{'exercise':<15}{'metric':<12}" + "".join(f"{c:>27}" for c in cols))
    offset_errs: list[float] = []
    for exercise_id in EXERCISES:
        rmse: dict[str, list[float]] = {c: [] for c in cols}
        for seed in range(n_seeds):
            res, off_err = evaluate(exercise_id, seed)
            offset_errs.append(off_err)
            for c, r in res.items():
                rmse[c].append(r)
        print(f"{exercise_id:<15}{'RMSE':<12}" + "".join(f"{_cell(rmse[c]):>27}" for c in cols))
    print(f"six-face offset error [mg]: mean {np.mean(offset_errs):.2f},"
          f" worst {np.max(offset_errs):.2f} (largest axis; before the"
          f" {ACC_REPEAT_MG:.0f} mg day-to-day repeatability)")  # fmt: skip


def _calibration_still(s: SimSession) -> np.ndarray:
    """The received samples of the calibration's still phases (standing: before and after
    the swings; supine: before the first raise)."""
    kinds = [g.kind for g in s.segments]
    around = kinds.index("calibration-swings") if "calibration-swings" in kinds else None
    phases = [s.segments[0]] if around is None else [s.segments[around - 1], s.segments[around + 1]]
    mask = np.zeros(len(s), dtype=bool)
    for g in phases:
        mask |= (s.t_s >= g.start_s) & (s.t_s < g.end_s)
    return mask & ~s.lost


def mounting_vs_oracle(exercise_id: str, seed: int) -> tuple[float, float, float]:
    """(automatic calibration vs oracle RMSE, its RMSE vs the truth minus the oracle's, the
    floor) on one sensor-calibrated realistic set, live, primary angle, set samples."""
    s0 = session(exercise_id, seed, Conditions.realistic())
    rng = np.random.default_rng(20_000 + seed)  # as bench_angles' sensor-calibrated sets
    s = calibrated(s0, six_face_calibration(s0, rng), rng)
    ex, keep = CATALOGUE[exercise_id], ~s.lost
    pick = 1 if ex.primary is Angle.ABDUCTION else 0
    t, acc, gyr = s.t_s[keep], s.acc_mps2[keep], s.gyr_radps[keep]
    pipe = AnglePipeline(s.rate_hz, ex.posture, s.leg)
    out = [pipe.update(SampleBatch("sim", t[i : i + 10], acc[i : i + 10], gyr[i : i + 10]))
           for i in range(0, len(t), 10)] + [pipe.flush()]  # fmt: skip
    back = next(o.backfill for o in out if o.backfill is not None)
    out = [back, *(o for o in out if len(o) and o.t_s[0] > back.t_s[-1])]
    auto = np.concatenate([(o.flexion_deg, o.abduction_deg)[pick] for o in out])
    quat = np.concatenate([o.quat_wxyz for o in out])
    oracle = thigh_angles(
        quat, MountingCalibration.from_rotation(s.mounting.r_ts, ex.posture, s.leg)
    )[pick]
    truth = s.primary_deg(ex.primary)[keep]
    in_set = np.zeros(len(t), dtype=bool)
    for g in s.segments:
        in_set |= (g.kind == "set") & (t >= g.start_s) & (t < g.end_s)
    ok = in_set & np.isfinite(auto)

    def rms(v: np.ndarray) -> float:
        return float(np.sqrt(np.mean(v[ok] ** 2)))

    still = _calibration_still(s)
    up = np.mean(s.acc_mps2[still] / np.linalg.norm(s.acc_mps2[still], axis=1, keepdims=True), 0)
    up_thigh = (s.mounting.r_ts @ (up / np.linalg.norm(up)))[None]
    floor = abs(float(angles_from_up(up_thigh, s.leg, ex.posture)[pick][0]))
    return rms(auto - oracle), rms(auto - truth) - rms(oracle - truth), floor


def run_mounting(n_seeds: int) -> None:
    print(f"\n## automatic mounting calibration, sensor-calibrated realistic sets, {n_seeds} seeds"
          " per exercise; mean / worst [deg]")  # fmt: skip
    cols = ("vs oracle", "excess vs truth", "still-phase floor")
    print(f"{'exercise':<15}" + "".join(f"{c:>20}" for c in cols))
    every: list[tuple[float, float, float]] = []
    for exercise_id in EXERCISES:
        rows = [mounting_vs_oracle(exercise_id, seed) for seed in range(n_seeds)]
        every += rows
        cells = [_cell([r[k] for r in rows]) for k in range(3)]
        print(f"{exercise_id:<15}" + "".join(f"{c:>20}" for c in cells))
    cells = [_cell([r[k] for r in every]) for k in range(3)]
    print(f"{'all':<15}" + "".join(f"{c:>20}" for c in cells))


if __name__ == "__main__":
    seeds = int(sys.argv[sys.argv.index("--seeds") + 1]) if "--seeds" in sys.argv else 10
    run(seeds)
    run_mounting(seeds)
