"""What an SLR test should report for a simulated person: kicks are no trials."""

from __future__ import annotations

from hipsense.sim import SessionPlan, SimSession

FAST_RISE_S = 0.5  # the simulator's fast raises go up in 0.35-0.5 s, its others in 0.8-2 s


def controlled_raises(plan: SessionPlan) -> tuple[bool, ...]:
    """Per planned straight leg raise: False for a fast one (a kick)."""
    raises = [r for step in plan.steps if step.exercise_id == "slr" for r in step.reps]
    return tuple(spec.rise_s > FAST_RISE_S for spec in raises)


def best_controlled_peak_deg(plan: SessionPlan, sim: SimSession) -> float:
    """The truth's highest straight leg raise, kicks left out."""
    peaks = [r.peak_deg for r in sim.reps if r.exercise_id == "slr"]
    return max(p for p, ok in zip(peaks, controlled_raises(plan), strict=True) if ok)
