"""A recording read as a stream of blocks gives exactly what reading it whole gives."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pytest

from hipsense.errors import RecordingError
from hipsense.recording import Recording, read_recording
from hipsense.recording.stream import stream_recording

RECORDINGS = sorted((Path(__file__).resolve().parents[1] / "recordings").glob("*.jsonl.gz"))
# a real header, with the sensor the variants below write
HEADER = gzip.decompress(RECORDINGS[0].read_bytes()).split(b"\n", 1)[0].decode()
SENSOR = read_recording(RECORDINGS[0]).header.sensors[0].sensor_id


def joined(blocks: list[Recording]) -> tuple[object, ...]:
    last = blocks[-1]
    return (
        [b.header for b in blocks].count(last.header) == len(blocks),
        np.concatenate([b.t_host_s for b in blocks]).tolist(),
        np.concatenate([b.sensor_ids for b in blocks]).tolist(),
        [p for b in blocks for p in b.payloads],
        [m for b in blocks for m in b.markers],
        [c for b in blocks for c in b.calibrations],
        last.warnings,
        str(last.error),
    )


def whole(rec: Recording) -> tuple[object, ...]:
    return (
        True,
        rec.t_host_s.tolist(),
        rec.sensor_ids.tolist(),
        list(rec.payloads),
        list(rec.markers),
        list(rec.calibrations),
        rec.warnings,
        str(rec.error),
    )


@pytest.mark.parametrize("path", RECORDINGS[:4], ids=lambda p: p.name)
@pytest.mark.parametrize("block_lines", [1, 7, 4096])
def test_sample_recordings_stream_as_they_read(path: Path, block_lines: int) -> None:
    blocks = list(stream_recording(path, block_lines=block_lines))
    assert joined(blocks) == whole(read_recording(path))


def _variants(tmp_path: Path) -> list[tuple[str, bytes]]:
    packet = '{"type":"packet","t_host_s":%s,"sensor":"' + SENSOR + '","payload_hex":"55aa"}'
    lines = [HEADER] + [packet % (i / 100) for i in range(50)]
    lines.insert(20, '{"type":"marker","t_host_s":0.2,"kind":"reconnect"}')
    lines.insert(30, '{"type":"heart-rate","t_host_s":0.3}')
    text = "\n".join(lines) + "\n"
    packed = gzip.compress(text.encode())
    return [
        ("plain.jsonl", text.encode()),
        ("torn.jsonl", text.encode()[:-20]),
        ("bad-line.jsonl", text.replace('"55aa"', '"zz"', 1).encode()),
        ("members.jsonl.gz", packed[: len(packed)] + b"\x00" * 9 + gzip.compress(b"")),
        ("cut.jsonl.gz", packed[:-30]),
        ("two.jsonl.gz", gzip.compress(text[:300].encode()) + gzip.compress(text[300:].encode())),
        (
            "corrupt.jsonl.gz",
            packed[: len(packed) // 2] + bytes(40) + packed[len(packed) // 2 + 40 :],
        ),
    ]


@pytest.mark.parametrize("salvage", [True, False])
def test_damaged_files_stream_as_they_read(tmp_path: Path, salvage: bool) -> None:
    for name, content in _variants(tmp_path):
        path = tmp_path / name
        path.write_bytes(content)
        try:
            want = whole(read_recording(path, salvage=salvage))
        except RecordingError as exc:
            with pytest.raises(RecordingError, match=re.escape(str(exc.problem))):
                list(stream_recording(path, salvage=salvage, block_lines=5))
            continue
        assert joined(list(stream_recording(path, salvage=salvage, block_lines=5))) == want, name


@pytest.mark.parametrize("content", [b"", b"\n\n", b"\x1f\x8b"])
def test_empty_files_are_errors_too(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "e.jsonl"
    path.write_bytes(content)
    with pytest.raises(RecordingError):
        list(stream_recording(path))
    with pytest.raises(RecordingError, match="cannot read"):
        list(stream_recording(tmp_path / "missing.jsonl"))


def test_whole_reading_keeps_what_inflated_before_a_corrupt_gzip_member(tmp_path: Path) -> None:
    """Whole-file reading is the stream reader in one block: damage inside a gzip member
    keeps the records inflated before it, with the error naming where it was."""
    noise = np.random.default_rng(2).integers(0, 256, size=(3000, 40), dtype=np.uint8)
    text = (HEADER + "\n").encode() + b"".join(
        b'{"type":"packet","t_host_s":%.2f,"sensor":"%s","payload_hex":"%s"}\n'
        % (i / 100, SENSOR.encode(), noise[i].tobytes().hex().encode())
        for i in range(3000)
    )  # random payloads: a member far longer than one inflated chunk
    packed = bytearray(gzip.compress(text, compresslevel=1))
    packed[len(packed) // 2 : len(packed) // 2 + 64] = bytes(64)
    path = tmp_path / "c.jsonl.gz"
    path.write_bytes(bytes(packed))
    rec = read_recording(path, salvage=True)
    assert 1000 < len(rec) < 3000 and rec.error is not None  # the damage is half way
    # zlib notices the damage, or the text it inflated from it is no record
    assert "damaged" in rec.error.problem
    assert joined(list(stream_recording(path, salvage=True))) == whole(rec)


def _packed_recording(lines: int) -> tuple[bytes, list[bytes]]:
    """A gzip recording smaller than one inflated chunk, and its lines."""
    packet = b'{"type":"packet","t_host_s":%.2f,"sensor":"%s","payload_hex":"%s"}'
    noise = np.random.default_rng(5).integers(0, 256, size=(lines, 20), dtype=np.uint8)
    text = [HEADER.encode()] + [
        packet % (i / 100, SENSOR.encode(), noise[i].tobytes().hex().encode()) for i in range(lines)
    ]
    packed = gzip.compress(b"\n".join(text) + b"\n")
    assert len(packed) < 1 << 16
    return packed, text


@pytest.mark.parametrize("flipped", [1, 40])
def test_a_damaged_byte_keeps_every_record_inflated_before_it(tmp_path: Path, flipped: int) -> None:
    """Bytes flipped in the middle of a small gzip recording (one inflated chunk): the
    records before the damage are kept, and one error names the line where it starts."""
    packed, text = _packed_recording(1000)
    damaged = bytearray(packed)
    middle = len(damaged) // 2
    for i in range(middle, middle + flipped):
        damaged[i] ^= 0xFF
    path = tmp_path / "d.jsonl.gz"
    path.write_bytes(bytes(damaged))
    rec = read_recording(path, salvage=True)
    assert 300 < len(rec) < 1000 and rec.damaged and rec.error is not None
    assert rec.error.line == len(rec) + 2  # header, the records kept, then the damage
    assert rec.error.problem in {
        "not a complete record (the file was cut or damaged)",
        "packet payload_hex is not hexadecimal",
        "the file is damaged here: the compressed data after this point is unreadable",
    }
    kept = [bytes.fromhex(line[-42:-2].decode()) for line in text[1 : len(rec) + 1]]
    assert list(rec.payloads) == kept and rec.warnings == ()
    with pytest.raises(RecordingError, match=rf"d\.jsonl\.gz:{rec.error.line}: "):
        read_recording(path)
    assert joined(list(stream_recording(path, salvage=True, block_lines=64))) == whole(rec)


def test_a_bad_checksum_keeps_every_record(tmp_path: Path) -> None:
    packed, _ = _packed_recording(1000)
    damaged = bytearray(packed)
    damaged[-6] ^= 0xFF  # the gzip trailer's CRC-32
    path = tmp_path / "crc.jsonl.gz"
    path.write_bytes(bytes(damaged))
    rec = read_recording(path, salvage=True)
    assert len(rec) == 1000 and rec.error is not None and rec.error.line == 1002
    assert "checksum does not match" in rec.error.problem


def test_a_cut_in_the_middle_is_one_warning_with_the_line(tmp_path: Path) -> None:
    packed, _ = _packed_recording(1000)
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(packed[: len(packed) // 2])
    rec = read_recording(path)
    assert 300 < len(rec) < 1000 and rec.truncated and rec.error is None
    assert rec.warnings == (
        f"line {len(rec) + 2}: the file ends mid-record: it was cut off;"
        " the records before it are kept",
    )


def test_a_damaged_gzip_header_is_damage_not_a_checksum(tmp_path: Path) -> None:
    packed, _ = _packed_recording(10)
    damaged = bytearray(packed)
    damaged[2] = 9  # compression method: not deflate
    path = tmp_path / "h.jsonl.gz"
    path.write_bytes(bytes(damaged))
    with pytest.raises(RecordingError) as info:
        read_recording(path, salvage=True)
    assert info.value.line == 1
    assert info.value.problem == (
        "the file is damaged here: the compressed data after this point is unreadable"
    )
