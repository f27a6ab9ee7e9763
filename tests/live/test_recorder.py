"""Recording a live session: file names, folders, and what happens when the disk says no."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from live_args import live_args

from hipsense.commands.live import live_session
from hipsense.errors import RecordingError
from hipsense.events import SessionEvent, SetCounting
from hipsense.exercises import Leg
from hipsense.live.recorder import SessionRecorder, auto_path
from hipsense.recording import RecordingWriter, read_recording
from hipsense.session import Session
from hipsense.sim import plan_set, simulate
from hipsense.virtual import ArraySource, VirtualRadio


def test_record_key_twice_in_a_second_gives_a_new_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HIPSENSE_HISTORY", str(tmp_path / "hipsense" / "h.sqlite3"))
    now = datetime(2026, 5, 1, 7, 30, 5, tzinfo=UTC)
    first = auto_path(now)
    first.parent.mkdir(parents=True)
    first.touch()
    second = auto_path(now)
    assert second != first and second.name == "session-20260501T073005Z-2.jsonl.gz"
    second.touch()
    assert auto_path(now).name == "session-20260501T073005Z-3.jsonl.gz"


def test_the_record_key_makes_hipsense_folders_owner_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "share" / "hipsense"
    monkeypatch.setenv("HIPSENSE_HISTORY", str(data / "history.sqlite3"))
    sim = simulate(plan_set("knee-drive", Leg.LEFT, 1, np.random.default_rng(1)), rate_hz=50.0)
    link: Any = SimpleNamespace(info=sim.info, sensor=None, target="x", role="left_thigh")
    session = Session("knee-drive", Leg.LEFT, {"left_thigh": 50.0})
    session.recording = True  # the record key, no --record FILE
    recorder = SessionRecorder(session, [link])
    recorder.payloads("left_thigh", [(0.0, b"\x01")])
    recorder.close()
    assert [p.parent for p in recorder.paths] == [data / "recordings"]
    assert data.stat().st_mode & 0o777 == 0o700
    assert (data / "recordings").stat().st_mode & 0o777 == 0o700


async def test_a_failing_recording_stops_but_the_session_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HIPSENSE_HISTORY", str(tmp_path / "h.sqlite3"))
    written = {"packets": 0}
    real_write = RecordingWriter.write_packet

    def disk_full(self: RecordingWriter, *args: Any, **kwargs: Any) -> None:
        written["packets"] += 1
        if written["packets"] > 50:
            raise RecordingError(str(self.path), "cannot write: No space left on device")
        real_write(self, *args, **kwargs)

    monkeypatch.setattr(RecordingWriter, "write_packet", disk_full)
    sim = simulate(
        plan_set("knee-drive", Leg.LEFT, 5, np.random.default_rng(8)), rate_hz=100.0, seed=8
    )
    record = tmp_path / "s.jsonl.gz"
    async with VirtualRadio() as radio:
        sensor = await radio.add_sensor(
            None, ArraySource.from_session(sim), info=sim.info, rate_hz=100, pacing="fast"
        )
        args = live_args(sensor.name, record=record, db=tmp_path / "h.sqlite3")
        assert await live_session(args, backend=radio.bleak_backend) == 2
    captured = capsys.readouterr()
    reps = [line for line in captured.out.splitlines() if line.startswith("rep knee-drive")]
    assert len(reps) == 5  # every rep still counted after the recording failed
    assert sum("recording stopped" in line for line in captured.out.splitlines()) == 1
    assert "hipsense: recording stopped: " in captured.err and "No space left" in captured.err
    assert len(read_recording(record, salvage=True).payloads) == 50  # kept what was written


async def test_an_existing_record_file_is_refused_before_streaming(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HIPSENSE_HISTORY", str(tmp_path / "h.sqlite3"))
    record = tmp_path / "taken.jsonl.gz"
    record.write_bytes(b"an earlier session")
    sim = simulate(plan_set("knee-drive", Leg.LEFT, 2, np.random.default_rng(2)), rate_hz=100.0)
    async with VirtualRadio() as radio:
        sensor = await radio.add_sensor(
            None, ArraySource.from_session(sim), info=sim.info, rate_hz=100, pacing="fast"
        )
        with pytest.raises(RecordingError, match="already exists"):
            args = live_args(sensor.name, record=record, db=tmp_path / "h.sqlite3")
            await live_session(args, backend=radio.bleak_backend)
    assert record.read_bytes() == b"an earlier session"
    assert "rep " not in capsys.readouterr().out


async def test_set_stops_and_starts_are_recorded_for_replay_to_follow(tmp_path: Path) -> None:
    """The space key's stop and start reach the file as markers that say so (counting),
    beside the drill the file starts with; replay and analyze follow them."""
    sim = simulate(plan_set("knee-drive", Leg.LEFT, 1, np.random.default_rng(1)), rate_hz=50.0)
    link: Any = SimpleNamespace(info=sim.info, sensor=None, target="x", role="left_thigh")
    session = Session("knee-drive", Leg.LEFT, {"left_thigh": 50.0})
    session.recording = True
    recorder = SessionRecorder(session, [link], path=tmp_path / "r.jsonl")
    recorder.payloads("left_thigh", [(0.0, b"\x01")])

    async def events() -> AsyncIterator[SessionEvent]:
        for control in (session.stop_set, session.stop_set, session.start_set):
            control()  # a second stop while stopped changes nothing: no marker
            for event in session.drain():
                yield event

    seen = [e async for e in recorder.watch(events())]
    recorder.close()
    assert [e.counting for e in seen if isinstance(e, SetCounting)] == [False, True]
    marks = [(m.kind, m.data) for m in read_recording(tmp_path / "r.jsonl").markers]
    assert marks == [
        ("set-start", {"exercise": "knee-drive", "leg": "left", "counting": True}),
        ("set-stop", {"exercise": "knee-drive", "leg": "left", "counting": False}),
        ("set-start", {"exercise": "knee-drive", "leg": "left", "counting": True}),
    ]
