"""``open_input`` streams exactly the batches and notes ``load_input`` gives."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from hipsense.recording import stream as recording_stream
from hipsense.sources.replay import load_input
from hipsense.sources.streamed import open_input

RECORDINGS = Path(__file__).resolve().parents[2] / "recordings"
SAMPLES = sorted(RECORDINGS.glob("*.jsonl.gz"))


def same_batches(path: Path, *, salvage: bool = False) -> None:
    loaded = load_input(path, salvage=salvage)
    stream = open_input(path, salvage=salvage)
    assert (stream.sensor_id, stream.rate_hz) == (loaded.sensor_id, loaded.rate_hz)
    got = list(stream.batches())
    assert len(got) == len(loaded.batches)
    for a, b in zip(got, loaded.batches, strict=True):
        assert (a.sensor_id, a.lost_before) == (b.sensor_id, b.lost_before)
        for x, y in ((a.t_s, b.t_s), (a.acc_mps2, b.acc_mps2), (a.gyr_radps, b.gyr_radps)):
            np.testing.assert_array_equal(x, y)
    assert stream.warnings == loaded.warnings
    assert stream.fraction_read == pytest.approx(1.0)


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_sample_recordings_stream_in_small_blocks(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recording_stream, "BLOCK_LINES", 50)  # many blocks, chunks spanning them
    same_batches(path)


def test_a_damaged_recording_streams_what_loads(tmp_path: Path) -> None:
    text = gzip.decompress((RECORDINGS / "knee-drive_right_loss.jsonl.gz").read_bytes())
    lines = text.split(b"\n")
    lines[len(lines) // 2] = b'{"type":"packet","t_host_s":1.0}'
    path = tmp_path / "damaged.jsonl"
    path.write_bytes(b"\n".join(lines))
    same_batches(path, salvage=True)
    damage = f"line {len(lines) // 2 + 1}: packet from unknown sensor None;"
    assert any(w.startswith(damage) for w in load_input(path, salvage=True).warnings)
