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


@pytest.mark.parametrize(("name", "exercise"), [("slr_left", None), ("slr_left", "none")])
def test_without_per_sample_results_the_rest_is_the_same(name: str, exercise: str | None) -> None:
    """No exports asked for: no offline fusion, and reps, calibration and quality unchanged."""
    path = RECORDINGS / f"{name}.jsonl.gz"
    truth = json.loads((RECORDINGS / f"{name}.truth.json").read_text())
    exercise, leg = exercise or truth["exercise"], Leg(truth["leg"])
    full = analyze_stream(open_input(path), exercise, leg)
    bare = analyze_stream(open_input(path), exercise, leg, per_sample=False)
    assert len(full.t_s) > 0 and len(bare.t_s) == len(bare.quat_wxyz) == 0
    assert bare.reps == full.reps and bare.quality == full.quality
    assert bare.calibration == full.calibration and bare.summary == full.summary
