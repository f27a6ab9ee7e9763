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

from hipsense.exercises import CATALOGUE, Angle, Leg, Posture

SegmentKind = Literal["still", "calibration-swings", "set", "pause", "fidget", "transition"]
HIP_CIRCLES = "hip-circles"


@dataclass(frozen=True)
class SimExercise:
    """The simulator's view of an exercise: posture and primary angle."""

    id: str
    posture: Posture
    primary: Angle


SIM_EXERCISES: dict[str, SimExercise] = {
    **{e.id: SimExercise(e.id, e.posture, e.primary) for e in CATALOGUE.values()},
    HIP_CIRCLES: SimExercise(HIP_CIRCLES, Posture.STANDING, Angle.FLEXION),
}


@dataclass(frozen=True)
class RepSpec:
    """One intended rep. Field meaning per exercise (degrees, seconds):

    peak/low: top and bottom of the primary angle (swings: front/out and back/across;
    leg-lowering: raised start and bottom; circles: top and bottom of the knee's circle).
    rise/fall: time going up and coming down; hold: at the top (leg-lowering: at the
    bottom); rest: at the bottom before the next rep. off_plane: secondary angle at the
    peak (circles: half-width of the circle in abduction); twist: long-axis rotation at
    the peak. clockwise: circle direction seen from the front.
    """

    peak_deg: float
    low_deg: float
    rise_s: float
    hold_s: float
    fall_s: float
    rest_s: float
    off_plane_deg: float = 0.0
    twist_deg: float = 0.0
    clockwise: bool = True


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


def _ramp(n: int, rng: np.random.Generator) -> np.ndarray:
    """Amplitude factors that build up over the first reps of a set, with rep-to-rep scatter."""
    start = rng.uniform(0.6, 0.85)
    reps_to_full = rng.uniform(2.0, 4.0)
    build = start + (1.0 - start) * np.minimum(1.0, np.arange(n) / reps_to_full)
    return np.asarray(build * rng.uniform(0.94, 1.04, n), dtype=np.float64)


def _tempo(rng: np.random.Generator) -> float:
    return _u(rng, 0.85, 1.15)


def _swing_reps(
    n: int,
    rng: np.random.Generator,
    *,
    peak: tuple[float, float],
    low: tuple[float, float],
    period: tuple[float, float],
    side_deg: float,
    twist_deg: float,
) -> tuple[RepSpec, ...]:
    final_peak, final_low, base_period = _u(rng, *peak), _u(rng, *low), _u(rng, *period)
    reps = []
    for factor in _ramp(n, rng):
        half = base_period * _tempo(rng) / 2.0
        reps.append(
            RepSpec(
                peak_deg=final_peak * factor,
                low_deg=final_low * factor,
                rise_s=half,
                hold_s=0.0,
                fall_s=half,
                rest_s=0.0,
                off_plane_deg=_u(rng, -side_deg, side_deg),
                twist_deg=_u(rng, -twist_deg, twist_deg),
            )
        )
    return tuple(reps)


def _raise_reps(n: int, rng: np.random.Generator, exercise_id: str) -> tuple[RepSpec, ...]:
    reps = []
    if exercise_id == "slr":
        kinds = rng.permutation(["fast", "low"] + ["normal"] * max(0, n - 2))[:n]
        final = _u(rng, 50.0, 90.0)
        for factor, kind in zip(_ramp(n, rng), kinds, strict=True):
            peak = _u(rng, 10.0, 25.0) if kind == "low" else min(90.0, final * factor)
            rise = _u(rng, 0.35, 0.5) if kind == "fast" else _u(rng, 0.8, 2.0)
            hold = 0.3 if kind == "fast" else _u(rng, 0.3, 2.0)
            reps.append(
                RepSpec(
                    peak,
                    0.0,
                    rise,
                    hold,
                    rise * _u(rng, 0.9, 1.3),
                    _u(rng, 1.0, 3.0),
                    _u(rng, -3, 3),
                    _u(rng, -6, 6),
                )
            )
        return tuple(reps)
    if exercise_id == "assisted-slr":
        final = _u(rng, 55.0, 90.0)
        for factor in _ramp(n, rng):
            reps.append(
                RepSpec(
                    final * factor,
                    0.0,
                    _u(rng, 1.5, 3.0),
                    _u(rng, 8.0, 15.0),
                    _u(rng, 1.5, 3.0),
                    _u(rng, 2.0, 4.0),
                    _u(rng, -3, 3),
                    _u(rng, -6, 6),
                )
            )
        return tuple(reps)
    # knee drives, ~1 s each with brief foot contact
    final = _u(rng, 70.0, 100.0)
    for factor in _ramp(n, rng):
        tempo = _tempo(rng)
        reps.append(
            RepSpec(
                final * factor,
                _u(rng, -3.0, 2.0),
                0.42 * tempo,
                _u(rng, 0.0, 0.1),
                0.45 * tempo,
                _u(rng, 0.1, 0.3),
                _u(rng, -6, 6),
                _u(rng, -10, 10),
            )
        )
    return tuple(reps)


def _lowering_reps(n: int, rng: np.random.Generator) -> tuple[RepSpec, ...]:
    top = _u(rng, 70.0, 90.0)
    return tuple(
        RepSpec(
            top * _u(rng, 0.95, 1.02),
            _u(rng, 0.0, 10.0) * factor,
            _u(rng, 1.0, 2.0),
            _u(rng, 4.0, 10.0),
            _u(rng, 3.0, 6.0),
            _u(rng, 0.5, 1.0),
            _u(rng, -3, 3),
            _u(rng, -5, 5),
        )
        for factor in _ramp(n, rng)
    )


def _circle_reps(n: int, rng: np.random.Generator) -> tuple[RepSpec, ...]:
    top, width, period = _u(rng, 65.0, 90.0), _u(rng, 20.0, 30.0), _u(rng, 2.0, 3.0)
    bottom = _u(rng, 0.0, 10.0)
    return tuple(
        RepSpec(
            bottom + (top - bottom) * factor,
            bottom,
            period * _tempo(rng) / 2,
            0.0,
            period * _tempo(rng) / 2,
            0.0,
            width * factor,
            _u(rng, -8, 8),
            clockwise=i < (n + 1) // 2,
        )
        for i, factor in enumerate(_ramp(n, rng))
    )


def plan_reps(exercise_id: str, n_reps: int, rng: np.random.Generator) -> tuple[RepSpec, ...]:
    """Random but plausible reps of one set, with build-up and tempo scatter."""
    if n_reps < 1:
        raise ValueError(f"a set needs at least one rep, got {n_reps}")
    if exercise_id == "swing-forward":
        return _swing_reps(
            n_reps,
            rng,
            peak=(40, 80),
            low=(-25, -10),
            period=(1.0, 2.0),
            side_deg=4.0,
            twist_deg=8.0,
        )
    if exercise_id == "swing-lateral":
        return _swing_reps(
            n_reps,
            rng,
            peak=(25, 45),
            low=(-25, -15),
            period=(1.0, 2.0),
            side_deg=5.0,
            twist_deg=8.0,
        )
    if exercise_id == "straight-leg-march":
        return _swing_reps(
            n_reps,
            rng,
            peak=(60, 90),
            low=(-20, -10),
            period=(1.2, 1.6),
            side_deg=4.0,
            twist_deg=6.0,
        )
    if exercise_id == "leg-lowering":
        return _lowering_reps(n_reps, rng)
    if exercise_id == HIP_CIRCLES:
        return _circle_reps(n_reps, rng)
    if exercise_id in ("slr", "assisted-slr", "knee-drive"):
        return _raise_reps(n_reps, rng, exercise_id)
    raise KeyError(f"unknown exercise {exercise_id!r}: choose one of {', '.join(SIM_EXERCISES)}")


def calibration_swings(rng: np.random.Generator) -> tuple[RepSpec, ...]:
    """Three slow forward swings of the standing calibration protocol."""
    return tuple(
        RepSpec(
            _u(rng, 25, 40),
            _u(rng, -15, -10),
            _u(rng, 1.0, 1.5),
            0.0,
            _u(rng, 1.0, 1.5),
            0.0,
            _u(rng, -2, 2),
            _u(rng, -3, 3),
        )
        for _ in range(3)
    )


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
    legs = (leg, Leg.LEFT if leg is Leg.RIGHT else Leg.RIGHT) if both_legs else (leg,)
    for slr_leg in legs:
        steps.append(
            PlanStep(
                "set", Posture.SUPINE, slr_leg, exercise_id="slr", reps=plan_reps("slr", 3, rng)
            )
        )
        steps.append(PlanStep("still", Posture.SUPINE, leg, _u(rng, 2.5, 4.0)))
    return SessionPlan(leg, standing, tuple(steps))


STANDING_DRILLS = (
    "swing-forward",
    "swing-lateral",
    "knee-drive",
    "straight-leg-march",
    HIP_CIRCLES,
)
SUPINE_DRILLS = ("slr", "assisted-slr", "leg-lowering")


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
