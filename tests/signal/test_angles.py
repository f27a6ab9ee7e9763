import itertools

import numpy as np
import pytest

from hipsense.exercises import Leg, Posture
from hipsense.samples import SampleBatch
from hipsense.signal.angles import AnglePipeline, compute_angles, thigh_angles
from hipsense.signal.calibration import MountingCalibration
from hipsense.signal.thigh_frame import rot_x, rot_y, rot_z, thigh_rotation
from hipsense.sim import SimSession

RATE_HZ = 100.0
BODY_IN_WORLD = {Posture.STANDING: np.eye(3), Posture.SUPINE: rot_y(-np.pi / 2)}


def _quat_from_matrix(r: np.ndarray) -> np.ndarray:
    from scipy.spatial.transform import Rotation

    xyzw = Rotation.from_matrix(r).as_quat()
    return np.column_stack([xyzw[:, 3], xyzw[:, :3]])


@pytest.mark.parametrize("posture", list(Posture))
@pytest.mark.parametrize("leg", list(Leg))
def test_angles_are_recovered_for_any_heading_and_mounting(posture: Posture, leg: Leg) -> None:
    rng = np.random.default_rng(5)
    n = 400
    flex, abd = rng.uniform(-30, 100, n), rng.uniform(-30, 40, n)
    if posture is Posture.SUPINE:
        flex, abd = rng.uniform(0, 85, n), rng.uniform(-20, 20, n)
    r_ts = rot_x(rng.uniform(-np.pi, np.pi)) @ rot_y(rng.uniform(-np.pi, np.pi))
    heading = rot_z(rng.uniform(-np.pi, np.pi, n))  # rotation about world up
    r_ws = heading @ BODY_IN_WORLD[posture] @ thigh_rotation(flex, abd, leg) @ r_ts
    cal = MountingCalibration.from_rotation(r_ts, posture, leg)
    got_flex, got_abd = thigh_angles(_quat_from_matrix(r_ws), cal)
    np.testing.assert_allclose(got_flex, flex, atol=1e-9)
    if posture is Posture.STANDING:  # supine abduction turns about the vertical: unseen
        np.testing.assert_allclose(got_abd, abd, atol=1e-9)


def _recording(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / RATE_HZ
    gyr = np.stack([np.sin(2 * np.pi * f * t + p) for f, p in rng.uniform(0.1, 1.5, (3, 2))], 1)
    acc = np.array([0.5, -0.3, 9.7]) + 0.3 * rng.standard_normal((n, 3))
    acc[500:520] = np.nan  # invalid samples
    gyr[900:905] = np.radians(2500.0)  # saturated
    t[1200:] += 0.07  # 6 samples lost
    t[2000:] += 3.0  # a time jump: orientation restarts
    return t, acc, gyr


def test_streaming_in_random_batches_equals_the_one_shot_causal_result() -> None:
    t, acc, gyr = _recording(3000, 11)
    cal = MountingCalibration.from_rotation(rot_x(0.4) @ rot_y(-1.2), Posture.STANDING, Leg.RIGHT)
    whole = compute_angles(
        t, acc, gyr, RATE_HZ, posture=Posture.STANDING, leg=Leg.RIGHT, calibration=cal,
        offline=False,
    )  # fmt: skip
    cuts = np.sort(np.random.default_rng(3).choice(np.arange(1, 3000), 60, replace=False))
    pipe = AnglePipeline(RATE_HZ, Posture.STANDING, Leg.RIGHT, cal)
    parts = [
        pipe.update(SampleBatch("s", ts, a, g))
        for ts, a, g in zip(
            np.split(t, cuts), np.split(acc, cuts), np.split(gyr, cuts), strict=True
        )
    ]
    np.testing.assert_array_equal(np.concatenate([p.flexion_deg for p in parts]), whole.flexion_deg)
    np.testing.assert_array_equal(np.concatenate([p.valid for p in parts]), whole.valid)
    kinds = [e.kind for p in parts for e in p.events]
    assert kinds == [e.kind for e in whole.events]
    assert len(kinds) == 4
    # 20 NaN + 5 saturated + 15 settling after the restart (3 s gap).
    assert (~whole.valid).sum() == 40 and not whole.valid[2000:2015].any()


def test_an_empty_batch_changes_nothing_and_releases_no_held_row() -> None:
    from hipsense.signal.angles import Published
    from hipsense.sim import Conditions, plan_set, simulate

    c = Conditions.realistic().with_(lost_fraction=0.2, lost_burst=10)
    s = simulate(plan_set("knee-drive", Leg.LEFT, 4, np.random.default_rng(8)), rate_hz=50.0,
                 seed=8, conditions=c)  # fmt: skip
    keep = ~s.lost
    t, acc, gyr = s.t_s[keep], s.acc_mps2[keep], s.gyr_radps[keep]
    cal = MountingCalibration.from_rotation(s.mounting.r_ts, Posture.STANDING, Leg.LEFT)
    empty = SampleBatch("s", np.zeros(0), np.zeros((0, 3)), np.zeros((0, 3)))

    def shown(with_empty: bool) -> tuple[np.ndarray, np.ndarray, int]:
        pipe = AnglePipeline(50.0, Posture.STANDING, Leg.LEFT, cal)
        published, rows, holding = Published(), [], 0
        for i in range(0, len(t), 7):
            batch = SampleBatch("s", t[i : i + 7], acc[i : i + 7], gyr[i : i + 7])
            rows.append(published.add(pipe.update(batch)))
            if with_empty:
                out = pipe.update(empty)
                holding += out.held_from_s is not None
                rows.append(published.add(out))
        rest = published.finish()
        rows += [] if rest is None else [rest]
        flex = np.concatenate([r.flexion_deg for r in rows])
        return np.concatenate([r.t_s for r in rows]), flex, holding

    t_plain, flex_plain, _ = shown(False)
    t_empty, flex_empty, holding = shown(True)
    assert holding > 0  # empty batches came while a bridge's rows were held
    np.testing.assert_array_equal(t_empty, t_plain)
    np.testing.assert_array_equal(flex_empty, flex_plain)


def test_without_calibration_angles_wait_and_progress_is_reported() -> None:
    pipe = AnglePipeline(RATE_HZ, Posture.STANDING, Leg.LEFT)
    t = np.arange(100) / RATE_HZ
    out = pipe.update(SampleBatch("s", t, np.tile([0, 0, 9.81], (100, 1)), np.zeros((100, 3))))
    assert not out.valid.any() and np.isnan(out.flexion_deg).all()
    assert out.progress is not None and out.progress.message == "stand still"
    assert out.progress.fraction == pytest.approx(0.5, abs=0.05)


def test_a_gap_hiding_a_knee_drive_is_re_anchored_not_carried_for_seconds() -> None:
    from hipsense.sim import Conditions, plan_set, simulate

    s = simulate(plan_set("knee-drive", Leg.LEFT, 4, np.random.default_rng(2)), rate_hz=50.0,
                 seed=2, conditions=Conditions.clean())  # fmt: skip
    rep = s.reps[1]
    lost = (s.t_s > rep.start_s + 0.1) & (s.t_s < rep.start_s + 0.5)  # most of the rise
    keep = ~lost
    cal = MountingCalibration.from_rotation(s.mounting.r_ts, Posture.STANDING, Leg.LEFT)
    kw = {"posture": Posture.STANDING, "leg": Leg.LEFT, "calibration": cal, "offline": False}
    out = compute_angles(s.t_s[keep], s.acc_mps2[keep], s.gyr_radps[keep], 50.0, **kw)  # type: ignore[arg-type]
    after = (s.t_s[keep] > rep.end_s) & (s.t_s[keep] < rep.end_s + 2.0) & out.valid
    err = np.abs(out.flexion_deg - s.flexion_deg[keep])[after]
    assert after.sum() > 50 and err.max() < 2.0


@pytest.mark.parametrize(("exercise_id", "leg", "seed"), [
    ("swing-forward", Leg.RIGHT, 21), ("swing-lateral", Leg.LEFT, 22), ("slr", Leg.RIGHT, 23),
])  # fmt: skip
def test_live_pipeline_calibrates_itself_and_tracks_the_truth(
    exercise_id: str, leg: Leg, seed: int
) -> None:
    from hipsense.exercises import CATALOGUE
    from hipsense.sim import Conditions, plan_set, simulate

    plan = plan_set(exercise_id, leg, 4, np.random.default_rng(seed))
    s = simulate(plan, rate_hz=100.0, seed=seed, conditions=Conditions.clean().with_(
        random_mounting=True))  # fmt: skip
    pipe = AnglePipeline(100.0, CATALOGUE[exercise_id].posture, leg)
    chunks = [slice(i, i + 16) for i in range(0, len(s), 16)]
    outs = [pipe.update(SampleBatch("s", s.t_s[c], s.acc_mps2[c], s.gyr_radps[c])) for c in chunks]
    assert pipe.calibration is not None
    assert [o.progress.phase for o in outs if o.progress][-1] == "done"
    got = np.concatenate([o.abduction_deg if exercise_id == "swing-lateral" else o.flexion_deg
                          for o in outs])  # fmt: skip
    want = s.abduction_deg if exercise_id == "swing-lateral" else s.flexion_deg
    in_set = np.zeros(len(s), bool)
    for g in s.segments:
        in_set |= (g.kind == "set") & (s.t_s >= g.start_s) & (s.t_s < g.end_s)
    ok = in_set & np.isfinite(got)
    assert ok.sum() > 0.9 * in_set.sum()
    assert np.sqrt(np.mean((got[ok] - want[ok]) ** 2)) < 0.5


def test_a_short_gap_in_a_fast_swing_is_bridged_and_stays_valid() -> None:
    from hipsense.sim import Conditions, plan_set, simulate

    s = simulate(plan_set("swing-forward", Leg.RIGHT, 4, np.random.default_rng(5)), rate_hz=50.0,
                 seed=5, conditions=Conditions.clean())  # fmt: skip
    rep = s.reps[-1]
    in_rep = np.flatnonzero((s.t_s > rep.start_s) & (s.t_s < rep.end_s))
    fastest = in_rep[np.argmax(np.linalg.norm(s.gyr_radps[in_rep], axis=1))]
    keep = np.ones(len(s), bool)
    keep[fastest - 4 : fastest + 4] = False  # 0.16 s lost at the swing's fastest, a reconnect
    cal = MountingCalibration.from_rotation(s.mounting.r_ts, Posture.STANDING, Leg.RIGHT)
    out = compute_angles(s.t_s[keep], s.acc_mps2[keep], s.gyr_radps[keep], 50.0,
                         posture=Posture.STANDING, leg=Leg.RIGHT, calibration=cal,
                         offline=False)  # fmt: skip
    after = (s.t_s[keep] > s.t_s[fastest]) & (s.t_s[keep] < rep.end_s + 1.0)
    assert np.degrees(np.linalg.norm(s.gyr_radps[fastest])) > 150
    assert out.valid[after].all()
    assert np.abs(out.flexion_deg - s.flexion_deg[keep])[after].max() < 1.5


def test_an_uncalibrated_accelerometer_offset_is_learnt_at_rest() -> None:
    """A 0.08 g offset along the neutral up tilts a 60-80 deg raise by ~3 deg unless learnt."""
    from hipsense.sim import Conditions, plan_set, simulate

    s = simulate(plan_set("slr", Leg.LEFT, 3, np.random.default_rng(8)), rate_hz=100.0, seed=8,
                 conditions=Conditions.clean().with_(random_mounting=True))  # fmt: skip
    cal = MountingCalibration.from_rotation(s.mounting.r_ts, Posture.SUPINE, Leg.LEFT)
    up0 = cal.r_ts[0]  # thigh x is up when lying: the neutral rest direction
    acc = s.acc_mps2 + 0.08 * 9.80665 * up0
    err = {}
    for learn in (False, True):
        out = compute_angles(s.t_s, acc, s.gyr_radps, 100.0, posture=Posture.SUPINE,
                             leg=Leg.LEFT, calibration=cal, offline=False,
                             rest_offset=learn)  # fmt: skip
        peaks = [
            np.nanmax(out.flexion_deg[(s.t_s >= r.start_s) & (s.t_s <= r.end_s)]) - r.peak_deg
            for r in s.reps
        ]
        err[learn] = np.abs(peaks).max()
    assert err[False] > 1.0 and err[True] < 0.3, err


def test_rest_offset_is_seen_along_each_rest_direction_for_any_batch_split() -> None:
    from hipsense.signal.rest_offset import RestOffset

    b = np.array([0.5, -0.3, 0.7])
    ups = [np.array([0.0, 0.0, 1.0]), np.array([np.sin(1.2), 0.0, np.cos(1.2)])]
    rng = np.random.default_rng(1)
    acc = np.vstack([np.tile(9.80665 * u + b, (300, 1)) for u in ups])
    acc += rng.normal(0, 0.02, acc.shape)
    gyr = np.radians(2.0) + rng.normal(0, 0.002, acc.shape)  # an uncalibrated gyro at rest
    ok = np.ones(len(acc), bool)
    whole = RestOffset(RATE_HZ).update(acc, gyr, ok)
    split, cuts = RestOffset(RATE_HZ), [0, 7, 150, 151, 420, 600]
    parts = [split.update(acc[a:c], gyr[a:c], ok[a:c]) for a, c in itertools.pairwise(cuts)]
    np.testing.assert_array_equal(np.concatenate(parts), whole)
    for u in ups:  # the offset along both rest directions (y was never up: unknown)
        assert abs(whole[-1] @ u - b @ u) < 0.05  # 5 mg: |a| - g = b.up holds to O(b^2)
    assert abs(whole[-1][1]) < 0.05


def test_first_raise_is_back_filled_with_the_bias_the_calibration_learnt() -> None:
    """Supine, the first raise calibrates: once it is known, the samples before are fused
    again with the gyro bias from the still phase, so the first raise is as good as later ones."""
    from hipsense.sim import Conditions, plan_set, simulate

    cond = Conditions.clean().with_(
        random_mounting=True, gyro_noise=True, gyro_bias=True, acc_noise=True, acc_bias=True
    )
    s = simulate(plan_set("slr", Leg.RIGHT, 3, np.random.default_rng(31)), rate_hz=50.0,
                 seed=31, conditions=cond)  # fmt: skip
    pipe = AnglePipeline(50.0, Posture.SUPINE, Leg.RIGHT)
    chunks = [slice(i, i + 5) for i in range(0, len(s), 5)]
    outs = [pipe.update(SampleBatch("s", s.t_s[c], s.acc_mps2[c], s.gyr_radps[c])) for c in chunks]
    backs = [o.backfill for o in outs if o.backfill is not None]
    assert len(backs) == 1
    back = backs[0]
    before = np.concatenate([o.t_s for o in outs if o.t_s[-1] <= back.t_s[-1]])
    np.testing.assert_array_equal(back.t_s, before)  # every sample until the calibration
    later = [o for o in outs if o.t_s[0] > back.t_s[-1]]
    flex = np.concatenate([back.flexion_deg, *[o.flexion_deg for o in later]])
    for rep in s.reps:
        w = (s.t_s >= rep.start_s) & (s.t_s <= rep.end_s)
        assert abs(np.nanmax(flex[w]) - rep.peak_deg) < 1.0, rep.index


def test_a_motion_onset_after_rest_teaches_no_offset() -> None:
    """The averaged gyro lags a leg's spin-up: its first samples pass as calm, but their |a|
    carries the tangential acceleration. Rest is confirmed only by calm samples after it."""
    from hipsense.signal.rest_offset import RestOffset

    n_rest, n_up = 100, 30
    ramp = np.linspace(0.0, np.radians(60.0), n_up)  # 0 -> 60 deg/s in 0.3 s
    gyr = np.zeros((n_rest + n_up, 3))
    gyr[n_rest:, 1] = ramp
    acc = np.tile([0.0, 0.0, 9.80665], (n_rest + n_up, 1))
    acc[n_rest:, 2] += 0.12  # alpha r: 2 rad/s^2 at 0.25 m, along up at the raise's start
    offsets = RestOffset(RATE_HZ).update(acc, gyr, np.ones(len(acc), bool))
    assert np.abs(offsets).max() < 0.005


def _published(pipe: AnglePipeline, s: SimSession, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(t, flexion) of every sample as last published, the back-fill included, fed ``size``
    samples at a time."""
    t, acc, gyr = s.t_s, s.acc_mps2, s.gyr_radps
    times, flex = [], []
    for i in range(0, len(t), size):
        out = pipe.update(SampleBatch("s", t[i : i + size], acc[i : i + size], gyr[i : i + size]))
        for part in [out, out.backfill]:  # the back-fill holds the batch's rows too
            if part is not None:
                times.append(part.t_s)
                flex.append(part.flexion_deg)
    latest_t, first = np.unique(np.concatenate(times)[::-1], return_index=True)
    return latest_t, np.concatenate(flex)[::-1][first]


@pytest.mark.parametrize(("exercise_id", "seed"), [("knee-drive", 3), ("slr", 7)])
def test_the_angles_after_a_calibration_do_not_depend_on_where_the_batches_end(
    exercise_id: str, seed: int
) -> None:
    """The calibration completes at the end of a batch. It used to take the samples up to
    that end, the offset learnt up to it, and set the still phase's gyro bias there: live (a
    notification's samples per batch) and analyze (a tenth of a second) differed by 1e-4 deg
    and more, for the whole session. Now its still phase ends where it had lasted, and the
    back-fill sets the bias, takes the offset and removes the lever arm's acceleration from
    that sample on, as live fuses the samples after the batch."""
    from hipsense.exercises import CATALOGUE
    from hipsense.sim import Conditions, plan_set, simulate

    cond = Conditions.realistic().with_(lost_fraction=0.0)
    s = simulate(plan_set(exercise_id, Leg.RIGHT, 4, np.random.default_rng(seed)),
                 rate_hz=100.0, seed=seed, conditions=cond)  # fmt: skip
    posture = CATALOGUE[exercise_id].posture
    runs = [_published(AnglePipeline(100.0, posture, Leg.RIGHT), s, n) for n in (10, 19, 7)]
    for t, flex in runs[1:]:
        np.testing.assert_array_equal(t, runs[0][0])
        np.testing.assert_allclose(flex, runs[0][1], rtol=0, atol=1e-9, equal_nan=True)
