"""Gap decisions: a bridge is judged by the cubic built; a failed strict check re-anchors."""

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from hipsense.exercises import Leg, Posture
from hipsense.samples import SampleBatch
from hipsense.signal import propagation
from hipsense.signal.angles import AnglePipeline, compute_angles
from hipsense.signal.calibration import MountingCalibration
from hipsense.signal.gap_fill import Expanded, gap_bridges
from hipsense.signal.orientation import OrientationEstimator
from hipsense.signal.propagation import MAX_SLOPE_TURN_DEG, GapPlan, GapWatch
from hipsense.sim import Conditions, SimSession, plan_set, simulate


def _bursty(exercise: str, leg: Leg, seed: int, rate_hz: float) -> SimSession:
    """A set with short bursts lost (many gaps, some in fast motion)."""
    plan = plan_set(exercise, leg, 4, np.random.default_rng(seed))
    c = Conditions.realistic().with_(lost_fraction=0.2, lost_burst=10)
    return simulate(plan, rate_hz=rate_hz, seed=seed, conditions=c)


def _fed(
    s: SimSession, posture: Posture, size: int, monkeypatch: pytest.MonkeyPatch
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per received sample, the turn GapWatch judged the bridge before it by; and the gyro
    fused (lost slots included) with the received samples' rows in it, the session fed in
    batches of ``size``."""
    turns: list[np.ndarray] = []
    fused: list[Expanded] = []
    plan = GapWatch.plan
    propagate = propagation.propagate

    def spy_plan(self: GapWatch, *args: Any, **kw: Any) -> GapPlan:
        gyr, prev = args[5]  # the gyro (held over invalid samples) and the two rows before it
        turns.append(gap_bridges(gyr, prev, args[0]).turn_deg(self.rate_hz))
        return plan(self, *args, **kw)

    def spy_propagate(*args: Any, **kw: Any) -> Any:
        fused.append(args[1])
        return propagate(*args, **kw)

    monkeypatch.setattr(GapWatch, "plan", spy_plan)
    monkeypatch.setattr("hipsense.signal.angles.propagate", spy_propagate)
    cal = MountingCalibration.from_rotation(s.mounting.r_ts, posture, s.leg)
    pipe = AnglePipeline(s.rate_hz, posture, s.leg, cal)
    keep = ~s.lost
    t, acc, gyr = s.t_s[keep], s.acc_mps2[keep], s.gyr_radps[keep]
    for i in range(0, len(t), size):
        pipe.update(SampleBatch("s", t[i : i + size], acc[i : i + size], gyr[i : i + size]))
    monkeypatch.undo()
    starts = np.cumsum([0] + [len(x.gyr_radps) for x in fused[:-1]])
    rows = np.concatenate([x.real_index + a for x, a in zip(fused, starts, strict=True)])
    return np.concatenate(turns), np.concatenate([x.gyr_radps for x in fused]), rows


def _built_turn_deg(gyr_x: np.ndarray, rows: np.ndarray, j: int, rate_hz: float) -> float:
    """The turn of the bridge actually inserted before received sample ``j``. A cubic: its
    slots minus the straight line are span (h10 (m0 - secant) + h11 (m1 - secant)); solved
    for both slope differences, it integrates to |m0 - m1| span^2 / 12 sample periods.
    Anything else (a leg stopping in the gap): its slots minus the line, summed."""
    a, b = rows[j - 1], rows[j]
    span = b - a
    s = (np.arange(1, span) / span)[:, None]
    line = gyr_x[a] + s * (gyr_x[b] - gyr_x[a])
    basis = span * np.hstack([s**3 - 2 * s**2 + s, s**3 - s**2])
    (d_in, d_out), *_ = np.linalg.lstsq(basis, gyr_x[a + 1 : b] - line, rcond=None)
    if np.allclose(basis @ np.vstack([d_in, d_out]), gyr_x[a + 1 : b] - line, atol=1e-9):
        return float(np.degrees(np.linalg.norm(d_in - d_out) * span**2 / 12 / rate_hz))
    return float(np.degrees(np.linalg.norm(np.sum(gyr_x[a + 1 : b] - line, axis=0)) / rate_hz))


@pytest.mark.parametrize(
    ("exercise", "posture", "leg", "seed"),
    [("knee-drive", Posture.STANDING, Leg.LEFT, 8), ("slr", Posture.SUPINE, Leg.RIGHT, 5)],
)
def test_a_bridge_is_judged_by_the_cubic_built_whatever_the_batch_sizes(
    exercise: str, posture: Posture, leg: Leg, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = _bursty(exercise, leg, seed, 50.0)
    keep = ~s.lost
    gap_at = np.flatnonzero(np.concatenate([[False], s.lost[:-1]])[keep])
    gap_at = gap_at[gap_at > 0]
    assert len(gap_at) > 20  # enough gaps to tell
    whole, _, _ = _fed(s, posture, int(keep.sum()), monkeypatch)
    steep = whole[gap_at] > MAX_SLOPE_TURN_DEG
    assert steep.any() and not steep.all()
    for size in (1, 7, int(keep.sum())):
        turn, gyr_x, rows = _fed(s, posture, size, monkeypatch)
        built = [_built_turn_deg(gyr_x, rows, int(j), s.rate_hz) for j in gap_at]
        np.testing.assert_allclose(turn[gap_at], built, rtol=1e-6, atol=1e-6, err_msg=f"{size}")
        # Where the sample after the gap came in the same batch, its slope out is known in
        # both runs, so both build, and judge, the same cubic.
        known = gap_at[(gap_at + 1) % size != 0]
        np.testing.assert_array_equal(turn[known], whole[known], err_msg=f"batches of {size}")


def test_a_failed_strict_check_re_anchors_when_its_span_has_no_calm_samples(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The span's repair anchors on its calm samples; without any, the check itself must."""
    plan = plan_set("knee-drive", Leg.LEFT, 4, np.random.default_rng(3))
    s = simulate(plan, rate_hz=100.0, seed=3, conditions=Conditions.clean())
    keep = np.ones(len(s), dtype=bool)
    for rep in s.reps:  # each drive starts inside a 0.2 s gap: the bridge misses its rise
        keep &= ~((s.t_s > rep.start_s) & (s.t_s < rep.start_s + 0.2))

    gyro_path: Callable[..., np.ndarray] = propagation._gyro_path

    def no_calm(state: propagation.BridgeState, *args: Any) -> np.ndarray:
        out = gyro_path(state, *args)
        state.calm = state.trusted = np.empty((0, 3))
        return out

    realigned: list[int] = []
    realign = OrientationEstimator.realign

    def count(self: OrientationEstimator, acc: np.ndarray) -> None:
        realigned.append(1)
        realign(self, acc)

    failed: list[int] = []
    strict_failed: list[int] = []
    propagate = propagation.propagate

    def spy(*args: Any, **kw: Any) -> Any:
        quat, bad, bridges = propagate(*args, **kw)
        check, strict = np.asarray(args[3]), np.asarray(args[4])
        failed.append(int(bad.sum()))
        strict_failed.append(int((bad & check & strict).sum()))
        return quat, bad, bridges

    monkeypatch.setattr(propagation, "_gyro_path", no_calm)
    monkeypatch.setattr(OrientationEstimator, "realign", count)
    monkeypatch.setattr("hipsense.signal.angles.propagate", spy)
    cal = MountingCalibration.from_rotation(s.mounting.r_ts, Posture.STANDING, Leg.LEFT)
    compute_angles(s.t_s[keep], s.acc_mps2[keep], s.gyr_radps[keep], 100.0,
                   posture=Posture.STANDING, leg=Leg.LEFT, calibration=cal,
                   offline=False)  # fmt: skip
    assert sum(strict_failed) > 0  # strict checks inside a span did fail
    assert len(realigned) == sum(failed)  # each failed check re-anchored the filter once
