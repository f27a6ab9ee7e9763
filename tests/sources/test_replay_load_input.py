"""load_input: one entry point for analyze over recordings and CSVs, real data end to end."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hipsense.errors import CsvFormatError, RecordingError
from hipsense.protocol import SensorInfo, encode_imu_packet
from hipsense.recording import RecordingHeader, RecordingWriter, SensorEntry
from hipsense.sources.csv_import import read_imu_csv
from hipsense.sources.replay import load_input

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "pt_exercises"
CSV = DATA / "s1" / "slr_template_right_thigh.csv"
PER_PACKET = 5


def _record_from_csv(csv_path: Path, out: Path) -> None:
    """Quantise a CSV as a 25 Hz hipsense sensor would send it, packet by packet."""
    series = read_imu_csv(csv_path)
    info = SensorInfo.for_ranges(sample_rate_hz=25, acc_range_g=16, gyr_range_dps=1000)
    acc = np.rint(series.acc_mps2 / info.acc_scale_mps2_per_lsb).astype(np.int16)
    gyr = np.rint(series.gyr_radps / info.gyr_scale_radps_per_lsb).astype(np.int16)
    header = RecordingHeader(
        sensors=(SensorEntry("right_thigh", info),), exercise="slr", leg="right"
    )
    with RecordingWriter(out, header) as writer:
        for start in range(0, len(series) - PER_PACKET + 1, PER_PACKET):
            rows = slice(start, start + PER_PACKET)
            payload = encode_imu_packet(start, round(series.t_s[start] * 1e6), acc[rows], gyr[rows])
            writer.write_packet(
                "right_thigh", payload, t_host_s=series.t_s[start + PER_PACKET - 1] + 0.01
            )


@pytest.mark.data
@pytest.mark.skipif(not CSV.is_file(), reason=f"shared data not found at {CSV}")
def test_real_csv_through_a_recording_matches_the_csv(tmp_path: Path) -> None:
    path = tmp_path / "slr.jsonl.gz"
    _record_from_csv(CSV, path)
    direct = load_input(CSV)
    replayed = load_input(path)
    assert replayed.sensor_id == "right_thigh" and replayed.rate_hz == direct.rate_hz == 25
    assert replayed.warnings == () and direct.warnings == ()
    acc_csv = np.concatenate([b.acc_mps2 for b in direct.batches])
    acc_rec = np.concatenate([b.acc_mps2 for b in replayed.batches])
    gyr_csv = np.concatenate([b.gyr_radps for b in direct.batches])
    gyr_rec = np.concatenate([b.gyr_radps for b in replayed.batches])
    n = len(acc_rec)
    assert n >= len(acc_csv) - PER_PACKET
    np.testing.assert_allclose(acc_rec, acc_csv[:n], atol=0.003)
    np.testing.assert_allclose(gyr_rec, gyr_csv[:n], atol=0.0006)
    t_rec = np.concatenate([b.t_s for b in replayed.batches])
    np.testing.assert_allclose(np.diff(t_rec), 0.04, atol=1e-6)


def test_salvaged_csv_and_recording_report_warnings(tmp_path: Path) -> None:
    csv_path = tmp_path / "x.csv"
    rows = "\n".join(f"{i * 0.01},0,0,9.8,0,0,0" for i in range(10))
    csv_path.write_text(
        f"time_s,acc_x_mps2,acc_y_mps2,acc_z_mps2,gyr_x_radps,gyr_y_radps,gyr_z_radps\n{rows}\n0.2,x,0,0,0,0,0\n"
    )
    with pytest.raises(CsvFormatError):
        load_input(csv_path)
    loaded = load_input(csv_path, salvage=True)
    assert sum(len(b) for b in loaded.batches) == 10
    assert (
        loaded.warnings[0]
        == "line 12: cell 2 is 'x', not a number; the data before it was analysed"
    )

    info = SensorInfo.for_ranges(sample_rate_hz=100)
    rec_path = tmp_path / "r.jsonl"
    with RecordingWriter(
        rec_path, RecordingHeader(sensors=(SensorEntry("thigh", info),))
    ) as writer:
        writer.write_packet("thigh", encode_imu_packet(0, 0, [[0, 0, 100]], [[0, 0, 0]]), 0.01)
        writer.write_packet("thigh", b"\x07", 0.02)
    loaded = load_input(rec_path)
    assert loaded.warnings == ("1 malformed packet skipped",)  # no count of zero losses
    assert loaded.damaged  # bad input: analyze exits 2 after analysing the rest
    with pytest.raises(RecordingError, match="no sensor 'shank'"):
        load_input(rec_path, sensor_id="shank")


def test_samples_lost_over_the_link_are_information_with_their_share() -> None:
    recordings = Path(__file__).resolve().parents[2] / "recordings"
    lossy = load_input(recordings / "knee-drive_right_loss.jsonl.gz")
    assert lossy.warnings == ("40 samples lost in transit (2.9 %), bridged",)
    assert not lossy.damaged
    assert load_input(recordings / "knee-drive_right.jsonl.gz").warnings == ()
