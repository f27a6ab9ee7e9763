"""The sensor re-strapped mid-session and recalibrated (the live app's calibrate key): analyze
of the recording recalibrates where the live session did, so the sets after it are counted
with the new mounting, as live counted them, not with the first calibration."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from hipsense.analysis import Recalibrations, recalibrations_in
from hipsense.cli import main
from hipsense.commands.analyze import rep_json
from hipsense.events import SetCounting
from hipsense.exercises import Leg, get_exercise
from hipsense.live.recorder import SessionRecorder
from hipsense.live.runner import session_events
from hipsense.protocol import encode_imu_packet
from hipsense.recording import CalibrationRecord, Marker, read_recording
from hipsense.samples import SampleBatch
from hipsense.session import Session
from hipsense.session.coordinator import FinishedSet, Recalibrated
from hipsense.sim import Conditions, SimSession, plan_set, simulate
from hipsense.sources.link_health import PacketAssembler

RATE_HZ = 100.0
PER_PACKET = 19
LATENCY_S = 0.03  # notification to host
TURNED = Conditions(random_mounting=True)  # each strapping turned its own way on the skin


def _set(exercise_id: str, seed: int) -> SimSession:
    """A set on the right thigh with its calibration routine first, strapped its own way."""
    plan = plan_set(exercise_id, Leg.RIGHT, 6, np.random.default_rng(seed))
    return simulate(plan, rate_hz=RATE_HZ, seed=seed, conditions=TURNED)


def _drill(sim: SimSession) -> str:
    return next(s.exercise_id for s in sim.plan.steps if s.exercise_id is not None)


class _Recorder(SessionRecorder):
    """The live recorder, on the clock the notifications arrive by."""

    clock_s = 0.0

    def _now(self) -> float:
        return self.clock_s


async def _live(
    path: Path,
    first: SimSession,
    then: SimSession | None,
    *,
    start_key_after_s: float | None,
    switch: bool = False,
    key_between: list[float] | None = None,
) -> list[FinishedSet]:
    """``first``'s samples, then ``then``'s (the sensor re-strapped) through the live session,
    recorded as the live app records (payloads as they arrive, the session's markers and
    calibrations), the calibrate key pressed as the re-strapped sensor's samples begin
    (after picking ``then``'s drill if ``switch``) and the set key (start)
    ``start_key_after_s`` later (None: not pressed). The live sets; ``key_between`` gets the
    times of the last sample fed before the calibrate key and the first fed after it."""
    parts = [first] if then is None else [first, then]
    acc = np.concatenate([s.acc_raw for s in parts])
    gyr = np.concatenate([s.gyr_raw for s in parts])
    link: Any = SimpleNamespace(info=first.info, sensor=None, target="x", role="thigh")
    session = Session(_drill(first), Leg.RIGHT, {"thigh": RATE_HZ})
    session.recording = True
    recorder = _Recorder(session, [link], path=path)
    assembler = PacketAssembler("thigh", first.info)
    restrapped_s = len(first) / RATE_HZ if then is not None else None
    pressed: list[str] = []
    fed_until: list[float] = []

    async def items() -> AsyncIterator[SampleBatch]:
        for i in range(0, len(acc) - PER_PACKET + 1, PER_PACKET):
            arrival_s = (i + PER_PACKET) / RATE_HZ + LATENCY_S
            payload = encode_imu_packet(
                i, round(i * 1e6 / RATE_HZ), acc[i : i + PER_PACKET], gyr[i : i + PER_PACKET]
            )
            recorder.clock_s = arrival_s
            recorder.payloads("thigh", [(arrival_s, payload)])
            for batch in assembler.assemble([(arrival_s, payload)]):
                yield batch

    def keys(session: Session, batch: SampleBatch) -> None:
        before, fed_until[:] = fed_until[:], [float(batch.t_s[-1])]
        if restrapped_s is None or batch.t_s[0] < restrapped_s:
            return
        if not pressed:
            if switch and then is not None:
                session.select_exercise(_drill(then))
            session.recalibrate()
            pressed.append("calibrate")
            if key_between is not None:
                key_between.extend([*before, float(batch.t_s[0])])
        if start_key_after_s is None or pressed != ["calibrate"]:
            return
        if batch.t_s[0] >= restrapped_s + start_key_after_s:
            session.start_set()
            pressed.append("start")

    async for _ in recorder.watch(session_events(items(), session, before_batch=keys)):
        pass
    recorder.close()
    return session.finished_sets


def _as_before_the_marker(path: Path, out: Path) -> Path:
    """``path`` as live recorded the session before it wrote ``calibration-start`` markers
    (the recordings analyze infers the recalibrations of): without them, and without the
    set-start each calibrate key then wrote (the set restarting)."""
    kept: list[str] = []
    restart = False  # the set-start the last calibration-start marker's key wrote is next
    for line in path.read_text().splitlines():
        if '"kind":"calibration-start"' in line:
            restart = True
            continue
        if restart and '"kind":"set-start"' in line and '"counting":true' in line:
            restart = False
            continue
        kept.append(line)
    out.write_text("".join(f"{x}\n" for x in kept))
    return out


def _analyzed(
    path: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, dict[str, Any], str]:
    code = main(["analyze", str(path), "--json", *extra])
    captured = capsys.readouterr()
    out: dict[str, Any] = json.loads(captured.out)
    return code, out, captured.err


def _truth_peaks(sim: SimSession) -> list[float]:
    primary = sim.primary_deg(get_exercise(_drill(sim)).primary)
    return [
        float(primary[round(r.start_s * RATE_HZ) : round(r.end_s * RATE_HZ)].max())
        for r in sim.reps
    ]


def _off_deg(axes: Any, truth: npt.NDArray[np.float64]) -> float:
    """The largest angle between reported thigh axes and the simulated mounting's."""
    cos = np.clip(np.sum(np.array(axes) * truth, axis=1), -1.0, 1.0)
    return float(np.degrees(np.arccos(cos)).max())


@pytest.mark.parametrize("marked", [True, False], ids=["marked", "before-the-marker"])
@pytest.mark.parametrize(
    ("exercise_id", "start_key_after_s"),
    [("swing-forward", 1.0), ("knee-drive", None), ("slr", None)],
)
async def test_analyze_recalibrates_where_the_live_session_did(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    exercise_id: str,
    start_key_after_s: float | None,
    marked: bool,
) -> None:
    """Re-strapped (turned ~107 degrees on the thigh) and recalibrated before the second set,
    with or without starting the set by key afterwards: analyze counts both sets with the
    reps, peaks and announcement times live had, and exports angles that follow the truth of
    each strapping. It used to keep the first calibration: the second set was lost (the
    key's set-stop was followed and nothing started counting again), or, with the start key,
    counted with the old mounting (forward swings: 1 rep of 8 degrees instead of 6).

    ``marked``: the recording as live writes it, with the calibrate key's
    ``calibration-start`` marker, which analyze follows; else as live wrote it before, where
    analyze infers the recalibration from the calibration records."""
    first, then = _set(exercise_id, 41), _set(exercise_id, 42)
    assert _off_deg(then.mounting.r_ts, first.mounting.r_ts) > 60
    path = tmp_path / "restrapped.jsonl"
    live = await _live(path, first, then, start_key_after_s=start_key_after_s)
    if not marked:
        path = _as_before_the_marker(path, tmp_path / "before-the-marker.jsonl")
    # live: two sets of six, each near the truth of its own strapping (within the pipeline's
    # own error, up to ~3 degrees on brisk knee drives)
    assert [len(s.reps) for s in live] == [6, 6]
    for done, sim in zip(live, (first, then), strict=True):
        assert done.calibration is not None
        assert _off_deg(done.calibration.thigh_axes_in_sensor, sim.mounting.r_ts) < 5
        peaks = [r.peak_deg for r in done.reps]
        assert np.allclose(peaks, _truth_peaks(sim), atol=4.0)
    recording = read_recording(path)
    assert [c.calibration["leg"] for c in recording.calibrations] == ["right", "right"]
    csv = tmp_path / "angles.csv"
    code, out, err = _analyzed(path, capsys, "--angles-csv", str(csv))
    assert code == 0 and err == ""
    live_reps = [r for s in live for r in s.reps]
    assert out["rep_count"] == len(live_reps) == 12
    for got, want in zip(out["reps"], live_reps, strict=True):
        assert got["detected_s"] == pytest.approx(want.detected_s, abs=1e-3)
        assert (got["start_s"], got["end_s"]) == (
            pytest.approx(want.start_s, abs=1e-3),
            pytest.approx(want.end_s, abs=1e-3),
        )
        assert got["peak_deg"] == pytest.approx(want.peak_deg, abs=0.05)  # a rounding step
    if marked:  # followed exactly: what analyze reports is what live had
        shown = ("start_s", "end_s", "detected_s", "peak_deg")
        assert [{k: r[k] for k in shown} for r in out["reps"]] == [
            {k: v for k, v in rep_json(r).items() if k in shown} for r in live_reps
        ]
    # the result's calibration is the one the second set was counted with
    assert _off_deg(out["calibration"]["thigh_axes_in_sensor"], then.mounting.r_ts) < 5
    # the exported angles: every sample once, in order, each set's near its own truth
    table = np.loadtxt(csv, delimiter=",", skiprows=1)
    assert len(table) == (len(first) + len(then)) // PER_PACKET * PER_PACKET
    assert np.all(np.diff(table[:, 0]) > 0)
    for sim, offset in ((first, 0), (then, len(first))):
        lo, hi = round(sim.reps[0].start_s * RATE_HZ), round(sim.reps[-1].end_s * RATE_HZ)
        error = table[offset + lo : offset + hi, 1] - sim.flexion_deg[lo:hi]
        assert np.abs(error).max() < 4.0


@pytest.mark.parametrize("marked", [True, False], ids=["marked", "before-the-marker"])
async def test_a_recalibrated_set_of_another_drill_has_its_own_calibration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], marked: bool
) -> None:
    """Forward swings, then knee drives picked, the sensor re-strapped and recalibrated: the
    per-set form counts both as live did, each with the calibration of its own strapping."""
    first, then = _set("swing-forward", 41), _set("knee-drive", 42)
    path = tmp_path / "restrapped.jsonl"
    live = await _live(path, first, then, start_key_after_s=None, switch=True)
    if not marked:
        path = _as_before_the_marker(path, tmp_path / "before-the-marker.jsonl")
    assert [(s.exercise_id, len(s.reps)) for s in live] == [("swing-forward", 6), ("knee-drive", 6)]
    code, out, err = _analyzed(path, capsys)
    assert code == 0 and err == ""
    assert [(s["exercise"], s["rep_count"]) for s in out["sets"]] == [
        ("swing-forward", 6),
        ("knee-drive", 6),
    ]
    for got, done, sim in zip(out["sets"], live, (first, then), strict=True):
        assert _off_deg(got["calibration"]["thigh_axes_in_sensor"], sim.mounting.r_ts) < 5
        assert [r["detected_s"] for r in got["reps"]] == [
            pytest.approx(r.detected_s, abs=1e-3) for r in done.reps
        ]


async def test_one_calibration_analyses_as_without_its_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A live recording without a recalibration (one calibration record): the record
    changes nothing, analyze gives what it gives for the recording without it."""
    path = tmp_path / "once.jsonl"
    live = await _live(path, _set("knee-drive", 43), None, start_key_after_s=None)
    lines = path.read_text().splitlines()
    assert sum('"type":"calibration"' in line for line in lines) == 1
    bare = tmp_path / "bare.jsonl"
    bare.write_text("".join(f"{x}\n" for x in lines if '"type":"calibration"' not in x))
    _, once, _ = _analyzed(path, capsys)
    _, without, _ = _analyzed(bare, capsys)
    assert once["rep_count"] == sum(len(s.reps) for s in live) == 6
    assert {**once, "path": None} == {**without, "path": None}


def _damaged(calibration: dict[str, Any], what: str) -> str:
    """``calibration`` damaged as ``what`` says; why analyze finds it malformed."""
    if what == "axes":
        calibration["thigh_axes_in_sensor"] = [[1, 0, 0]]
        return "thigh_axes_in_sensor is not a rotation matrix"
    if what == "leg":
        calibration["leg"] = "middle"
        return "'middle' is not a valid Leg"
    calibration.pop(what)
    return "it names no sensor" if what == "sensor" else f"it has no {what}"


async def test_a_malformed_calibration_record_is_told_and_ignored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The second calibration record damaged: the recording still analyses (exit 0), one
    line says which record was ignored and why; without it the recalibration is not seen,
    so the first set is counted as live counted it and the second, as before, not. (A
    recording made before live marked the calibrate key: analyze infers it from the records.)"""
    path = tmp_path / "restrapped.jsonl"
    live = await _live(path, _set("knee-drive", 41), _set("knee-drive", 42), start_key_after_s=None)
    lines = _as_before_the_marker(path, tmp_path / "before.jsonl").read_text().splitlines()
    at = [i for i, x in enumerate(lines) if '"type":"calibration"' in x][1]
    for what in ("axes", "leg", "posture", "sensor"):
        record = json.loads(lines[at])
        why = _damaged(record["calibration"], what)
        damaged = tmp_path / f"{what}.jsonl"
        damaged.write_text(
            "".join(f"{x}\n" for x in [*lines[:at], json.dumps(record), *lines[at + 1 :]])
        )
        code, out, err = _analyzed(damaged, capsys)
        assert code == 0
        told = f"the calibration record at {record['t_host_s']:.1f} s is malformed ({why})"
        assert err.splitlines() == [f"hipsense: {damaged}: {told}; it is ignored"]
        assert out["warnings"] == [f"{told}; it is ignored"]
        assert [r["peak_deg"] for r in out["reps"]] == [round(r.peak_deg, 2) for r in live[0].reps]


def _record(t_s: float, leg: str, posture: str = "standing", **extra: Any) -> CalibrationRecord:
    axes = np.eye(3).tolist()
    fields = {"sensor": "thigh", "posture": posture, "leg": leg, "thigh_axes_in_sensor": axes}
    return CalibrationRecord(t_s, fields | extra)


def _stop(t_s: float) -> Marker:
    return Marker(t_s, "set-stop", {"exercise": "knee-drive", "leg": "right", "counting": False})


def test_recalibrations_are_consecutive_calibrations_of_one_posture_and_leg() -> None:
    """A calibration for the same leg and posture as the one before it is a recalibration,
    begun at the last counted stop since (the calibrate key stops the set) or, without one,
    right after it; a leg switch or another posture calibrates without the key."""
    other_sensor = _record(3.0, "right", sensor="left_thigh")
    legs = [_record(1.0, "right"), other_sensor, _record(5.0, "left"), _record(9.0, "right")]
    assert recalibrations_in(legs, [_stop(4.0)], "thigh").at_s == ()
    again = [_record(1.0, "right"), _record(9.0, "right"), _record(20.0, "right")]
    older_stop = Marker(6.0, "set-stop", {"exercise": "knee-drive", "leg": "right"})
    stops = [_stop(0.5), _stop(4.0), _stop(6.5), older_stop, _stop(25.0)]
    assert recalibrations_in(again, stops, "thigh").at_s == (6.5, 9.0)
    postures = [_record(1.0, "right"), _record(5.0, "right", "supine"), _record(9.0, "right")]
    assert recalibrations_in(postures, [], "thigh").at_s == (1.0,)
    assert recalibrations_in(again, stops, "left_thigh").at_s == ()  # not this sensor's


def _marker(t_s: float, **data: Any) -> Marker:
    return Marker(t_s, "calibration-start", {"exercise": "knee-drive", "leg": "right"} | data)


def test_calibration_start_markers_say_where_it_recalibrated() -> None:
    """A recording with calibration-start markers recalibrates at each (every sensor's, or
    the one it names), not where the calibration records would suggest."""
    records = [_record(1.0, "right"), _record(9.0, "right"), _record(20.0, "right")]
    stops = [_stop(6.5)]
    assert recalibrations_in(records, stops, "thigh").at_s == (6.5, 9.0)  # inferred
    keys = [_marker(12.0), _marker(5.25), _marker(7.0, sensor="left_thigh")]
    assert recalibrations_in(records, [*stops, *keys], "thigh") == Recalibrations((5.25, 12.0))
    assert recalibrations_in(records, keys, "left_thigh").at_s == (5.25, 7.0, 12.0)


def test_a_malformed_calibration_start_marker_leaves_its_recalibration_to_the_records() -> None:
    """A marker naming its sensor by anything but a name is told and ignored; the
    recalibrations the calibration records show between two records with no well-formed
    marker of this sensor between them are followed instead, at their inferred times (here
    the set-stop the key wrote), and said so in the same line."""
    records = [_record(1.0, "right"), _record(9.0, "right"), _record(20.0, "right")]
    stops = [_stop(6.5), _stop(14.75)]
    bad = recalibrations_in(records, [*stops, _marker(5.25), _marker(14.75, sensor=5)], "thigh")
    assert bad == Recalibrations(
        (5.25, 14.75),
        (
            "the calibration-start marker at 14.8 s is malformed (its sensor is 5, not a"
            " sensor's name); it is ignored, and the recalibration inferred from the"
            " calibration records at 14.8 s (no marker places it) is followed instead",
        ),
    )
    # another sensor's well-formed marker places none of this sensor's recalibrations
    other = _marker(12.0, sensor="left_thigh")
    both = recalibrations_in(records, [*stops, other, _marker(3.0, sensor=[1])], "thigh")
    assert both.at_s == (6.5, 14.75)
    assert both.warnings[0].endswith(
        "it is ignored, and the recalibrations inferred from the calibration records at"
        " 6.5, 14.8 s (no marker places them) are followed instead"
    )
    # every recalibration the records show has its marker: nothing is added
    placed = [_marker(5.25), _marker(12.0), _marker(13.0, sensor={"a": 1})]
    assert recalibrations_in(records, [*stops, *placed], "thigh") == Recalibrations(
        (5.25, 12.0),
        (
            'the calibration-start marker at 13.0 s is malformed (its sensor is {"a": 1},'
            " not a sensor's name); it is ignored (the calibration records show no"
            " recalibration that the markers miss)",
        ),
    )


def _batch(t0_s: float, n: int = 19, rate_hz: float = 100.0) -> SampleBatch:
    t = t0_s + np.arange(n) / rate_hz
    acc = np.tile([0.0, 0.0, 9.81], (n, 1))
    return SampleBatch("thigh", t, acc, np.zeros((n, 3)))


def test_the_calibrate_key_restarts_the_set_and_says_where_it_took_effect() -> None:
    """The key closes the running set and starts a new one (counted from zero once the new
    calibration is found), also when the set had been stopped: the session says so, as it
    says every set start, and notes where in the samples the new calibration begins."""
    session = Session("knee-drive", Leg.RIGHT, {"thigh": 100.0})
    session.feed(_batch(0.0))
    session.drain()
    session.recalibrate()
    assert session.counting
    assert session.drain() == [
        SetCounting("knee-drive", "right", counting=False),
        SetCounting("knee-drive", "right", counting=True),
    ]
    assert _recalibrated(session) == []  # where: once the next sample is fed
    session.feed(_batch(0.19))
    assert _recalibrated(session) == [pytest.approx(0.185)]  # between 0.18 s and 0.19 s
    session.stop_set()
    session.drain()
    session.recalibrate()
    assert session.counting
    assert session.drain() == [SetCounting("knee-drive", "right", counting=True)]
    fresh = Session("knee-drive", Leg.RIGHT, {"thigh": 100.0})
    fresh.recalibrate()  # before any sample: half a sample period before the first
    fresh.feed(_batch(3.0))
    assert _recalibrated(fresh) == [pytest.approx(2.995)]


def _recalibrated(session: Session) -> list[float]:
    """Where the session placed its recalibrations (the calibrate key) in the samples."""
    return [p.at_s for p in session.placed if isinstance(p.control, Recalibrated)]


async def test_the_recording_marks_the_calibrate_key_and_the_set_it_restarts(
    tmp_path: Path,
) -> None:
    """The calibrate key is recorded where it took effect, between the last sample the old
    calibration saw and the first the new one saw, and the set it restarts is recorded as a
    set start, as live counted it: the recording no longer says the count stopped while
    live went on counting the second set."""
    path = tmp_path / "restrapped.jsonl"
    key: list[float] = []
    live = await _live(
        path,
        _set("knee-drive", 41),
        _set("knee-drive", 42),
        start_key_after_s=None,
        key_between=key,
    )
    assert [len(s.reps) for s in live] == [6, 6]
    markers = read_recording(path).markers
    (marked,) = [m.t_host_s for m in markers if m.kind == "calibration-start"]
    before, after = key
    assert before < marked < after
    sets = [(m.kind, m.data.get("counting")) for m in markers if m.kind.startswith("set-")]
    # started; the key: stopped, restarted; the end of the input: stopped
    assert sets == [
        ("set-start", True),
        ("set-stop", False),
        ("set-start", True),
        ("set-stop", False),
    ]


async def _restrapped(path: Path, exercise_id: str = "knee-drive") -> list[FinishedSet]:
    return await _live(path, _set(exercise_id, 41), _set(exercise_id, 42), start_key_after_s=None)


def _replayed(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str], str]:
    code = main(["replay", str(path), "--speed", "max", "--plain"])
    captured = capsys.readouterr()
    shown = [x for x in captured.out.splitlines() if x.startswith(("set ", "rep "))]
    return code, shown, captured.err


@pytest.mark.parametrize("marked", [True, False], ids=["marked", "before-the-marker"])
@pytest.mark.parametrize("exercise_id", ["knee-drive", "slr"])
def test_replay_recalibrates_where_the_live_session_did(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], exercise_id: str, marked: bool
) -> None:
    """Replay of a recording with a recalibration shows the second set as live counted it,
    rep by rep, like analyze. It used to keep the first calibration: the second set was not
    shown, or, where a set start followed the key (the set it restarts, now recorded),
    counted with the old mounting (SLR: 3 raises instead of 6)."""
    path = tmp_path / "restrapped.jsonl"
    live = asyncio.run(_restrapped(path, exercise_id))
    if not marked:
        path = _as_before_the_marker(path, tmp_path / "before-the-marker.jsonl")
    code, shown, err = _replayed(path, capsys)
    assert code == 0 and err == ""
    sets = [x.split(",")[0] for x in shown if x.startswith("set ")]
    target = get_exercise(exercise_id).target_reps
    assert sets == [f"set {exercise_id} right: 6/{target} reps"] * 2
    reps = [x.split(" rom=")[0] for x in shown if x.startswith("rep ")]
    live_reps = [r for s in live for r in s.reps]
    assert [x.split(" peak=")[0] for x in reps] == [
        f"rep {exercise_id} right #{r.index} t={r.detected_s:.2f}s" for r in live_reps
    ]
    peaks = [float(x.split(" peak=")[1].rstrip("°")) for x in reps]
    if marked:  # the peaks as live showed them
        assert peaks == [round(r.peak_deg, 1) for r in live_reps]
    else:  # inferred a batch late: within a step of the display (SLR: 22.5 for 22.6)
        assert peaks == pytest.approx([r.peak_deg for r in live_reps], abs=0.1)


def test_a_recalibration_whose_marker_is_malformed_is_inferred_from_the_records(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The calibrate key's calibration-start marker names its sensor by a number: analyze
    and replay go on (exit 0), one line says the marker was ignored and what was followed
    instead, and both sets are counted exactly as live counted them: the calibration
    records show the recalibration, begun at the set-stop the key wrote where the marker
    was. It used to be lost: the second set was counted with the old mounting."""
    path = tmp_path / "restrapped.jsonl"
    live = asyncio.run(_restrapped(path))
    lines = path.read_text().splitlines()
    at = next(i for i, x in enumerate(lines) if '"kind":"calibration-start"' in x)
    marker = json.loads(lines[at]) | {"sensor": 5}
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_text(
        "".join(f"{x}\n" for x in [*lines[:at], json.dumps(marker), *lines[at + 1 :]])
    )
    t = f"{marker['t_host_s']:.1f} s"
    told = (
        f"the calibration-start marker at {t} is malformed (its sensor is 5, not a sensor's"
        f" name); it is ignored, and the recalibration inferred from the calibration records"
        f" at {t} (no marker places it) is followed instead"
    )
    code, out, err = _analyzed(damaged, capsys)
    live_reps = [r for s in live for r in s.reps]
    assert [len(s.reps) for s in live] == [6, 6]
    assert code == 0 and out["reps"] == [rep_json(r) for r in live_reps]
    assert err.splitlines() == [f"hipsense: {damaged}: {told}"]
    assert out["warnings"] == [told]
    code, shown, err = _replayed(damaged, capsys)
    assert code == 0 and err.splitlines() == [f"hipsense: {damaged}: {told}"]
    reps = [x.split(" rom=")[0] for x in shown if x.startswith("rep ")]
    assert reps == [
        f"rep knee-drive right #{r.index} t={r.detected_s:.2f}s peak={r.peak_deg:.1f}°"
        for r in live_reps
    ]
