import json

import numpy as np
import pytest

from hipsense.errors import CalibrationError
from hipsense.samples import STANDARD_GRAVITY_MPS2, SampleBatch
from hipsense.signal.sensor_calibration import SensorCalibration, SixFaceGuide, calibrate_sensor

RATE_HZ = 100.0
OFFSET = np.array([0.3, -0.2, 0.45])
SCALE = np.array([1.02, 0.97, 1.01])
BIAS = np.radians([1.5, -3.0, 0.7])


def _six_faces(faces: list[np.ndarray], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Raw readings of a sensor held still on each face, with short turns in between."""
    rng = np.random.default_rng(seed)
    acc, gyr = [], []
    for down in faces:
        true = -STANDARD_GRAVITY_MPS2 * down  # the accelerometer reads up when face `down` is down
        raw = true / SCALE + OFFSET
        acc.append(raw + 0.02 * rng.standard_normal((250, 3)))
        gyr.append(BIAS + 0.002 * rng.standard_normal((250, 3)))
        acc.append(raw + rng.normal(0, 3.0, (60, 3)))  # turning to the next face
        gyr.append(rng.normal(0, 2.0, (60, 3)))
    return np.concatenate(acc), np.concatenate(gyr)


FACES = [np.eye(3)[i] * s for i in range(3) for s in (1.0, -1.0)]


def test_six_faces_recover_offset_scale_and_gyro_bias() -> None:
    acc, gyr = _six_faces([*FACES, np.array([0.6, 0.0, 0.8])])
    cal = calibrate_sensor(acc, gyr, RATE_HZ)
    np.testing.assert_allclose(cal.acc_offset_mps2, OFFSET, atol=0.01)
    np.testing.assert_allclose(cal.acc_scale, SCALE, atol=0.002)
    np.testing.assert_allclose(cal.gyr_bias_radps, BIAS, atol=1e-3)
    fixed, _ = cal.apply_arrays(acc[:200], gyr[:200])
    assert abs(np.linalg.norm(fixed.mean(axis=0)) - STANDARD_GRAVITY_MPS2) < 0.01


def test_missing_faces_are_named() -> None:
    acc, gyr = _six_faces(FACES[:4])
    with pytest.raises(CalibrationError, match=r"not seen yet: \+z, -z"):
        calibrate_sensor(acc, gyr, RATE_HZ)


def test_apply_to_a_batch_and_round_trip() -> None:
    cal = SensorCalibration((0.1, 0.2, 0.3), (1.0, 1.1, 0.9), (0.01, 0.0, -0.01), 0.02, 6)
    batch = SampleBatch("s", np.arange(2.0), np.ones((2, 3)), np.zeros((2, 3)))
    out = cal.apply(batch)
    np.testing.assert_allclose(out.acc_mps2[0], [0.9, 0.88, 0.63])
    np.testing.assert_allclose(out.gyr_radps[0], [-0.01, 0.0, 0.01])
    assert SensorCalibration.from_dict(json.loads(json.dumps(cal.to_dict()))) == cal
    with pytest.raises(CalibrationError, match="redo it"):
        SensorCalibration.from_dict({"acc_offset_mps2": [1, 2]})


def _stream(guide: SixFaceGuide, acc: np.ndarray, gyr: np.ndarray, size: int = 7) -> list[str]:
    problems: list[str] = []
    for i in range(0, len(acc), size):
        p = guide.update(acc[i : i + size], gyr[i : i + size])
        if p.problem and (not problems or problems[-1] != p.problem):
            problems.append(p.problem)
    return problems


def test_guide_finds_six_faces_in_a_stream_and_refuses_repeats_and_tilts() -> None:
    tilted = np.array([0.6, 0.0, 0.8])
    acc, gyr = _six_faces([FACES[0], FACES[0], tilted, *FACES[1:]])
    guide = SixFaceGuide(RATE_HZ)
    problems = _stream(guide, acc, gyr)
    assert any("done already" in p for p in problems)
    assert any("tilted 37 deg" in p for p in problems)
    cal = guide.calibration
    assert cal is not None and guide.progress.done == ("-x", "+x", "-y", "+y", "-z", "+z")
    np.testing.assert_allclose(cal.acc_offset_mps2, OFFSET, atol=0.01)
    np.testing.assert_allclose(cal.acc_scale, SCALE, atol=0.002)
    np.testing.assert_allclose(cal.gyr_bias_radps, BIAS, atol=1e-3)


def test_guide_says_when_a_face_was_left_too_soon() -> None:
    acc, gyr = _six_faces(FACES[:2])
    brief = np.r_[0:100, 250:310]  # 1 s on the first face, then turning
    guide = SixFaceGuide(RATE_HZ)
    problems = _stream(guide, acc[brief], gyr[brief])
    assert problems == ["moved too soon: hold each face still for 2 s"]
    assert guide.progress.done == ()
    assert "0/6 faces" in guide.progress.message
