"""How a simulated person performs each exercise: per-rep amplitudes, tempo, off-plane
motion, with amplitude build-up over a set (the person's intention, not nuisances)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hipsense.exercises import CATALOGUE, Angle, Posture

HIP_CIRCLES = "hip-circles"


@dataclass(frozen=True)
class SimExercise:
    """The simulator's view of an exercise: posture and primary angle."""

    id: str
    posture: Posture
    primary: Angle


STANDING_DRILLS = (
    "swing-forward",
    "swing-lateral",
    "knee-drive",
    "straight-leg-march",
    HIP_CIRCLES,
)
SUPINE_DRILLS = ("slr", "assisted-slr", "leg-lowering")
_EXTRA = {HIP_CIRCLES: SimExercise(HIP_CIRCLES, Posture.STANDING, Angle.FLEXION)}
SIM_EXERCISES: dict[str, SimExercise] = {
    i: SimExercise(i, CATALOGUE[i].posture, CATALOGUE[i].primary) if i in CATALOGUE else _EXTRA[i]
    for i in STANDING_DRILLS + SUPINE_DRILLS
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
        # the first rep calibrates the supine mounting, so it is a full one
        extras = ["fast", "low"] if n >= 3 else []
        kinds = ["normal", *rng.permutation(extras + ["normal"] * (n - 1 - len(extras)))]
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
