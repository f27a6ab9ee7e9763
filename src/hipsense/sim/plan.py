"""What the simulated person does: steps (still, calibration swings, sets, transitions).

A plan holds the person's movement choices (per-rep amplitudes, tempo, off-plane motion),
drawn from the rng given to the planning helpers. Nuisances that are not the person's
intention (noise, wobble, fidgets, pauses, lost packets, mounting) come from ``Conditions``
and the seed given to ``simulate``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from hipsense.exercises import Leg, Posture
from hipsense.sim.repspecs import (
    HIP_CIRCLES,
    SIM_EXERCISES,
    STANDING_DRILLS,
    SUPINE_DRILLS,
    RepSpec,
    calibration_swings,
    plan_reps,
)

__all__ = [
    "HIP_CIRCLES",
    "SIM_EXERCISES",
    "STANDING_DRILLS",
    "SUPINE_DRILLS",
    "PlanStep",
    "RepSpec",
    "SegmentKind",
    "SessionPlan",
    "calibration_swings",
    "plan_reps",
    "plan_session",
    "plan_set",
    "plan_warmup",
    "planned_duration_s",
    "set_steps",
]

SegmentKind = Literal["still", "calibration-swings", "set", "pause", "fidget", "transition"]


@dataclass(frozen=True)
class PlanStep:
    kind: SegmentKind
    posture: Posture
    leg: Leg
    duration_s: float = 0.0  # still / transition / pause / fidget; sets take their reps' time
    exercise_id: str | None = None
    reps: tuple[RepSpec, ...] = ()


@dataclass(frozen=True)
class SessionPlan:
    """The steps of one session; the sensor is strapped to ``leg``'s thigh."""

    leg: Leg
    posture: Posture
    steps: tuple[PlanStep, ...]


def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def set_steps(
    exercise_id: str, leg: Leg, n_reps: int, rng: np.random.Generator, *, with_calibration: bool
) -> list[PlanStep]:
    """Steps for one set, preceded by the domain's calibration protocol when asked."""
    posture = SIM_EXERCISES[exercise_id].posture if exercise_id in SIM_EXERCISES else None
    if posture is None:
        plan_reps(exercise_id, n_reps, rng)  # raises the helpful KeyError
        raise AssertionError("unreachable")
    steps = [PlanStep("still", posture, leg, _u(rng, 2.2, 3.5))]
    if with_calibration and posture is Posture.STANDING:
        steps.append(PlanStep("calibration-swings", posture, leg, reps=calibration_swings(rng)))
        steps.append(PlanStep("still", posture, leg, _u(rng, 2.2, 3.5)))
    steps.append(
        PlanStep(
            "set", posture, leg, exercise_id=exercise_id, reps=plan_reps(exercise_id, n_reps, rng)
        )
    )
    steps.append(PlanStep("still", posture, leg, _u(rng, 2.0, 3.0)))
    return steps


def plan_set(
    exercise_id: str,
    leg: Leg,
    n_reps: int,
    rng: np.random.Generator,
    *,
    with_calibration: bool = True,
) -> SessionPlan:
    """One set of one exercise, with the calibration protocol first (standing: still, three
    slow forward swings, still; supine: still lying, and the set's first rep calibrates)."""
    steps = set_steps(exercise_id, leg, n_reps, rng, with_calibration=with_calibration)
    return SessionPlan(leg, steps[0].posture, tuple(steps))


def plan_warmup(leg: Leg, rng: np.random.Generator, *, both_legs: bool = False) -> SessionPlan:
    """The demo warm-up: standing calibration, forward swings, lateral swings, knee drives,
    lying down, still, straight leg raises (then the other leg's, which the sensor's thigh
    only feels through the pelvis, when ``both_legs``)."""
    standing = Posture.STANDING
    steps = set_steps("swing-forward", leg, int(rng.integers(10, 16)), rng, with_calibration=True)
    for exercise_id in ("swing-lateral", "knee-drive"):
        steps.append(
            PlanStep(
                "set",
                standing,
                leg,
                exercise_id=exercise_id,
                reps=plan_reps(exercise_id, int(rng.integers(10, 16)), rng),
            )
        )
        steps.append(PlanStep("still", standing, leg, _u(rng, 2.5, 4.0)))
    steps.append(PlanStep("transition", Posture.SUPINE, leg, _u(rng, 4.0, 6.0)))
    steps.append(PlanStep("still", Posture.SUPINE, leg, _u(rng, 2.5, 4.0)))
    legs = (leg, leg.other) if both_legs else (leg,)
    for slr_leg in legs:
        steps.append(
            PlanStep(
                "set", Posture.SUPINE, slr_leg, exercise_id="slr", reps=plan_reps("slr", 3, rng)
            )
        )
        steps.append(PlanStep("still", Posture.SUPINE, leg, _u(rng, 2.5, 4.0)))
    return SessionPlan(leg, standing, tuple(steps))


def planned_duration_s(steps: list[PlanStep] | tuple[PlanStep, ...]) -> float:
    """Roughly how long the steps take (fidgets, pauses and lead-ins not counted)."""
    return sum(
        s.duration_s + sum(r.rise_s + r.hold_s + r.fall_s + r.rest_s for r in s.reps) for s in steps
    )


def plan_session(leg: Leg, rng: np.random.Generator, *, duration_s: float = 3600.0) -> SessionPlan:
    """A long session for benchmarks: calibration, then blocks of standing drills, lying
    down, supine drills, standing up, until at least ``duration_s`` is planned."""
    steps = set_steps("swing-forward", leg, int(rng.integers(10, 16)), rng, with_calibration=True)
    while planned_duration_s(steps) < duration_s:
        for exercise_id in rng.permutation(STANDING_DRILLS):
            steps += set_steps(
                str(exercise_id), leg, int(rng.integers(8, 16)), rng, with_calibration=False
            )[1:]
        steps.append(PlanStep("transition", Posture.SUPINE, leg, _u(rng, 4.0, 6.0)))
        steps.append(PlanStep("still", Posture.SUPINE, leg, _u(rng, 2.0, 4.0)))
        for exercise_id in SUPINE_DRILLS:
            steps += set_steps(
                exercise_id, leg, int(rng.integers(3, 7)), rng, with_calibration=False
            )[1:]
        steps.append(PlanStep("transition", Posture.STANDING, leg, _u(rng, 4.0, 6.0)))
        steps.append(PlanStep("still", Posture.STANDING, leg, _u(rng, 2.0, 4.0)))
    return SessionPlan(leg, Posture.STANDING, tuple(steps))
