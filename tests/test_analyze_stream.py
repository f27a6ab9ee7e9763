"""Analysing as the input is read gives what analysing it loaded whole gives."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hipsense.analysis import AnglePiece, analyze, analyze_stream
from hipsense.exercises import Leg
from hipsense.recording import stream as recording_stream
from hipsense.sources.replay import load_input
from hipsense.sources.streamed import open_input

RECORDINGS = Path(__file__).resolve().parents[1] / "recordings"


@pytest.mark.parametrize("name", ["slr_left", "knee-drive_right_loss"])
def test_streamed_analysis_equals_the_loaded_one(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recording_stream, "BLOCK_LINES", 64)
    path = RECORDINGS / f"{name}.jsonl.gz"
    truth = json.loads((RECORDINGS / f"{name}.truth.json").read_text())
    exercise, leg = truth["exercise"], Leg(truth["leg"])
    whole = analyze(load_input(path), exercise, leg)
    pieces: list[AnglePiece] = []
    streamed = analyze_stream(open_input(path), exercise, leg, sink=pieces.append)
    assert streamed.reps == whole.reps and streamed.quality == whole.quality
    assert streamed.calibration == whole.calibration and len(streamed.t_s) == 0
    for got, want in [
        (np.concatenate([p.t_s for p in pieces]), whole.t_s),
        (np.concatenate([p.flexion_deg for p in pieces]), whole.flexion_deg),
        (np.concatenate([p.quat_wxyz for p in pieces]), whole.quat_wxyz),
    ]:
        np.testing.assert_array_equal(got, want)
