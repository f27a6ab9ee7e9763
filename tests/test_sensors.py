"""Per-sensor calibration store, and ``calibrate-sensor`` end to end over the virtual radio."""

from __future__ import annotations

import stat
from pathlib import Path

import numpy as np
import pytest

from hipsense.errors import CalibrationError
from hipsense.protocol.hipsense_v1 import SensorInfo
from hipsense.samples import STANDARD_GRAVITY_MPS2
from hipsense.sensors import default_sensors_path, load_sensor_calibration, save_sensor_calibration
from hipsense.signal.sensor_calibration import SensorCalibration
from hipsense.virtual import ArraySource, VirtualRadio

CAL = SensorCalibration((0.4, -0.3, 0.6), (1.0, 1.01, 0.99), (0.02, -0.01, 0.03), 0.01, 6)


def test_default_path_sits_next_to_the_history(tmp_path: Path) -> None:
    env = {"HIPSENSE_HISTORY": str(tmp_path / "h" / "history.sqlite3")}
    assert default_sensors_path(env) == tmp_path / "h" / "sensors.json"


def test_save_then_load_by_address_or_name_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "new" / "sensors.json"
    save_sensor_calibration("AA:BB:CC:00:11:22", "hipsense-1122", CAL, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_sensor_calibration("aa:bb:cc:00:11:22", path) == CAL
    assert load_sensor_calibration("hipsense-1122", path) == CAL
    assert load_sensor_calibration("hipsense-9999", path) is None
    assert load_sensor_calibration("x", tmp_path / "absent.json") is None


def test_recalibrating_replaces_the_entry(tmp_path: Path) -> None:
    path = tmp_path / "sensors.json"
    save_sensor_calibration("AA:01", "hipsense-a", CAL, path)
    save_sensor_calibration("AA:02", "hipsense-b", CAL, path)
    newer = SensorCalibration((0.1, 0.1, 0.1))
    save_sensor_calibration("AA:01", "hipsense-a", newer, path)
    assert load_sensor_calibration("AA:01", path) == newer
    assert load_sensor_calibration("hipsense-b", path) == CAL
    assert path.read_text().count('"address"') == 2


def test_damaged_file_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "sensors.json"
    path.write_text("{not json")
    with pytest.raises(CalibrationError, match="calibrate-sensor"):
        load_sensor_calibration("AA:01", path)


RATE_HZ = 50
OFFSET_MPS2 = np.array([0.55, -0.7, 0.35])  # 56, -71, 36 mg
BIAS_RADPS = np.radians([2.0, -1.5, 3.0])
UPS = [np.eye(3)[i] * s for i in (2, 0, 1) for s in (1.0, -1.0)]


def _six_face_source(info: SensorInfo) -> ArraySource:
    """Raw counts of a sensor held still on six faces, turned briskly in between."""
    rng = np.random.default_rng(3)
    acc, gyr = [], []
    for up in [*UPS, UPS[0]]:
        acc.append(STANDARD_GRAVITY_MPS2 * up + OFFSET_MPS2 + rng.normal(0, 0.02, (125, 3)))
        gyr.append(BIAS_RADPS + rng.normal(0, 0.002, (125, 3)))
        acc.append(rng.normal(0, 4.0, (25, 3)) + OFFSET_MPS2)
        gyr.append(np.full((25, 3), 1.5))  # about 86 deg/s per axis while turning
    acc_raw = np.rint(np.concatenate(acc) / info.acc_scale_mps2_per_lsb)
    gyr_raw = np.rint(np.concatenate(gyr) / info.gyr_scale_radps_per_lsb)
    return ArraySource(acc_raw.astype(np.int16), gyr_raw.astype(np.int16))


async def test_calibrate_sensor_command_over_the_virtual_link(tmp_path: Path) -> None:
    from hipsense.commands.calibrate import calibrate_sensor_command

    info = SensorInfo.for_ranges(sample_rate_hz=RATE_HZ, acc_range_g=16, gyr_range_dps=2000)
    path, lines = tmp_path / "sensors.json", list[str]()
    async with VirtualRadio() as radio:
        sensor = await radio.add_sensor(
            "hipsense-CA11", _six_face_source(info), info=info, pacing="fast"
        )
        cal = await calibrate_sensor_command(
            "hipsense-CA11", lines.append, backend=radio.bleak_backend, path=path, timeout_s=60
        )
    np.testing.assert_allclose(cal.acc_offset_mps2, OFFSET_MPS2, atol=0.01)
    np.testing.assert_allclose(cal.acc_scale, 1.0, atol=0.002)
    np.testing.assert_allclose(cal.gyr_bias_radps, BIAS_RADPS, atol=2e-4)
    assert load_sensor_calibration(sensor.address, path) == cal
    assert any("6/6" in line or "calibrated hipsense-CA11" in line for line in lines)
    assert any("5/6 faces" in line for line in lines)


def test_sensor_pipeline_applies_the_sensor_calibration_first() -> None:
    from hipsense.exercises import CATALOGUE, Leg
    from hipsense.samples import SampleBatch
    from hipsense.session.pipeline import SensorPipeline
    from hipsense.signal.angles import AngleBatch

    pipe = SensorPipeline("r", 100.0, CATALOGUE["slr"], Leg.RIGHT, sensor_calibration=CAL)
    seen: list[SampleBatch] = []
    original = pipe.angles.update

    def spy(batch: SampleBatch, *, last: bool = False) -> AngleBatch:
        seen.append(batch)
        return original(batch, last=last)

    pipe.angles.update = spy  # type: ignore[method-assign]
    acc = np.tile([0.4, -0.3, 0.6 + STANDARD_GRAVITY_MPS2], (5, 1))
    pipe.feed(SampleBatch("r", np.arange(5) / 100.0, acc, np.tile(CAL.gyr_bias_radps, (5, 1))))
    np.testing.assert_allclose(seen[0].acc_mps2[:, :2], 0.0, atol=1e-12)
    np.testing.assert_allclose(seen[0].gyr_radps, 0.0, atol=1e-12)
