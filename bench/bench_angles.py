"""Hip-angle accuracy on the simulator (random seeds, never tuned on) and on real SLR data.

Per condition (clean; realistic = every nuisance on; realistic with the sensor's six-face
calibration applied, see bench_sensor_calibration.py) and exercise:
primary-angle RMSE over the set (flexion; abduction for lateral swings), SLR peak error per
rep (the maximum of the trace shown in the rep's true window against the true peak: live,
the published trace with the lost samples it bridged; offline, the exported per-sample
trace, received samples only; "vs received" against the highest received true sample;
"reported rep peak": the peak the session's rep detector reports, live and in ``analyze``),
and the automatic calibration's difference from the oracle (true mounting, same fusion,
same data), with the error each carries at rest (the still phases, where the truth is
plain). Methods: hipsense live (streamed in 10-sample batches, guided calibration; the
samples before it back-filled as the session shows them), hipsense offline (acausal VQF
with the session's calibration, as ``analyze`` exports it), oracle (live fusion, true
mounting) and a baseline (plain VQF defaults + a simple still-then-move calibration).
Then real supine SLRs (../shared/data/pt_exercises, Yurtman & Barshan 2022, CC BY 4.0).

Run: .venv/bin/python bench/bench_angles.py [--seeds N] [--first-seed K] [--condition C…]
    [--exercise E…] [--simulated-only] [--per-seed]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from baseline import baseline_calibration

from hipsense.errors import CalibrationError
from hipsense.exercises import CATALOGUE, Angle, Exercise, Leg, Posture
from hipsense.samples import SampleBatch
from hipsense.signal.angles import AnglePipeline, Published, compute_angles, thigh_angles
from hipsense.signal.calibration import MountingCalibration
from hipsense.signal.lever_arm import compensate, estimate_lever_arm
from hipsense.signal.orientation import VQF_DEFAULTS, estimate_orientation_causal, up_in_sensor
from hipsense.signal.reps import RepDetector
from hipsense.sim import Conditions, SimSession, plan_set, simulate

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_sensor_calibration import calibrated, six_face_calibration

EXERCISES = ("swing-forward", "knee-drive", "swing-lateral", "slr")
METHODS = ("hipsense live", "hipsense offline", "oracle live", "baseline")
CONDITIONS = {
    "clean": Conditions.clean().with_(random_mounting=True),
    # issue 3's conditions: any mounting, 50-200 Hz, sensor biases and noise (no nuisances)
    "biases + noise": Conditions.clean().with_(
        random_mounting=True, gyro_noise=True, gyro_bias=True, acc_noise=True, acc_bias=True
    ),
    "realistic": Conditions.realistic(),
    "realistic + sensor calibration": Conditions.realistic(),
}
PT_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "pt_exercises"


@dataclass
class Tally:
    rmse: dict[str, list[float]] = field(default_factory=dict)
    peak_err: dict[str, list[float]] = field(default_factory=dict)
    peak_err_received: dict[str, list[float]] = field(default_factory=dict)
    rep_peak_err: dict[str, list[float]] = field(default_factory=dict)
    cal_vs_oracle: list[float] = field(default_factory=list)
    cal_excess: list[float] = field(default_factory=list)
    """Per set: live RMSE against the truth minus the oracle's (what the calibration costs)."""
    cal_vs_swing_plane: list[float] = field(default_factory=list)
    """Per standing set: the calibration against the oracle turned to the person's swings."""
    rest_err: dict[str, list[float]] = field(default_factory=dict)
    """Per set: |mean error| against the truth over the still phases, where the truth is
    plain (the leg at rest) and any difference is a tilt the method carries."""
    coverage: list[float] = field(default_factory=list)
    failures: int = 0
    per_seed: bool = False

    def add(self, key: str, store: dict[str, list[float]], values: list[float]) -> None:
        store.setdefault(key, []).extend(values)


def _session(exercise_id: str, seed: int, cond: Conditions) -> SimSession:
    rng = np.random.default_rng(10_000 + seed)
    leg = Leg.LEFT if rng.random() < 0.5 else Leg.RIGHT
    rate = float(rng.choice([50.0, 100.0, 200.0]))
    plan = plan_set(exercise_id, leg, 8, rng)
    return simulate(plan, rate_hz=rate, seed=seed, conditions=cond)


def _sensor_calibrated(s: SimSession) -> SimSession:
    rng = np.random.default_rng(20_000 + s.seed)
    return calibrated(s, six_face_calibration(s, rng), rng)


PREPARE: dict[str, Callable[[SimSession], SimSession]] = {
    "realistic + sensor calibration": _sensor_calibrated
}


def _as_simulated(s: SimSession) -> SimSession:
    return s


def condition_session(
    cname: str, exercise_id: str, seed: int, without: Sequence[str] = ()
) -> SimSession:
    """The benchmark's set ``seed`` of this exercise in condition ``cname``, the nuisances
    ``without`` turned off (``_turned_off``)."""
    s = _session(exercise_id, seed, _turned_off(CONDITIONS[cname], without))
    return PREPARE.get(cname, _as_simulated)(s)


Trace = tuple[np.ndarray, np.ndarray, np.ndarray]  # t, flexion, abduction


def _live(
    s: SimSession, keep: np.ndarray, posture: Posture
) -> tuple[np.ndarray, np.ndarray, np.ndarray, Trace, MountingCalibration]:
    """What the session shows: (flexion, abduction, quaternions) at the received samples,
    then (t, flexion, abduction) of the whole published trace, lost samples it bridged
    included, and the calibration it found."""
    pipe = AnglePipeline(s.rate_hz, posture, s.leg)
    t, acc, gyr = s.t_s[keep], s.acc_mps2[keep], s.gyr_radps[keep]
    out = [pipe.update(SampleBatch("sim", t[i : i + 10], acc[i : i + 10], gyr[i : i + 10]))
           for i in range(0, len(t), 10)] + [pipe.flush()]  # fmt: skip
    if pipe.calibration is None:
        raise CalibrationError("live calibration never finished")
    # The samples before the calibration, back-filled once it is known; then each batch with
    # its revisions (a gap bridged, an untrusted bridge repaired once checked)
    k = next(i for i, o in enumerate(out) if o.backfill is not None)
    shown, first = Published.for_posture(posture), out[k].backfill
    assert first is not None
    rows = [shown.add_all(first)]  # released whole, as the session does (``SensorPipeline``)
    rows += [shown.add(o) for o in out[k + 1 :]]
    rows += [r for r in [shown.finish()] if r is not None]
    shown_deg = [r.shown_deg() for r in rows]  # rows counted but not shown: NaN
    rows = [
        replace(r, flexion_deg=f, abduction_deg=a)
        for r, (f, a) in zip(rows, shown_deg, strict=True)
    ]
    t_all, flex_all, abd_all, quat_all, lost = (
        np.concatenate([getattr(r, f) for r in rows])
        for f in ("t_s", "flexion_deg", "abduction_deg", "quat_wxyz", "bridged")
    )
    rec = ~lost
    flex, abd, quat = np.full(len(t), np.nan), np.full(len(t), np.nan), np.full((len(t), 4), np.nan)
    at = np.searchsorted(t, t_all[rec])
    flex[at], abd[at], quat[at] = flex_all[rec], abd_all[rec], quat_all[rec]
    return flex, abd, quat, (t_all, flex_all, abd_all), pipe.calibration


def _swing_plane_mounting(s: SimSession) -> np.ndarray | None:
    """The true mounting turned about the thigh's long axis to the plane the simulated person
    swung in during the calibration (None without calibration swings).

    Swings that leave the sagittal plane (abduction rising with flexion) turn the axis any
    swing-based calibration finds by the plane's tilt; from the thigh, that cannot be told
    from a sensor turned on the strap. This is the best such a calibration can do."""
    swings = [g for g in s.segments if g.kind == "calibration-swings"]
    if not swings:
        return None
    m = (s.t_s >= swings[0].start_s) & (s.t_s < swings[0].end_s)
    slope = np.polyfit(s.flexion_deg[m], s.abduction_deg[m], 1)[0]
    tilt = float(np.arctan(slope)) * (1.0 if s.leg is Leg.RIGHT else -1.0)  # abduction's sign
    c, si = np.cos(tilt), np.sin(tilt)
    return np.array([[c, -si, 0.0], [si, c, 0.0], [0.0, 0.0, 1.0]]) @ s.mounting.r_ts


def _evaluate(s: SimSession, exercise_id: str, tally: Tally) -> None:
    ex = CATALOGUE[exercise_id]
    keep = ~s.lost
    t = s.t_s[keep]
    in_set = np.zeros(len(t), bool)
    for g in s.segments:
        if g.kind == "set":
            in_set |= (t >= g.start_s) & (t < g.end_s)
    truth = (s.abduction_deg if ex.primary is Angle.ABDUCTION else s.flexion_deg)[keep]
    pick = 1 if ex.primary is Angle.ABDUCTION else 0
    oracle = MountingCalibration.from_rotation(s.mounting.r_ts, ex.posture, s.leg)
    results: dict[str, np.ndarray] = {}
    try:
        flex, abd, quat_live, trace, calibration = _live(s, keep, ex.posture)
        results["hipsense live"] = (flex, abd)[pick]
        shown_t, shown = trace[0], trace[1 + pick]
        tally.coverage.append(float(np.mean(np.isfinite(flex[in_set]))))
        valid = np.isfinite(flex)
        oracle_live = np.where(valid, thigh_angles(quat_live, oracle)[pick], np.nan)
        diff = results["hipsense live"] - oracle_live
        tally.cal_vs_oracle.append(float(np.sqrt(np.nanmean(diff[in_set] ** 2))))
        plane = _swing_plane_mounting(s)
        if plane is not None:
            turned = MountingCalibration.from_rotation(plane, ex.posture, s.leg)
            diff = results["hipsense live"] - thigh_angles(quat_live, turned)[pick]
            tally.cal_vs_swing_plane.append(float(np.sqrt(np.nanmean(diff[in_set] ** 2))))
        off = compute_angles(t, s.acc_mps2[keep], s.gyr_radps[keep], s.rate_hz,
                             posture=ex.posture, leg=s.leg, calibration=calibration)  # fmt: skip
        results["hipsense offline"] = (off.flexion_deg, off.abduction_deg)[pick]
    except CalibrationError:
        tally.failures += 1
        return
    results["oracle live"] = oracle_live
    quat_base = estimate_orientation_causal(
        s.gyr_radps[keep], s.acc_mps2[keep], s.rate_hz, VQF_DEFAULTS
    )
    base_cal = baseline_calibration(
        s.acc_mps2[keep], s.gyr_radps[keep], quat_base, s.rate_hz, posture=ex.posture, leg=s.leg
    )
    results["baseline"] = thigh_angles(quat_base, base_cal)[pick]
    for m, est in results.items():
        ok = in_set & np.isfinite(est)
        tally.add(m, tally.rmse, [float(np.sqrt(np.mean((est[ok] - truth[ok]) ** 2)))])
        if exercise_id == "slr":  # live: the trace shown, with the lost samples it bridged
            peaks = _peak_errors(shown_t, shown, s) if m == "hipsense live" else None
            tally.add(m, tally.peak_err, peaks or _peak_errors(t, est, s))
            tally.add(m, tally.peak_err_received, _peak_errors(t, est, s, truth[:, None]))
    still = np.zeros(len(t), bool)
    for g in s.segments:
        if g.kind == "still":
            still |= (t >= g.start_s) & (t < g.end_s)
    for m in ("hipsense live", "oracle live"):
        ok = still & np.isfinite(results[m])
        if ok.any():
            tally.add(m, tally.rest_err, [abs(float(np.mean(results[m][ok] - truth[ok])))])
    live_rmse, oracle_rmse = tally.rmse["hipsense live"][-1], tally.rmse["oracle live"][-1]
    tally.cal_excess.append(live_rmse - oracle_rmse)
    if exercise_id == "slr":  # live and analyze report the same reps (one session)
        tally.add("hipsense live", tally.rep_peak_err, _rep_peak_errors(ex, trace, pick, s))
    if tally.per_seed:
        _print_seed(s, exercise_id, t, truth, in_set, results, trace, pick)


def _print_seed(  # noqa: PLR0917
    s: SimSession,
    exercise_id: str,
    t: np.ndarray,
    truth: np.ndarray,
    in_set: np.ndarray,
    results: dict[str, np.ndarray],
    trace: tuple[np.ndarray, ...],
    pick: int,
) -> None:
    """One line per seed (live / offline RMSE, and for SLR the worst peak error of the shown
    trace), then truth against the shown trace around the worst error: where it went wrong."""
    live, off = results["hipsense live"], results["hipsense offline"]
    ok = in_set & np.isfinite(live)
    rmse = [float(np.sqrt(np.nanmean((e[ok] - truth[ok]) ** 2))) for e in (live, off)]
    shown_t, shown = trace[0], trace[1 + pick]
    line = f"  seed {s.seed:5d} {s.rate_hz:5.0f} Hz  live {rmse[0]:5.2f}  offline {rmse[1]:5.2f}"
    truth_all = s.abduction_deg if pick else s.flexion_deg
    if exercise_id == "slr":
        peaks = _peak_errors(shown_t, shown, s)
        worst_rep = s.reps[int(np.argmax(peaks))] if peaks else None
        line += f"  peak err worst {max(peaks, default=np.nan):5.2f}"
        if worst_rep is not None:
            w = (shown_t >= worst_rep.start_s) & (shown_t <= worst_rep.end_s)
            w &= np.isfinite(shown)
            at = float(shown_t[w][np.argmax(shown[w])]) if w.any() else worst_rep.start_s
            line += f" (true {worst_rep.peak_deg:.1f} at rep {worst_rep.start_s:.1f} s)"
    else:
        shown_truth = np.interp(shown_t, s.t_s, truth_all)
        in_shown = np.zeros(len(shown_t), bool)
        for g in s.segments:
            if g.kind == "set":
                in_shown |= (shown_t >= g.start_s) & (shown_t < g.end_s)
        err = np.where(in_shown & np.isfinite(shown), np.abs(shown - shown_truth), 0.0)
        at = float(shown_t[int(np.argmax(err))])
        line += f"  worst |err| {float(np.max(err)):5.2f} at {at:.2f} s"
    print(line)
    near = (s.t_s >= at - 0.5) & (s.t_s <= at + 0.5)
    step = max(1, round(s.rate_hz / 25))
    for i in np.flatnonzero(near)[::step]:
        j = min(int(np.searchsorted(shown_t, s.t_s[i] - 0.25 / s.rate_hz)), len(shown_t) - 1)
        est = shown[j] if abs(shown_t[j] - s.t_s[i]) < 0.25 / s.rate_hz else np.nan
        lost = "lost" if s.lost[i] else ""
        rate = float(np.degrees(np.linalg.norm(s.gyr_radps[i])))
        print(f"      t {s.t_s[i]:7.2f}  truth {truth_all[i]:7.2f}  shown {est:7.2f}"
              f"  err {est - truth_all[i]:6.2f}  gyro {rate:5.0f} deg/s {lost}")  # fmt: skip


def _peak_errors(
    t: np.ndarray, est: np.ndarray, s: SimSession, received: np.ndarray | None = None
) -> list[float]:
    """|estimated peak - true peak| per rep; with ``received`` (truth at the received samples,
    as a column) the true peak is the highest received one: a peak lost in a gap is no error
    of the angles."""
    errs = []
    for r in s.reps:
        w = (t >= r.start_s) & (t <= r.end_s) & np.isfinite(est)
        if w.sum() > 3:
            peak = r.peak_deg if received is None else float(np.max(received[w, 0]))
            errs.append(abs(float(np.max(est[w])) - peak))
    return errs


def _rep_peak_errors(
    ex: Exercise, trace: tuple[np.ndarray, ...], pick: int, s: SimSession
) -> list[float]:
    """|reported peak - true peak| per true rep, the detector fed the shown trace as the
    session feeds it; a true rep the detector missed counts as an error of its true peak."""
    t, primary, secondary = trace[0], trace[1 + pick], trace[2 - pick]
    det = RepDetector(ex, leg=s.leg)
    for i in range(0, len(t), 10):
        det.update(t[i : i + 10], primary[i : i + 10], secondary[i : i + 10])
    det.finish()
    found = det.reps
    errs = []
    for r in s.reps:
        mine = [p for p in found if p.start_s <= r.end_s and p.end_s >= r.start_s]
        errs.append(min((abs(p.peak_deg - r.peak_deg) for p in mine), default=r.peak_deg))
    return errs


def _stats(v: list[float]) -> str:
    return f"{np.mean(v):6.2f} {np.max(v):6.2f}" if v else "     -      -"


def run_simulated(
    n_seeds: int,
    first_seed: int = 0,
    conditions: Sequence[str] = tuple(CONDITIONS),
    exercises: Sequence[str] = EXERCISES,
    *,
    per_seed: bool = False,
    without: Sequence[str] = (),
) -> None:
    for cname in conditions:
        print(
            f"\n## {cname}: {n_seeds} seeds per exercise from seed {first_seed}"
            " (rate 50/100/200 Hz, leg, mounting random)"
        )
        print(f"{'exercise':<15}{'metric':<18}" + "".join(f"{m:>18}" for m in METHODS))
        all_cal: list[float] = []
        all_excess: list[float] = []
        all_plane: list[float] = []
        at_rest: dict[str, list[float]] = {}
        for exercise_id in exercises:
            tally = Tally(per_seed=per_seed)
            for seed in range(first_seed, first_seed + n_seeds):
                s = condition_session(cname, exercise_id, seed, without)
                _evaluate(s, exercise_id, tally)
            all_cal += tally.cal_vs_oracle
            all_excess += tally.cal_excess
            all_plane += tally.cal_vs_swing_plane
            for m, errs in tally.rest_err.items():
                tally.add(m, at_rest, errs)
            rows = [("RMSE mean/worst", tally.rmse)]
            if exercise_id == "slr":
                rows.append(("peak err mean/max", tally.peak_err))
                rows.append(("  vs received", tally.peak_err_received))
                rows.append(("  reported rep peak", tally.rep_peak_err))
            for label, store in rows:
                cells = "".join(f"{_stats(store.get(m, [])):>18}" for m in METHODS)
                print(f"{exercise_id:<15}{label:<18}{cells}")
            cover = 100 * np.array(tally.coverage or [np.nan])
            print(f"{'':<15}live angles valid in {np.mean(cover):.1f}% of set samples"
                  f" (worst {np.min(cover):.1f}%)")  # fmt: skip
            if tally.failures:
                print(f"{'':<15}calibration failed in {tally.failures} session(s)")
        print(f"calibration vs oracle RMSE [deg] mean/worst: {_stats(all_cal)}")
        print(f"  live RMSE minus the oracle's, against the truth [deg] mean/worst: "
              f"{_stats(all_excess)}")  # fmt: skip
        print(f"  at rest (the still phases), |mean error| against the truth [deg] mean/worst:"
              f" hipsense {_stats(at_rest.get('hipsense live', []))},"
              f" oracle {_stats(at_rest.get('oracle live', []))}")  # fmt: skip
        if all_plane:
            print(f"  standing sets, against the oracle turned to the person's calibration swing"
                  f" plane [deg] mean/worst: {_stats(all_plane)}")  # fmt: skip
        if cname == "realistic":
            print("  (with an uncalibrated accelerometer the oracle mounting is no reference: the"
                  " offset's unobservable part tilts the fused neutral, which the automatic"
                  " calibration absorbs; compare both with the truth above)")  # fmt: skip


def _lever(s: SimSession, keep: np.ndarray, mode: str) -> np.ndarray | None:
    """The lever arm (sensor frame): the simulator's true one, or fitted on the calibration
    swings from live fusion (what hipsense could do), or none."""
    if mode == "true":
        return np.asarray(s.mounting.r_ts.T @ s.mounting.lever_arm_m)
    if mode == "none":
        return None
    t, acc, gyr = s.t_s[keep], s.acc_mps2[keep], s.gyr_radps[keep]
    quat = estimate_orientation_causal(gyr, acc, s.rate_hz)
    swings = next(g for g in s.segments if g.kind == "calibration-swings")
    sel = (t >= swings.start_s) & (t < swings.end_s)
    return estimate_lever_arm(gyr[sel], acc[sel], up_in_sensor(quat[sel]), s.rate_hz)


def _lever_rmse(s: SimSession, exercise_id: str, mode: str) -> float:
    """Oracle mounting, live fusion, accelerometer with the lever-arm terms removed or not."""
    ex, keep = CATALOGUE[exercise_id], ~s.lost
    acc, gyr = s.acc_mps2[keep], s.gyr_radps[keep]
    lever = _lever(s, keep, mode)
    if lever is not None:
        acc = compensate(acc, gyr, gyr[0], lever, s.rate_hz)
    oracle = MountingCalibration.from_rotation(s.mounting.r_ts, ex.posture, s.leg)
    out = compute_angles(s.t_s[keep], acc, gyr, s.rate_hz, posture=ex.posture,
                         leg=s.leg, calibration=oracle, offline=False)  # fmt: skip
    est = out.abduction_deg if ex.primary is Angle.ABDUCTION else out.flexion_deg
    truth = (s.abduction_deg if ex.primary is Angle.ABDUCTION else s.flexion_deg)[keep]
    t = s.t_s[keep]
    in_set = np.zeros(len(t), bool)
    for g in s.segments:
        if g.kind == "set":
            in_set |= (t >= g.start_s) & (t < g.end_s)
    ok = in_set & np.isfinite(est)
    return float(np.sqrt(np.mean((est[ok] - truth[ok]) ** 2)))


def run_lever_arm(n_seeds: int, without: Sequence[str] = ()) -> None:
    modes = ("none", "true", "estimated")
    print(
        "\n## lever-arm compensation (oracle mounting, live fusion; RMSE mean, swings/knee drives)"
    )
    print(f"{'condition':<28}" + "".join(f"{m:>11}" for m in modes))
    for cname in CONDITIONS:
        rows = [
            [_lever_rmse(s, ex, m) for m in modes]
            for ex in ("swing-forward", "knee-drive", "swing-lateral")
            for s in (condition_session(cname, ex, seed, without) for seed in range(n_seeds))
        ]
        print(f"{cname:<28}" + "".join(f"{v:11.3f}" for v in np.mean(rows, axis=0)))


def _read_csv(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = np.genfromtxt(path, delimiter=",", names=True)
    acc = np.column_stack([d[f"acc_{a}_mps2"] for a in "xyz"])
    gyr = np.column_stack([d[f"gyr_{a}_radps"] for a in "xyz"])
    return d["time_s"], acc, gyr


def _consistency_deg(acc: np.ndarray, gyr: np.ndarray, rate: float) -> float:
    """Median miss of gravity carried 2 s by the gyro vs the accelerometer (sensor sanity)."""
    from scipy.spatial.transform import Rotation

    bias, n, misses = np.mean(gyr[: round(rate)], axis=0), round(2 * rate), []
    for i0 in range(round(4 * rate), len(acc) - n, n):
        rot = Rotation.from_rotvec((gyr[i0 : i0 + n] - bias) / rate)
        total = Rotation.identity()
        for r in rot:
            total = total * r
        pred = total.inv().apply(acc[i0])
        cos = pred @ acc[i0 + n] / np.linalg.norm(pred) / np.linalg.norm(acc[i0 + n])
        misses.append(np.degrees(np.arccos(np.clip(cos, -1, 1))))
    return float(np.median(misses))


def run_real_slr() -> None:
    if not PT_DIR.is_dir():
        print(f"\n(real SLR data not found in {PT_DIR}: skipped)")
        return
    import json

    from scipy.signal import find_peaks

    print("\n## real supine SLR, right thigh (supine calibration: still, then the first raise)")
    for subject in sorted(p.name for p in PT_DIR.iterdir() if p.is_dir()):
        labels = json.loads((PT_DIR / subject / "labels.json").read_text())
        for session in ("test", "template"):
            t, acc, gyr = _read_csv(PT_DIR / subject / f"slr_{session}_right_thigh.csv")
            rate = float(labels["sample_rate_hz"])
            a = compute_angles(
                t, acc, gyr, rate, posture=Posture.SUPINE, leg=Leg.RIGHT, offline=False
            )
            flex = np.nan_to_num(a.flexion_deg)
            peaks, _ = find_peaks(flex, prominence=4.0, distance=round(rate))
            expected = labels[f"{session}_session"]["rep_count"]
            values = " ".join(f"{v:.0f}" for v in flex[peaks])
            print(f"{subject} {session:<8} reps found {len(peaks):2d}/{expected:2d};"
                  f" peak elevation [deg]: {values}")  # fmt: skip
            _, acc_l, gyr_l = _read_csv(PT_DIR / subject / f"slr_{session}_left_thigh.csv")
            tilt = _left_excursion_deg(acc_l, gyr_l, rate)
            right_miss = _consistency_deg(acc, gyr, rate)
            left_miss = _consistency_deg(acc_l, gyr_l, rate)
            print(f"{'':12}left (down) thigh tilt from its start: median {tilt[0]:.1f},"
                  f" 95th percentile {tilt[1]:.1f} deg;"
                  f" gyro/acc consistency (median 2 s miss): right {right_miss:.1f} deg,"
                  f" left {left_miss:.1f} deg")  # fmt: skip


def _left_excursion_deg(acc: np.ndarray, gyr: np.ndarray, rate: float) -> tuple[float, float]:
    """The down thigh cannot calibrate (it never raises): report its heading-free tilt."""
    from hipsense.signal.orientation import estimate_orientation_offline, up_in_sensor

    up = up_in_sensor(estimate_orientation_offline(gyr, acc, rate))
    up0 = np.mean(acc[: round(rate)], axis=0)  # the session starts lying still
    up0 /= np.linalg.norm(up0)
    tilt = np.degrees(np.arccos(np.clip(up @ up0, -1, 1)))
    return float(np.percentile(tilt, 50)), float(np.percentile(tilt, 95))


NUISANCES = (
    "gyro_noise", "gyro_bias", "acc_noise", "acc_bias", "soft_tissue", "sway",
    "fidgets", "mid_set_pause", "random_mounting", "foot_impacts", "lost_fraction",
)  # fmt: skip


def _turned_off(conditions: Conditions, nuisances: Sequence[str]) -> Conditions:
    """The conditions without these nuisances. The sensor's errors and the lost bursts share
    one random stream, drawn in that order: without lost bursts the sessions are otherwise the
    same; without a sensor error the noise and the bursts are drawn again. Fidgets and pauses
    change the session's timeline."""
    if not nuisances:
        return conditions
    off: dict[str, object] = {n: 0.0 if n == "lost_fraction" else False for n in nuisances}
    return conditions.with_(**off)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=12, help="sets per exercise and condition")
    parser.add_argument("--first-seed", type=int, default=0, help="e.g. 1000 for a fresh sample")
    parser.add_argument(
        "--condition", nargs="+", choices=list(CONDITIONS), default=list(CONDITIONS)
    )
    parser.add_argument("--exercise", nargs="+", choices=EXERCISES, default=list(EXERCISES))
    parser.add_argument("--simulated-only", action="store_true")
    parser.add_argument(
        "--without",
        nargs="+",
        choices=NUISANCES,
        default=[],
        help="turn these nuisances off in every condition (what each one costs)",
    )
    parser.add_argument(
        "--per-seed",
        action="store_true",
        help="one line per seed, and truth vs the shown trace around its worst error",
    )
    args = parser.parse_args()
    run_simulated(args.seeds, args.first_seed, args.condition, args.exercise,
                  per_seed=args.per_seed, without=args.without)  # fmt: skip
    if not args.simulated_only:
        run_lever_arm(min(args.seeds, 4), args.without)
        run_real_slr()


if __name__ == "__main__":
    main()
