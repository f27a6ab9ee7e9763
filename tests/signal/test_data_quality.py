import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from hipsense.exercises import Leg, Posture
from hipsense.samples import SampleBatch
from hipsense.signal.angles import AnglePipeline
from hipsense.signal.calibration import MountingCalibration
from hipsense.signal.data_quality import DataQualityKind, SampleChecker

RATE_HZ = 100.0


def _clean(n: int, t0: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = t0 + np.arange(n) / RATE_HZ
    return t, np.tile([0.0, 0.0, 9.81], (n, 1)), np.zeros((n, 3))


def _kinds(checked) -> list[DataQualityKind]:  # type: ignore[no-untyped-def]
    return [e.kind for e in checked.events]


def test_clean_data_is_all_valid_and_silent() -> None:
    checked = SampleChecker(RATE_HZ).check(*_clean(200))
    assert checked.valid.all() and checked.events == ()


def test_nan_and_saturated_runs_are_invalid_and_reported_once_per_run() -> None:
    t, acc, gyr = _clean(100)
    acc[10:13, 1] = np.nan
    gyr[50:55, 2] = np.radians(2000.0)
    checked = SampleChecker(RATE_HZ).check(t, acc, gyr)
    assert _kinds(checked) == [DataQualityKind.NON_FINITE, DataQualityKind.SATURATED]
    assert [e.n_samples for e in checked.events] == [3, 5]
    assert checked.events[0].t_s == t[10]
    assert np.flatnonzero(~checked.valid).tolist() == [10, 11, 12, 50, 51, 52, 53, 54]


def test_gaps_across_batches_count_lost_samples_and_long_ones_restart() -> None:
    checker = SampleChecker(RATE_HZ)
    checker.check(*_clean(50))
    t, acc, gyr = _clean(50, t0=0.49 + 5 / RATE_HZ)  # 4 samples lost after t=0.49
    checked = checker.check(t, acc, gyr)
    assert _kinds(checked) == [DataQualityKind.GAP]
    assert checked.missing_before[0] == 4 and not checked.reset_before.any()
    jumped = checker.check(*_clean(10, t0=10.0))
    assert _kinds(jumped) == [DataQualityKind.TIME_JUMP]
    assert jumped.reset_before[0] and jumped.missing_before[0] == 0


def test_sequence_counter_losses_are_gaps_too() -> None:
    checker = SampleChecker(RATE_HZ)
    checker.check(*_clean(10))
    t, acc, gyr = _clean(10, t0=0.1)
    checked = checker.check(t, acc, gyr, lost_before=np.array([3] + [0] * (len(t) - 1)))
    assert checked.missing_before[0] == 3 and _kinds(checked) == [DataQualityKind.GAP]


def test_a_backwards_timestamp_invalidates_that_sample_only() -> None:
    t, acc, gyr = _clean(20)
    t[7] = t[2]
    checked = SampleChecker(RATE_HZ).check(t, acc, gyr)
    assert np.flatnonzero(~checked.valid).tolist() == [7]
    assert DataQualityKind.NON_MONOTONIC in _kinds(checked)


def test_pipeline_turns_bad_samples_into_nan_angles_and_recovers() -> None:
    cal = MountingCalibration.from_rotation(np.eye(3), Posture.STANDING, Leg.LEFT)
    pipe = AnglePipeline(RATE_HZ, Posture.STANDING, Leg.LEFT, cal)
    t, acc, gyr = _clean(300)
    acc[100:120] = np.inf
    out = pipe.update(SampleBatch("s", t, acc, gyr))
    assert np.isnan(out.flexion_deg[100:120]).all() and not out.valid[100:120].any()
    np.testing.assert_allclose(out.flexion_deg[200:], 0.0, atol=0.05)
    assert out.events[0].kind is DataQualityKind.NON_FINITE


finite_or_not = st.floats(allow_nan=True, allow_infinity=True, width=32)


@settings(max_examples=60, deadline=None)
@given(
    acc=arrays(np.float64, (40, 3), elements=finite_or_not),
    gyr=arrays(np.float64, (40, 3), elements=finite_or_not),
    t=arrays(np.float64, 40, elements=finite_or_not),
)
def test_garbage_never_crashes_and_never_becomes_an_angle(
    acc: np.ndarray, gyr: np.ndarray, t: np.ndarray
) -> None:
    cal = MountingCalibration.from_rotation(np.eye(3), Posture.STANDING, Leg.RIGHT)
    pipe = AnglePipeline(RATE_HZ, Posture.STANDING, Leg.RIGHT, cal)
    # A last sample after a gap waits for the next batch: flushed, every sample is out.
    outs = [pipe.update(SampleBatch("s", t, acc, gyr)), pipe.flush()]
    valid, flexion, quat = (np.concatenate([getattr(o, f) for o in outs])
                            for f in ("valid", "flexion_deg", "quat_wxyz"))  # fmt: skip
    bad = ~(np.isfinite(acc).all(1) & np.isfinite(gyr).all(1) & np.isfinite(t))
    assert not valid[bad].any()
    assert np.isnan(flexion[~valid]).all()
    assert np.isfinite(quat).all()
