"""Recording writer/reader: round trip, permissions, damage handling, versions."""

from __future__ import annotations

import gzip
import json
import stat
from pathlib import Path

import numpy as np
import pytest

from hipsense.errors import InputFileError, RecordingError
from hipsense.protocol import SensorInfo, encode_imu_packet
from hipsense.recording import (
    FORMAT_VERSION,
    RecordingHeader,
    RecordingWriter,
    SensorEntry,
    read_recording,
)
from hipsense.recording.stream import stream_recording

INFO = SensorInfo.for_ranges(sample_rate_hz=100, gyr_range_dps=2000)
HEADER = RecordingHeader(
    sensors=(SensorEntry("thigh", INFO, name="hipsense-01", address="AA:BB:CC:DD:EE:01"),),
    exercise="slr",
    leg="right",
    notes="morning test ✓",
)


def _payload(seq: int) -> bytes:
    rows = np.arange(12, dtype=np.int16).reshape(2, 6) + seq
    return encode_imu_packet(seq, seq * 10_000, rows[:, :3], rows[:, 3:])


def _write(path: Path, packets: int = 5) -> None:
    with RecordingWriter(path, HEADER) as writer:
        writer.write_marker("calibration-start", t_host_s=0.0)
        writer.write_calibration({"r_sensor_thigh": [1, 0, 0, 0]}, t_host_s=0.4)
        writer.write_marker("set-start", t_host_s=0.5, exercise="slr")
        for i in range(packets):
            writer.write_packet("thigh", _payload(2 * i), t_host_s=1.0 + i * 0.02)
        writer.write_marker("note", t_host_s=2.0, text="felt tight")


@pytest.mark.parametrize("name", ["s.jsonl", "s.jsonl.gz"])
def test_round_trip_keeps_header_packets_markers_and_calibrations(
    tmp_path: Path, name: str
) -> None:
    path = tmp_path / name
    _write(path)
    rec = read_recording(path)
    assert rec.header == HEADER
    assert rec.payloads == tuple(_payload(2 * i) for i in range(5))
    np.testing.assert_allclose(rec.t_host_s, 1.0 + np.arange(5) * 0.02)
    assert list(rec.sensor_ids) == ["thigh"] * 5
    assert [m.kind for m in rec.markers] == ["calibration-start", "set-start", "note"]
    assert rec.markers[2].data == {"text": "felt tight"}
    assert rec.calibrations[0].calibration == {"r_sensor_thigh": [1, 0, 0, 0]}
    assert rec.warnings == () and rec.error is None


def test_file_is_plain_json_lines_readable_by_standard_tools(tmp_path: Path) -> None:
    plain, packed = tmp_path / "a.jsonl", tmp_path / "a.jsonl.gz"
    _write(plain)
    _write(packed)
    lines = plain.read_text("utf-8").splitlines()
    packed_lines = gzip.decompress(packed.read_bytes()).decode("utf-8").splitlines()
    assert packed_lines[1:] == lines[1:]  # headers differ only in created_utc
    header = json.loads(lines[0])
    assert header["format"] == "hipsense-recording" and header["format_version"] == FORMAT_VERSION
    assert header["sensors"][0]["info"]["sample_rate_hz"] == 100
    packet = json.loads(lines[4])
    assert packet == {
        "type": "packet",
        "t_host_s": 1.0,
        "sensor": "thigh",
        "payload_hex": _payload(0).hex(),
    }


@pytest.mark.parametrize("name", ["p.jsonl", "p.jsonl.gz"])
def test_created_owner_only_and_never_overwrites(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    _write(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(RecordingError, match="already exists"):
        RecordingWriter(path, HEADER)


def test_default_times_come_from_the_writer_clock(tmp_path: Path) -> None:
    ticks = iter([100.0, 100.25, 101.5])
    with RecordingWriter(tmp_path / "c.jsonl", HEADER, clock=lambda: next(ticks)) as writer:
        writer.write_packet("thigh", _payload(0))
        writer.write_marker("set-stop")
    rec = read_recording(tmp_path / "c.jsonl")
    assert rec.t_host_s.tolist() == [0.25] and rec.markers[0].t_host_s == 1.5


def test_writer_rejects_unknown_sensor_and_marker(tmp_path: Path) -> None:
    with RecordingWriter(tmp_path / "r.jsonl", HEADER) as writer:
        with pytest.raises(ValueError, match="not in the recording header"):
            writer.write_packet("shank", b"\x01")
        with pytest.raises(ValueError, match="unknown marker"):
            writer.write_marker("lunch")


def test_torn_last_line_is_a_warning_not_an_error(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    _write(path)
    data = path.read_bytes()
    path.write_bytes(data[:-1] + b'\n{"type":"packet","t_host_s":3.0,"sen')
    rec = read_recording(path)
    assert len(rec) == 5 and rec.error is None
    assert rec.warnings == (
        "line 11: the file ends mid-record: it was cut off; the records before it are kept",
    )


def test_truncated_gzip_is_readable_up_to_the_damage(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl.gz"
    with RecordingWriter(path, HEADER) as writer:
        for i in range(200):
            writer.write_packet("thigh", _payload(i), t_host_s=i * 0.01)
            if i == 99:
                writer.flush()
        cut_at = path.stat().st_size
    path.write_bytes(path.read_bytes()[: cut_at + 7])
    rec = read_recording(path)
    assert len(rec) >= 100 and rec.payloads[99] == _payload(99)
    assert any("cut off" in w for w in rec.warnings)


def test_corruption_in_the_middle_names_file_and_line_and_salvages(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    _write(path)
    lines = path.read_bytes().split(b"\n")
    lines[5] = b'{"type":"packet","t_host_s":1.02,"sensor":"thigh","payload_hex":"zz"}'
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(RecordingError) as info:
        read_recording(path)
    assert str(info.value) == f"{path}:6: packet payload_hex is not hexadecimal"
    rec = read_recording(path, salvage=True)  # the bad record skipped, the ones after kept
    assert rec.payloads == tuple(_payload(2 * i) for i in (0, 2, 3, 4))
    assert [m.kind for m in rec.markers] == ["calibration-start", "set-start", "note"]
    assert rec.error is None and rec.skipped_records == 1 and rec.damaged
    assert rec.warnings == (
        "line 6: packet payload_hex is not hexadecimal; this record was skipped; "
        "the records after it were read",
    )


def test_salvage_skips_every_damaged_record_and_counts_them(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    _write(path, packets=6000)  # over a block of lines: the count spans blocks
    lines = path.read_bytes().split(b"\n")
    bad = [5, 9, 4500]
    for k in bad:  # not JSON, an unknown sensor, a time that is not a number
        lines[k] = [b"{garbage", b'{"type":"packet","t_host_s":1,"sensor":"x","payload_hex":""}',
                    b'{"type":"packet","t_host_s":"soon","sensor":"thigh","payload_hex":""}'
                    ][bad.index(k)]  # fmt: skip
    path.write_bytes(b"\n".join(lines))
    blocks = list(stream_recording(path, salvage=True))
    whole = read_recording(path, salvage=True)
    assert len(whole) == 6000 - 3 == sum(len(b) for b in blocks)
    assert whole.skipped_records == 3 == blocks[-1].skipped_records and whole.damaged
    assert (
        whole.warnings
        == blocks[-1].warnings
        == (
            "line 6: not a complete record (the file was cut or damaged); this record was skipped, "
            "and 2 more damaged records up to line 4501; the records after it were read",
        )
    )
    with pytest.raises(RecordingError, match=":6: not a complete record"):
        read_recording(path)
    gzipped = tmp_path / "m.jsonl.gz"  # compressed: damage there is never one line's
    gzipped.write_bytes(gzip.compress(b"\n".join(lines)))
    cut = read_recording(gzipped, salvage=True)
    assert len(cut) == 1 and cut.skipped_records == 0
    assert cut.error is not None and cut.error.line == 6


def test_salvage_still_ends_at_a_second_header(tmp_path: Path) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    _write(first)
    _write(second)
    joined = tmp_path / "j.jsonl"
    joined.write_bytes(first.read_bytes() + second.read_bytes())
    rec = read_recording(joined, salvage=True)
    assert len(rec) == 5 and rec.skipped_records == 0
    assert rec.error is not None and "second header" in rec.error.problem


def test_corrupt_gzip_body_is_an_error_after_the_good_part(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl.gz"
    with RecordingWriter(path, HEADER) as writer:
        for i in range(50):
            writer.write_packet("thigh", _payload(i), t_host_s=i * 0.01)
        writer.flush()
        good = path.stat().st_size
        for i in range(50, 100):
            writer.write_packet("thigh", bytes(range(i, i + 40)), t_host_s=i * 0.01)
    data = bytearray(path.read_bytes())
    data[good + 3 : good + 40] = bytes(37)
    path.write_bytes(bytes(data))
    try:
        rec = read_recording(path, salvage=True)
    except RecordingError:  # damage may hit the gzip trailer check only; both are fine
        return
    assert len(rec) >= 50 and rec.payloads[49] == _payload(49)


@pytest.mark.parametrize(
    ("first_line", "problem"),
    [
        (
            '{"type":"header","format":"hipsense-recording","format_version":2,"sensors":[]}',
            "recording format 2 is newer than this hipsense understands (1): update hipsense",
        ),
        ('{"type":"header","format":"something-else"}', "not a hipsense recording"),
        (
            "time_s,acc_x_mps2",
            "not a hipsense recording: the first line is not a recording header"
            " (an IMU CSV? give the file a .csv name)",
        ),
        ("<html>", "not a hipsense recording: the first line is not a recording header"),
        ('{"type":"header","format":"hipsense-recording","format_version":1}', "no sensors"),
    ],
)
def test_bad_headers_are_one_line_errors(tmp_path: Path, first_line: str, problem: str) -> None:
    path = tmp_path / "h.jsonl"
    path.write_text(first_line + "\n")
    with pytest.raises(RecordingError, match=r"h\.jsonl:1: ") as info:
        read_recording(path, salvage=True)
    assert problem in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("content", [b"", b"\n\n", b"\x1f\x8b"])
def test_empty_or_missing_files_are_input_errors(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "e.jsonl"
    path.write_bytes(content)
    with pytest.raises(InputFileError):
        read_recording(path)
    with pytest.raises(RecordingError, match="cannot read"):
        read_recording(tmp_path / "missing.jsonl")


def test_unknown_record_types_are_skipped_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "u.jsonl"
    _write(path, packets=1)
    with path.open("a") as file:
        file.write('{"type":"heart-rate","t_host_s":1.0,"bpm":70}\n')
    rec = read_recording(path)
    assert len(rec) == 1 and "heart-rate" in rec.warnings[0]


def test_disk_full_is_reported_on_the_next_write_and_on_close(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from hipsense.recording import writer as writer_module

    def full(fd: int, data: bytes | bytearray | memoryview) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    path = tmp_path / "full.jsonl"
    writer = RecordingWriter(path, HEADER)
    monkeypatch.setattr(writer_module, "write_all", full)
    writer.write_packet("thigh", _payload(0), t_host_s=0.0)
    with pytest.raises(RecordingError, match=r"full\.jsonl: cannot write: No space left"):
        writer.flush()
    with pytest.raises(RecordingError, match="No space left"):
        writer.write_packet("thigh", _payload(1), t_host_s=0.1)
    with pytest.raises(RecordingError, match="No space left"):
        writer.close()
    writer.close()  # closing twice is harmless
