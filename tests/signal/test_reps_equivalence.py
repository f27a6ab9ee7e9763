"""The fast detector gives exactly the events of the per-sample reference, in any batching."""

from __future__ import annotations

import numpy as np
import pytest
from reps_reference import RepDetector as ReferenceDetector

from hipsense.signal.reps import RepDetector

Detector = RepDetector | ReferenceDetector

EXERCISES = ("slr", "leg-lowering", "hip-circles", "swing-forward", "knee-drive")


def session(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reps of random size and tempo, holds, fidgets, steps, drift, lost and repeated samples."""
    rng = np.random.default_rng(seed)
    rate = rng.choice([25.0, 50.0, 100.0])
    parts: list[np.ndarray] = []
    level = 0.0
    for _ in range(int(rng.integers(20, 40))):
        parts.append(np.full(int(rng.uniform(0.1, 3.0) * rate), level))
        kind = rng.choice(["rep", "rep", "fidget", "step", "long"])
        n = max(2, int(rng.uniform(0.3, 4.0) * rate))
        bump = np.sin(np.linspace(0.0, np.pi, n))
        if kind == "rep":
            parts.append(level + rng.uniform(-90, 90) * bump)
        elif kind == "fidget":
            parts.append(level + rng.uniform(-7, 7) * bump)
        elif kind == "step":
            level += rng.uniform(-15, 15)
        else:  # held up longer than max_rep_s: a posture change
            parts.append(level + 40.0 + np.zeros(int(32 * rate)))
    angle = np.concatenate(parts)
    angle += rng.normal(0, 0.3, angle.size) + np.cumsum(rng.normal(0, 0.02, angle.size))
    t = np.arange(angle.size) / rate + rng.normal(0, 0.002 / rate, angle.size)
    angle[rng.random(t.size) < 0.03] = np.nan
    t[rng.random(t.size) < 0.01] = np.nan
    repeat = rng.random(t.size) < 0.01
    t[1:][repeat[1:]] = t[:-1][repeat[1:]]  # duplicates
    swap = np.flatnonzero(rng.random(t.size - 1) < 0.005)
    t[swap], t[swap + 1] = t[swap + 1], t[swap]  # out of order
    secondary = 0.3 * angle + rng.normal(0, 1.0, angle.size)
    return t, angle, secondary


def events_or_error(detector: Detector, *batch: np.ndarray) -> str:
    """repr of the events (exact floats; NaN fields compare equal), or of the error raised:
    ``measure_rep`` can fail on some reps, and then both must fail alike."""
    try:
        return repr(detector.update(*batch))
    except IndexError as exc:
        return repr(exc)


@pytest.mark.parametrize("seed", range(16))
def test_same_events_and_states_as_the_reference(seed: int) -> None:
    t, angle, secondary = session(seed)
    rng = np.random.default_rng(seed + 100)
    exercise = EXERCISES[seed % len(EXERCISES)]
    fast, ref = RepDetector(exercise), ReferenceDetector(exercise)
    whole = events_or_error(RepDetector(exercise), t, angle, secondary)
    assert whole == events_or_error(ReferenceDetector(exercise), t, angle, secondary)
    i = 0
    while i < t.size:
        n = int(rng.choice([1, 5, 19, 200, 3000]))
        batch = t[i : i + n], angle[i : i + n], secondary[i : i + n]
        got = events_or_error(fast, *batch)
        assert got == events_or_error(ref, *batch)
        if "Error" in got:
            return
        assert repr(fast.state) == repr(ref.state)
        i += n
    assert fast.finish() == [] and ref.finish() == []
    assert ref.count >= 1
