"""A recording of several sets reports, for each set, the mounting calibration its angles were
computed with, not the one its posture ended the file with."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from hipsense.cli import main
from hipsense.exercises import Leg
from hipsense.protocol import encode_imu_packet
from hipsense.recording import RecordingHeader, RecordingWriter, SensorEntry
from hipsense.sim import Conditions, SimSession, plan_set, simulate

PER_PACKET = 19
TURNED = Conditions(random_mounting=True)  # each strapping turned its own way on the skin


def _knee_drives(leg: Leg, seed: int) -> SimSession:
    plan = plan_set("knee-drive", leg, 5, np.random.default_rng(seed))
    return simulate(plan, rate_hz=100.0, seed=seed, conditions=TURNED)


def _record(path: Path, first: SimSession, then: SimSession | None) -> Path:
    """One sensor ("thigh") through ``first``'s set, then moved to the other thigh for
    ``then``'s, marked as the live session marks a leg switch."""
    parts = [first] if then is None else [first, then]
    acc = np.concatenate([s.acc_raw for s in parts])
    gyr = np.concatenate([s.gyr_raw for s in parts])
    rate = first.rate_hz
    header = RecordingHeader(
        sensors=(SensorEntry("thigh", first.info),), exercise="knee-drive", leg=first.leg.value
    )
    switch = len(first)
    with RecordingWriter(path, header) as rec:
        for i in range(0, len(acc) - PER_PACKET + 1, PER_PACKET):
            if then is not None and i <= switch < i + PER_PACKET:
                t_switch = switch / rate
                rec.write_marker("set-start", t_switch, exercise="knee-drive", leg=then.leg.value)
            payload = encode_imu_packet(
                i, round(i * 1e6 / rate), acc[i : i + PER_PACKET], gyr[i : i + PER_PACKET]
            )
            rec.write_packet("thigh", payload, t_host_s=(i + PER_PACKET) / rate)
    return path


def _analyzed(path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main(["analyze", str(path), "--json"]) == 0
    out: dict[str, Any] = json.loads(capsys.readouterr().out)
    return out


def _rounded(value: Any) -> Any:
    """``value`` with every float rounded to 9 decimals, lists and dicts followed."""
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value


def _off_deg(calibration: dict[str, Any], truth: npt.NDArray[np.float64]) -> float:
    """The largest angle between a reported thigh axis and the simulated mounting's."""
    axes = np.array(calibration["thigh_axes_in_sensor"])
    cos = np.clip(np.sum(axes * truth, axis=1), -1.0, 1.0)
    return float(np.degrees(np.arccos(cos)).max())


def test_each_set_reports_the_calibration_of_its_own_strapping(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The sensor moved from the right thigh to the left between two sets of knee drives
    (same posture, so the session keeps one calibration for both): the right leg's set
    reports the right strapping's calibration, the one a recording of that set alone gets,
    not the left leg's, which calibrated later."""
    right, left = _knee_drives(Leg.RIGHT, 31), _knee_drives(Leg.LEFT, 32)
    assert _off_deg({"thigh_axes_in_sensor": left.mounting.r_ts}, right.mounting.r_ts) > 30
    both = _analyzed(_record(tmp_path / "both.jsonl", right, left), capsys)
    alone = _analyzed(_record(tmp_path / "right.jsonl", right, None), capsys)
    first, second = both["sets"]
    assert (first["leg"], first["rep_count"], second["leg"], second["rep_count"]) == (
        "right",
        5,
        "left",
        5,
    )
    assert first["calibration"]["leg"] == "right" and second["calibration"]["leg"] == "left"
    assert _off_deg(first["calibration"], right.mounting.r_ts) < 5
    assert _off_deg(second["calibration"], left.mounting.r_ts) < 5
    # the same up to rounding (the two files reach the session in batches cut differently)
    assert _rounded(first["calibration"]) == _rounded(alone["calibration"])
    assert [r["peak_deg"] for r in first["reps"]] == [r["peak_deg"] for r in alone["reps"]]
    # the table names each set's own calibration quality
    assert main(["analyze", str(tmp_path / "both.jsonl")]) == 0
    lines = capsys.readouterr().out.splitlines()
    shown = [line for line in lines if line.startswith("calibration: ")]
    assert shown == [
        f"calibration: {s['calibration']['grade']} (quality {s['calibration']['quality']:.2f})"
        for s in (first, second)
    ]
