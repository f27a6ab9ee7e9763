import json

import numpy as np
import pytest

from hipsense.errors import CalibrationError
from hipsense.samples import STANDARD_GRAVITY_MPS2, SampleBatch
from hipsense.signal.sensor_calibration import SensorCalibration, calibrate_sensor

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
