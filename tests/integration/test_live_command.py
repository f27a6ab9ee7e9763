"""``hipsense live`` end to end on the virtual radio: links, session, recording, history."""

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from live_args import live_args

from hipsense.commands.live import live_session
from hipsense.exercises import Leg
from hipsense.recording import read_recording
from hipsense.sim import plan_set, simulate
from hipsense.virtual import ArraySource, VirtualRadio


async def test_live_plain_counts_records_and_saves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HIPSENSE_HISTORY", str(tmp_path / "h.sqlite3"))  # keep $HOME untouched
    sim = simulate(
        plan_set("knee-drive", Leg.LEFT, 5, np.random.default_rng(8)), rate_hz=100.0, seed=8
    )
    record, db = tmp_path / "s.jsonl.gz", tmp_path / "h.sqlite3"
    async with VirtualRadio() as radio:
        sensor = await radio.add_sensor(
            None, ArraySource.from_session(sim), info=sim.info, rate_hz=100, pacing="fast"
        )
        args = live_args(sensor.name, record=record, db=db)
        assert await live_session(args, backend=radio.bleak_backend) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert f"hipsense: saved 1 set to the history {db}" in captured.err.splitlines()
    reps = [line for line in lines if line.startswith("rep knee-drive left")]
    assert len(reps) == len(sim.reps) == 5
    assert any(line.startswith("calibration left_thigh: done") for line in lines)
    recording = read_recording(record)
    assert recording.header.sensors[0].sensor_id == "left_thigh"
    samples_on_disk = sum((len(p) - 8) // 12 for p in recording.payloads)
    assert samples_on_disk == len(sim)  # every notification is on disk
    assert record.stat().st_mode & 0o777 == 0o600
    assert [c.calibration.get("sensor") for c in recording.calibrations] == ["left_thigh"]
    assert (tmp_path / "mountings.json").stat().st_mode & 0o777 == 0o600  # for --reuse-calibration
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT exercise, leg, rep_count FROM sets").fetchall() == [
            ("knee-drive", "left", 5)
        ]
    json.dumps(lines)  # plain output is text a script can take as it is
