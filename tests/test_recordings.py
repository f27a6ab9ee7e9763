"""Every sample recording in recordings/ replays through the live pipeline to its truth."""

import json
from pathlib import Path

import numpy as np
import pytest

from hipsense.analysis import analyze
from hipsense.exercises import CATALOGUE, Angle, Leg
from hipsense.sources.replay import load_input

RECORDINGS = Path(__file__).resolve().parents[1] / "recordings"
TRUTHS = sorted(RECORDINGS.glob("*.truth.json"))
GAP_SETTLE_S = 2.0  # after a gap during motion, angles wait this long at most to re-anchor


def _recording(truth_path: Path) -> Path:
    return truth_path.with_name(truth_path.name.replace(".truth.json", ".jsonl.gz"))


def test_every_exercise_and_leg_is_recorded() -> None:
    names = {p.name for p in TRUTHS}
    for exercise_id in [*CATALOGUE, "hip-circles"]:
        for leg in Leg:
            assert f"{exercise_id}_{leg.value}.truth.json" in names
    assert any("loss" in n for n in names) and any("reconnect" in n for n in names)
    assert sum(p.stat().st_size for p in RECORDINGS.iterdir()) < 4_000_000


@pytest.mark.parametrize("truth_path", TRUTHS, ids=lambda p: p.name.removesuffix(".truth.json"))
def test_recording_replays_to_its_truth(truth_path: Path) -> None:
    truth = json.loads(truth_path.read_text())
    loaded = load_input(_recording(truth_path))
    t0 = loaded.batches[0].t_s[0]  # sensor time 0 on the replayed host clock
    result = analyze(loaded, truth["exercise"], Leg(truth["leg"]))
    assert result.calibration_error is None

    truth_reps = [(r["start_s"] + t0, r["end_s"] + t0) for r in truth["reps"]]
    gaps = [b.t_s[0] for b in loaded.batches if b.lost_before]
    if truth["dropped_link_at_s"] is None:
        assert len(result.reps) == truth["rep_count"]
    else:
        assert gaps, "a dropped link must show as a gap"
        clear = [r for r in truth_reps if all(r[1] < g or r[0] > g + GAP_SETTLE_S for g in gaps)]
        found = [(r.start_s, r.end_s) for r in result.reps]
        for start, end in clear:
            assert any(s < end and e > start for s, e in found), f"rep at {start:.1f} s missed"
        assert len(clear) <= len(result.reps) <= truth["rep_count"]

    exercise = CATALOGUE.get(truth["exercise"])
    key = "abduction_deg" if exercise and exercise.primary is Angle.ABDUCTION else "flexion_deg"
    t_truth = np.asarray(truth["angles"]["t_s"]) + t0
    estimate = np.interp(t_truth, result.t_s, getattr(result, key))
    ok = np.isfinite(estimate)
    assert ok.mean() > 0.9
    error = estimate[ok] - np.asarray(truth["angles"][key])[ok]
    assert float(np.sqrt(np.mean(error**2))) < 1.5
