"""Rep counting and quality benchmark: simulated sets of every exercise and real SLR data.

Run: .venv/bin/python bench/bench_reps.py [--sets N]

Simulated sets (hipsense.sim, realistic conditions: random mounting, sensor errors, sway,
soft-tissue wobble, 2 % packet loss in bursts of 20 samples, a 2-3 s pause mid-set, fidgets
after the set; sampled at 50, 100 and 200 Hz in turn, so a burst lasts 0.4, 0.2 or 0.1 s)
are analysed two ways, each streamed in 100 ms batches exactly as live:
- "pipeline": the real AnglePipeline (calibrates itself from the recording's calibration
  routine) feeding the RepDetector what the session shows (``Published``: lost samples
  bridged, an untrusted bridge's rows held until checked). Supine, the set's first raise is
  the calibration movement, so its angles are back-filled once calibrated.
- "pipeline, no loss": the same sets simulated without packet loss, which isolates the
  effect of the angle pipeline's handling of gaps (angles stay invalid after a gap in fast
  motion until it can re-anchor, so reps inside that window are never seen).
- "truth+err": the simulator's truth angles with 0.3 deg noise, a slow offset random walk
  and NaN for lost samples, fed from the end of the calibration routine.
Seeds 5000+ were never used while developing the detector (development used 1000-1019).
Latency is the time from a rep's true end to the end of the batch that announced it (rows
held back until a gap bridge is checked reach the detector, and count, when released).
Real data: ../shared/data/pt_exercises (Yurtman & Barshan 2022, UCI dataset 730, CC BY 4.0),
through ``hipsense analyze`` as a user runs it, and through the bare angle pipeline.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from baseline import baseline_angles, baseline_rep_times, primary_of

from hipsense.cli import main as cli_main
from hipsense.errors import HipsenseError
from hipsense.exercises import (
    CATALOGUE,
    RUSHED,
    SHORT_RANGE,
    Angle,
    Exercise,
    Leg,
    Posture,
    get_exercise,
)
from hipsense.samples import SampleBatch
from hipsense.signal.angles import AngleBatch, AnglePipeline, Published, compute_angles
from hipsense.signal.quality import Rep
from hipsense.signal.reps import RepCompleted, RepDetector
from hipsense.sim import Conditions, PlanStep, SessionPlan, SimSession, plan_set, simulate

ROOT = Path(__file__).resolve().parents[1]
PT_DATA = ROOT.parent / "shared" / "data" / "pt_exercises"
RATES_HZ = (50.0, 100.0, 200.0)  # the simulated sets' and nuisance sessions', in turn
BATCH_S = 0.1  # a live batch
PIPELINE, NO_LOSS, TRUTH = "pipeline", "pipeline, no loss", "truth+err"
BASELINE = "baseline (VQF + still-then-move + find_peaks)"
MODES = (PIPELINE, NO_LOSS, TRUTH, BASELINE)
SEED0 = int(__import__("os").environ.get("BENCH_SEED0", "5000"))


@dataclass
class Tally:
    sets: int = 0
    exact: int = 0
    max_abs_err: int = 0
    latencies_s: list[float] = field(default_factory=list)
    retracted: int = 0
    false_outside_sets: int = 0
    cal_failed: int = 0

    def add(self, n_true: int, n_found: int, lat: list[float], retracted: int, false: int) -> None:
        self.sets += 1
        self.exact += n_true == n_found
        self.max_abs_err = max(self.max_abs_err, abs(n_true - n_found))
        self.latencies_s += lat
        self.retracted += retracted
        self.false_outside_sets += false


def _angles(ex: Exercise, flex: np.ndarray, abd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return (flex, abd) if ex.primary is Angle.FLEXION else (abd, flex)


def pipeline_angles(
    s: SimSession, ex_posture: Posture
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, np.ndarray]:
    """Live AnglePipeline over the received samples, batch by batch, published as the session
    shows them: NaN until calibrated (supine, the calibration raise back-filled), lost samples
    bridged, an unchecked bridge's rows held back. The last array: when each row was shown."""
    keep = ~s.lost
    t, acc, gyr = s.t_s[keep], s.acc_mps2[keep], s.gyr_radps[keep]
    pipe = AnglePipeline(s.rate_hz, ex_posture, s.leg)
    shown, pre = Published.for_posture(ex_posture), list[AngleBatch]()
    rows = list[tuple[AngleBatch, float]]()
    start = np.inf
    n = batch_size(s.rate_hz)
    for i in range(0, t.size + n, n):  # then the sample left waiting after a gap
        batch = SampleBatch("sim", t[i : i + n], acc[i : i + n], gyr[i : i + n])
        ab = pipe.update(batch) if i < t.size else pipe.flush()
        now = float(t[min(i + n, t.size) - 1])
        if ab.backfill is not None:
            start = float(t[i + n]) if i + n < t.size else np.inf
            back = ab.backfill
            if ex_posture is not Posture.SUPINE:  # standing, the calibration swings are not reps
                back = _blank(back)
                if back.revision is not None:
                    back = replace(back, revision=_blank(back.revision))
            rows = [(r, now) for r in pre if r.t_s[0] < back.t_s[0]]
            rows.append((shown.add_all(back), now))  # released whole, as the session does
        elif np.isfinite(start):
            rows.append((shown.add(ab), now))
        else:
            pre.append(ab)
    rows += [(r, float(t[-1])) for r in [shown.finish()] if r is not None]
    if not np.isfinite(start):
        rows = [(r, float(t[-1])) for r in pre]
    t_all, flex, abd = (np.concatenate([getattr(r, f) for r, _ in rows])
                        for f in ("t_s", "flexion_deg", "abduction_deg"))  # fmt: skip
    when = np.concatenate([np.full(len(r), w) for r, w in rows])
    return t_all, flex, abd, start, when


def batch_size(rate_hz: float) -> int:
    """Samples per live batch at this rate."""
    return max(1, round(BATCH_S * rate_hz))


def _blank(b: AngleBatch) -> AngleBatch:
    nan = np.full(len(b), np.nan)
    return replace(b, flexion_deg=nan, abduction_deg=nan)


def truth_err_angles(
    s: SimSession, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    n = len(s)
    drift = np.cumsum(rng.normal(0.0, 0.3 / np.sqrt(s.rate_hz), (n, 2)), axis=0)  # ~0.3 deg/√s
    flex = s.flexion_deg + rng.normal(0.0, 0.3, n) + drift[:, 0]
    abd = s.abduction_deg + rng.normal(0.0, 0.3, n) + drift[:, 1]
    flex[s.lost], abd[s.lost] = np.nan, np.nan
    cal_end = max([g.end_s for g in s.segments if g.kind == "calibration-swings"], default=0.0)
    return s.t_s, flex, abd, cal_end


def stream(
    ex: Exercise, t: np.ndarray, p: np.ndarray, q: np.ndarray, *, start_s: float, leg: Leg,
    shown_at: np.ndarray | None = None, batch: int = 10,
) -> tuple[list[Rep], list[float], int]:  # fmt: skip
    """Feed the detector ``batch`` rows at a time from ``start_s``: reps, emission times,
    retracted. ``shown_at``: when each row reached the detector (held-back rows later than
    their time)."""
    det = RepDetector(ex, leg=leg)
    announced: list[float] = []
    idx = np.flatnonzero(t >= start_s)
    when = t if shown_at is None else shown_at
    for i in range(0, idx.size, batch):
        sl = idx[i : i + batch]
        for e in det.update(t[sl], p[sl], q[sl]):
            if isinstance(e, RepCompleted):
                announced.append(float(np.max(when[sl])))
    det.finish()
    return det.reps, announced, len(announced) - len(det.reps)


def score(
    s: SimSession, ex_id: str, reps: list[Rep], emitted: list[float]
) -> tuple[int, int, list[float], int]:
    truth = [r for r in s.reps if r.exercise_id == ex_id and r.leg is s.leg]
    sets = [(g.start_s, g.end_s) for g in s.segments if g.kind in ("set", "pause")]
    in_set = [any(a <= r.end_s <= b + 1.0 for a, b in sets) for r in reps]
    found = [e for e, ok in zip(emitted, in_set, strict=True) if ok]
    lat = (
        [e - tr.end_s for e, tr in zip(found, truth, strict=False)]
        if len(found) == len(truth)
        else []
    )
    return len(truth), len(found), lat, in_set.count(False)


def score_baseline(s: SimSession, ex_id: str) -> tuple[int, int]:
    """(true reps, reps the baseline counts): every find_peaks peak after its calibration."""
    ex = get_exercise(ex_id)
    keep = ~s.lost
    t, acc, gyr = s.t_s[keep], s.acc_mps2[keep], s.gyr_radps[keep]
    flex, abd, cal_end_s = baseline_angles(t, acc, gyr, s.rate_hz, posture=ex.posture, leg=s.leg)
    times = baseline_rep_times(t, primary_of(ex, flex, abd), ex)
    truth = [r for r in s.reps if r.exercise_id == ex_id and r.leg is s.leg]
    return len(truth), int(np.sum(times > cal_end_s))


def flag_stats(ex_id: str, plan: SessionPlan, reps: list, stats: Counter[str]) -> None:  # type: ignore[type-arg]
    """Compare live flags with what the simulated person did (SLR: one fast, one low rep)."""
    specs = [r for st in plan.steps if st.kind == "set" for r in st.reps]
    if len(specs) != len(reps):
        return
    for i, (spec, rep) in enumerate(zip(specs, reps, strict=True)):
        flags = set(rep.flags) - {"outward", "inward"}
        stats["reps"] += 1
        if ex_id == "hip-circles":
            # the simulator's "clockwise" circle rises on the outside (abduction first)
            stats["direction right"] += ("outward" in rep.flags) == spec.clockwise
        if ex_id == "slr" and i >= 2 and spec.rise_s < 0.6:
            stats["fast"] += 1
            stats["fast flagged rushed"] += RUSHED in flags
            flags.discard(RUSHED)
        elif ex_id == "slr" and i >= 2 and spec.peak_deg <= 25.5:
            stats["low"] += 1
            stats["low flagged short-range"] += SHORT_RANGE in flags
            flags.discard(SHORT_RANGE)
        for f in flags:
            stats[f"other: {f}"] += 1


def sim_sets(
    n_sets: int, tallies: dict[tuple[str, str], Tally], flags: dict[str, Counter[str]]
) -> None:
    for ex_id in CATALOGUE:
        ex = get_exercise(ex_id)
        for k in range(n_sets):
            seed = SEED0 + 97 * k + zlib.crc32(ex_id.encode()) % 97
            rng = np.random.default_rng(seed)
            leg = Leg.RIGHT if k % 2 else Leg.LEFT
            rate_hz = RATES_HZ[k % len(RATES_HZ)]
            plan = plan_set(ex_id, leg, int(rng.integers(12, 19)), rng)
            for mode in MODES:
                no_loss = Conditions.realistic().with_(lost_fraction=0.0)
                cond = no_loss if mode == NO_LOSS else Conditions.realistic()
                s = simulate(plan, rate_hz=rate_hz, seed=seed, conditions=cond)
                if mode == BASELINE:
                    tallies[(ex_id, mode)].add(*score_baseline(s, ex_id), [], 0, 0)
                    continue
                shown_at = None
                if mode != TRUTH:
                    t, flex, abd, start, shown_at = pipeline_angles(s, ex.posture)
                    if not np.isfinite(start):  # the angle pipeline never calibrated
                        tallies[(ex_id, mode)].cal_failed += 1
                        continue
                else:
                    t, flex, abd, start = truth_err_angles(s, rng)
                p, q = _angles(ex, flex, abd)
                start_s = start if mode == TRUTH else 0.0
                reps, emitted, retracted = stream(
                    ex, t, p, q, start_s=start_s, leg=leg, shown_at=shown_at,
                    batch=batch_size(rate_hz),
                )  # fmt: skip
                n_true, n_found, lat, false = score(s, ex_id, reps, emitted)
                tallies[(ex_id, mode)].add(n_true, n_found, lat, retracted, false)
                if mode == NO_LOSS:
                    flag_stats(ex_id, plan, reps, flags[ex_id])


def nuisance_sessions(n: int) -> dict[str, int]:
    """Reps counted while standing still / fidgeting, lying still / adjusting (should be 0)."""
    out: dict[str, int] = {}
    for posture, ex_ids in ((Posture.STANDING, ["swing-forward", "swing-lateral", "knee-drive",
                                                "straight-leg-march", "hip-circles"]),
                            (Posture.SUPINE, ["slr", "assisted-slr", "leg-lowering"])):  # fmt: skip
        false = 0
        for k in range(n):
            rng = np.random.default_rng(SEED0 + 7000 + k)
            leg = Leg.LEFT if k % 2 else Leg.RIGHT
            cal = plan_set("swing-forward" if posture is Posture.STANDING else "slr", leg, 1, rng)
            steps = [*cal.steps[:-1], PlanStep("still", posture, leg, 2.0)]
            for _ in range(8):
                steps += [PlanStep("fidget", posture, leg), PlanStep("still", posture, leg, 2.0)]
            s = simulate(SessionPlan(leg, posture, tuple(steps)), seed=k,
                         rate_hz=RATES_HZ[k % len(RATES_HZ)],
                         conditions=Conditions.realistic())  # fmt: skip
            t, flex, abd, _, _ = pipeline_angles(s, posture)
            quiet_from = max(g.end_s for g in s.segments if g.kind in ("set", "calibration-swings"))
            for ex_id in ex_ids:
                p, q = _angles(get_exercise(ex_id), flex, abd)
                reps, _, _ = stream(get_exercise(ex_id), t, p, q, start_s=quiet_from + 0.5,
                                    leg=leg, batch=batch_size(s.rate_hz))  # fmt: skip
                false += len(reps)
        out[f"{posture.value} still + fidgets ({n} sessions x {len(ex_ids)} exercises)"] = false
    return out


def _analyze_flags(path: Path) -> list[tuple[str, ...]]:
    """Each rep's flags from ``hipsense analyze --json``, the path a user runs (it checks the
    file's axes first, and its reps come from the live pass)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        cli_main(["analyze", str(path), "--exercise", "slr", "--leg", "right", "--json"])
    return [tuple(r["flags"]) for r in json.loads(out.getvalue())["reps"]]


def _flag_row(name: str, flags: list[tuple[str, ...]], true_n: int) -> str:
    third = true_n // 3
    good = sum(bool(f) for f in flags[:third])
    rushed = sum(RUSHED in f for f in flags[third : 2 * third])
    short = sum(SHORT_RANGE in f for f in flags[2 * third : 3 * third])
    return (f"| {name} | {len(flags)}/{true_n} | {rushed}/{third} | {short}/{third}"
            f" | {good}/{third} |")  # fmt: skip


def real_slr() -> list[str]:
    rows = []
    for subject in ("s1", "s2"):
        labels = json.loads((PT_DATA / subject / "labels.json").read_text())
        for kind in ("test", "template"):
            path = PT_DATA / subject / f"slr_{kind}_right_thigh.csv"
            d = np.loadtxt(path, delimiter=",", skiprows=1)
            true_n = labels[f"{kind}_session"]["rep_count"]
            rows.append(_flag_row(f"{subject} {kind} | analyze", _analyze_flags(path), true_n))
            for offline in (False, True):
                mode = "offline" if offline else "live"
                try:
                    t, acc, gyr = d[:, 0], d[:, 1:4], d[:, 4:7]
                    ab = compute_angles(
                        t, acc, gyr, 25.0, posture=Posture.SUPINE, leg=Leg.RIGHT, offline=offline
                    )
                except HipsenseError as exc:
                    rows.append(f"| {subject} {kind} | {mode} | angles failed: {exc} | | | |")
                    continue
                ex = get_exercise("slr")
                reps, _, _ = stream(
                    ex, ab.t_s, ab.flexion_deg, ab.abduction_deg, start_s=0.0, leg=Leg.RIGHT
                )
                flags = [r.flags for r in reps]
                rows.append(_flag_row(f"{subject} {kind} | bare {mode}", flags, true_n))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", type=int, default=12, help="simulated sets per exercise")
    args = ap.parse_args()
    t0 = time.perf_counter()
    tallies = {(e, m): Tally() for e in CATALOGUE for m in MODES}
    flags: dict[str, Counter[str]] = {e: Counter() for e in CATALOGUE}
    sim_sets(args.sets, tallies, flags)
    rates = "/".join(f"{r:.0f}" for r in RATES_HZ)
    print(f"## Simulated sets (12-18 reps, realistic conditions, {rates} Hz in turn,"
          f" seeds {SEED0}+)\n")  # fmt: skip
    print("| exercise | angles | sets | exact | max abs err | p95 latency s | retracted"
          " | reps outside sets | calibration failed |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for (ex_id, mode), tl in tallies.items():
        p95 = np.percentile(tl.latencies_s, 95) if tl.latencies_s else float("nan")
        print(f"| {ex_id} | {mode} | {tl.sets} | {100 * tl.exact / max(1, tl.sets):.0f} % |"
              f" {tl.max_abs_err} | {p95:.2f} | {tl.retracted} | {tl.false_outside_sets} |"
              f" {tl.cal_failed} |")  # fmt: skip
    for mode in MODES:
        tls = [tl for (_, m), tl in tallies.items() if m == mode]
        lat = np.concatenate([tl.latencies_s for tl in tls]) if mode != BASELINE else [np.nan]
        print(f"| **all** | {mode} | {sum(t.sets for t in tls)} |"
              f" {100 * sum(t.exact for t in tls) / sum(t.sets for t in tls):.1f} % |"
              f" {max(t.max_abs_err for t in tls)} | {np.percentile(lat, 95):.2f} |"
              f" {sum(t.retracted for t in tls)} | {sum(t.false_outside_sets for t in tls)} |"
              f" {sum(t.cal_failed for t in tls)} |")  # fmt: skip
    print("\n## Live flags on the same sets (pipeline, no loss; reps 3+ for the SLR kinds)\n")
    for ex_id, c in flags.items():
        extra = ", ".join(f"{k[7:]} {v}" for k, v in sorted(c.items()) if k.startswith("other"))
        kinds = ""
        if c["fast"] or c["low"]:
            fast = f"{c['fast flagged rushed']}/{c['fast']}"
            low = f"{c['low flagged short-range']}/{c['low']}"
            kinds = f"fast reps flagged rushed {fast}, low reps flagged short-range {low}; "
        if ex_id == "hip-circles":
            kinds = f"direction right {c['direction right']}/{c['reps']}; "
        print(f"- {ex_id}: {c['reps']} reps; {kinds}other flags: {extra or 'none'}")
    print("\n## Nuisance-only sessions (reps counted; target 0)\n")
    for name, n in nuisance_sessions(max(2, args.sets // 3)).items():
        print(f"- {name}: {n}")
    if PT_DATA.is_dir():
        print("\n## Real SLR (pt_exercises, right thigh, 25 Hz)\n")
        print("analyze: `hipsense analyze --json`, what a user runs (it checks the file's axes")
        print("first). bare live/offline: compute_angles and the detector alone, no axis check")
        print("(subject 2's gyroscope disagrees with its accelerometer, see the README).\n")
        print("| session | angles | reps | fast flagged rushed | low flagged short-range"
              " | false flags in correct reps |")  # fmt: skip
        print("|---|---|---|---|---|---|")
        print("\n".join(real_slr()))
    else:
        print(f"\n(real SLR data skipped: {PT_DATA} not found)")
    print(f"\n(bench took {time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
