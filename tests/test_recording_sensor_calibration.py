"""A recording carries the sensor calibration live applied, and analyze applies it too."""

from pathlib import Path

import numpy as np

from hipsense.analysis import analyze_stream
from hipsense.exercises import Leg
from hipsense.protocol import encode_imu_packet
from hipsense.recording import RecordingHeader, RecordingWriter, SensorEntry, read_recording
from hipsense.signal.sensor_calibration import SensorCalibration
from hipsense.sim import plan_set, simulate
from hipsense.sources.streamed import open_input

OFFSET_COUNTS = np.array([125, -84, 0])  # about 0.6 and -0.4 m/s² at ±16 g


def _record(path: Path, *, offset: bool, calibration: SensorCalibration | None) -> None:
    sim = simulate(plan_set("swing-forward", Leg.RIGHT, 5, np.random.default_rng(21)), seed=21)
    acc = sim.acc_raw.astype(np.int32)
    if offset:
        acc = acc + OFFSET_COUNTS
    entry = SensorEntry(
        "right_thigh",
        sim.info,
        sensor_calibration=None if calibration is None else calibration.to_dict(),
    )
    with RecordingWriter(path, RecordingHeader(sensors=(entry,), exercise="swing-forward")) as rec:
        for i in range(0, len(sim) - 19, 19):
            payload = encode_imu_packet(
                i, round(i * 1e4), acc[i : i + 19].astype(np.int16), sim.gyr_raw[i : i + 19]
            )
            rec.write_packet("right_thigh", payload, t_host_s=(i + 19) / sim.rate_hz)


def read_info_scale() -> float:
    from hipsense.protocol import SensorInfo

    return SensorInfo.for_ranges(sample_rate_hz=100).acc_scale_mps2_per_lsb


def _flexion(path: Path) -> np.ndarray:
    result = analyze_stream(open_input(path), "swing-forward", Leg.RIGHT)
    assert result.calibration_error is None
    return result.flexion_deg


def test_replayed_angles_use_the_calibration_the_recording_carries(tmp_path: Path) -> None:
    scale = read_info_scale()
    offset = tuple(float(c) * scale for c in OFFSET_COUNTS)
    correction = SensorCalibration(acc_offset_mps2=offset)  # type: ignore[arg-type]
    clean, carried, missing = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "c.jsonl"
    _record(clean, offset=False, calibration=None)
    _record(carried, offset=True, calibration=correction)
    _record(missing, offset=True, calibration=None)
    header = read_recording(carried).header
    assert header.sensors[0].sensor_calibration == correction.to_dict()
    truth = _flexion(clean)
    with_cal = np.nanmax(np.abs(_flexion(carried) - truth))
    without = np.nanmax(np.abs(_flexion(missing) - truth))
    assert with_cal < 0.05 < without
