"""Real supine SLR sessions (pt_exercises): exact counts and flags through the live pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hipsense.exercises import RUSHED, SHORT_RANGE, Leg, Posture
from hipsense.signal.angles import compute_angles
from hipsense.signal.reps import detect_reps

PT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "pt_exercises"

pytestmark = [
    pytest.mark.data,
    pytest.mark.skipif(not PT_DATA.is_dir(), reason=f"real SLR data not found at {PT_DATA}"),
]


def live_reps(subject: str, kind: str) -> tuple[list[str], list[tuple[str, ...]], int]:
    d = np.loadtxt(PT_DATA / subject / f"slr_{kind}_right_thigh.csv", delimiter=",", skiprows=1)
    ab = compute_angles(
        d[:, 0], d[:, 1:4], d[:, 4:7], 25.0, posture=Posture.SUPINE, leg=Leg.RIGHT, offline=False
    )
    reps = detect_reps(ab.t_s, ab.flexion_deg, ab.abduction_deg, "slr")
    labels = json.loads((PT_DATA / subject / "labels.json").read_text())
    return (
        [f"{r.peak_deg:.0f}" for r in reps],
        [r.flags for r in reps],
        labels[f"{kind}_session"]["rep_count"],
    )


def test_subject1_test_session_counts_30_and_flags_fast_and_low_reps() -> None:
    peaks, flags, n_true = live_reps("s1", "test")
    assert len(peaks) == n_true == 30
    assert sum(RUSHED in f for f in flags[10:20]) >= 9
    assert sum(SHORT_RANGE in f for f in flags[20:30]) >= 9
    assert sum(bool(f) for f in flags[:10]) <= 1


def test_subject1_template_session_counts_9() -> None:
    peaks, _, n_true = live_reps("s1", "template")
    assert len(peaks) == n_true == 9
