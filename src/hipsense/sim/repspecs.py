"""How a simulated person performs each exercise: per-rep amplitudes, tempo, off-plane
motion, with amplitude build-up over a set (the person's intention, not nuisances)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hipsense.exercises import CATALOGUE, Exercise

HIP_CIRCLES = "hip-circles"

STANDING_DRILLS = (
    "swing-forward",
    "swing-lateral",
    "knee-drive",
    "straight-leg-march",
    HIP_CIRCLES,
)
SUPINE_DRILLS = ("slr", "assisted-slr", "leg-lowering")
# The drills the simulator can perform; posture and primary angle are the catalogue's.
SIM_EXERCISES: dict[str, Exercise] = {i: CATALOGUE[i] for i in STANDING_DRILLS + SUPINE_DRILLS}


@dataclass(frozen=True)
class RepSpec:
    """One intended rep. Field meaning per exercise (degrees, seconds):

    peak/low: top and bottom of the primary angle (swings: front/out and back/across;
    leg-lowering: raised start and bottom; circles: top and bottom of the knee's circle).
    rise/fall: time going up and coming down; hold: at the top (leg-lowering: at the
    bottom); rest: at the bottom before the next rep. off_plane: secondary angle at the
    peak (circles: half-width of the circle in abduction); twist: long-axis rotation at
    the peak. clockwise: circle direction seen from the front.

    down_leg_lift/down_leg_roll (supine raises): the other (down) leg's fault during this
    rep's rise, on top of following the pelvis: its thigh lifts (the knee comes up) or rolls
    outward by this much, reached with the raised leg's peak and undone on the way down.
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
    down_leg_lift_deg: float = 0.0
    down_leg_roll_deg: float = 0.0


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


_SWINGS = {  # peak, low (degrees), period (s), off-plane and twist scatter (degrees)
    "swing-forward": ((40.0, 80.0), (-25.0, -10.0), (1.0, 2.0), 4.0, 8.0),
    "swing-lateral": ((25.0, 45.0), (-25.0, -15.0), (1.0, 2.0), 5.0, 8.0),
    "straight-leg-march": ((60.0, 90.0), (-20.0, -10.0), (1.2, 1.6), 4.0, 6.0),
}


def _swing_reps(n: int, rng: np.random.Generator, exercise_id: str) -> tuple[RepSpec, ...]:
    peak, low, period, side_deg, twist_deg = _SWINGS[exercise_id]
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


def _slr_reps(n: int, rng: np.random.Generator) -> tuple[RepSpec, ...]:
    """Mostly full raises, plus (from three reps on) one fast and one low-amplitude rep."""
    # the first rep calibrates the supine mounting, so it is a full one
    extras = ["fast", "low"] if n >= 3 else []
    kinds = ["normal", *rng.permutation(extras + ["normal"] * (n - 1 - len(extras)))]
    final = _u(rng, 50.0, 90.0)
    reps = []
    for factor, kind in zip(_ramp(n, rng), kinds, strict=True):
        peak = _u(rng, 10.0, 25.0) if kind == "low" else min(90.0, float(final * factor))
        rise = _u(rng, 0.35, 0.5) if kind == "fast" else _u(rng, 0.8, 2.0)
        reps.append(
            RepSpec(
                peak_deg=peak,
                low_deg=0.0,
                rise_s=rise,
                hold_s=0.3 if kind == "fast" else _u(rng, 0.3, 2.0),
                fall_s=rise * _u(rng, 0.9, 1.3),
                rest_s=_u(rng, 1.0, 3.0),
                off_plane_deg=_u(rng, -3, 3),
                twist_deg=_u(rng, -6, 6),
            )
        )
    return tuple(reps)


def _assisted_slr_reps(n: int, rng: np.random.Generator) -> tuple[RepSpec, ...]:
    final = _u(rng, 55.0, 90.0)
    return tuple(
        RepSpec(
            peak_deg=final * factor,
            low_deg=0.0,
            rise_s=_u(rng, 1.5, 3.0),
            hold_s=_u(rng, 8.0, 15.0),
            fall_s=_u(rng, 1.5, 3.0),
            rest_s=_u(rng, 2.0, 4.0),
            off_plane_deg=_u(rng, -3, 3),
            twist_deg=_u(rng, -6, 6),
        )
        for factor in _ramp(n, rng)
    )


def _knee_drive_reps(n: int, rng: np.random.Generator) -> tuple[RepSpec, ...]:
    """About 1 s each, with a brief foot contact between reps."""
    final = _u(rng, 70.0, 100.0)
    reps = []
    for factor in _ramp(n, rng):
        tempo = _tempo(rng)
        reps.append(
            RepSpec(
                peak_deg=final * factor,
                low_deg=_u(rng, -3.0, 2.0),
                rise_s=0.42 * tempo,
                hold_s=_u(rng, 0.0, 0.1),
                fall_s=0.45 * tempo,
                rest_s=_u(rng, 0.1, 0.3),
                off_plane_deg=_u(rng, -6, 6),
                twist_deg=_u(rng, -10, 10),
            )
        )
    return tuple(reps)


def _lowering_reps(n: int, rng: np.random.Generator) -> tuple[RepSpec, ...]:
    """From 70-90 degrees, lower over 3-6 s, breathe 4-10 s at the bottom, return in 1-2 s."""
    top = _u(rng, 70.0, 90.0)
    return tuple(
        RepSpec(
            peak_deg=top * _u(rng, 0.95, 1.02),
            low_deg=_u(rng, 0.0, 10.0) * factor,
            rise_s=_u(rng, 1.0, 2.0),
            hold_s=_u(rng, 4.0, 10.0),
            fall_s=_u(rng, 3.0, 6.0),
            rest_s=_u(rng, 0.5, 1.0),
            off_plane_deg=_u(rng, -3, 3),
            twist_deg=_u(rng, -5, 5),
        )
        for factor in _ramp(n, rng)
    )


def _circle_reps(n: int, rng: np.random.Generator) -> tuple[RepSpec, ...]:
    """Knee circles of 2-3 s, the first half of the set one way round, then the other."""
    top, width, period = _u(rng, 65.0, 90.0), _u(rng, 20.0, 30.0), _u(rng, 2.0, 3.0)
    bottom = _u(rng, 0.0, 10.0)
    return tuple(
        RepSpec(
            peak_deg=bottom + (top - bottom) * factor,
            low_deg=bottom,
            rise_s=period * _tempo(rng) / 2,
            hold_s=0.0,
            fall_s=period * _tempo(rng) / 2,
            rest_s=0.0,
            off_plane_deg=width * factor,
            twist_deg=_u(rng, -8, 8),
            clockwise=i < (n + 1) // 2,
        )
        for i, factor in enumerate(_ramp(n, rng))
    )


_SAMPLERS = {
    "slr": _slr_reps,
    "assisted-slr": _assisted_slr_reps,
    "knee-drive": _knee_drive_reps,
    "leg-lowering": _lowering_reps,
    HIP_CIRCLES: _circle_reps,
}


def plan_reps(exercise_id: str, n_reps: int, rng: np.random.Generator) -> tuple[RepSpec, ...]:
    """Random but plausible reps of one set, with build-up and tempo scatter."""
    if n_reps < 1:
        raise ValueError(f"a set needs at least one rep, got {n_reps}")
    if exercise_id in _SWINGS:
        return _swing_reps(n_reps, rng, exercise_id)
    if exercise_id in _SAMPLERS:
        return _SAMPLERS[exercise_id](n_reps, rng)
    raise KeyError(f"unknown exercise {exercise_id!r}: choose one of {', '.join(SIM_EXERCISES)}")


def calibration_swings(rng: np.random.Generator) -> tuple[RepSpec, ...]:
    """Three slow forward swings of the standing calibration protocol."""
    return tuple(
        RepSpec(
            peak_deg=_u(rng, 25, 40),
            low_deg=_u(rng, -15, -10),
            rise_s=_u(rng, 1.0, 1.5),
            hold_s=0.0,
            fall_s=_u(rng, 1.0, 1.5),
            rest_s=0.0,
            off_plane_deg=_u(rng, -2, 2),
            twist_deg=_u(rng, -3, 3),
        )
        for _ in range(3)
    )
