"""Straight leg raise assessment: best trial per leg, FMS-like grade, left/right symmetry.

Grade lines come from geometry. Supine, down leg flat, raised leg straight at thigh
elevation θ: the ankle sits (thigh + shank) × cos θ along the floor from the hip. A vertical
line through the ankle passes the down leg's mid-thigh (the door jamb) once
cos θ ≤ thigh / (2 (thigh + shank)), and its knee joint line once cos θ ≤ thigh /
(thigh + shank). With thigh ≈ shank ≈ 0.245 × height that is ≈ 75.5° and 60°.

Real change: hipsense uses 3.3° as its minimal detectable change (MDC95), the best
published same-rater value (phone inclinometer); goniometer/inclinometer MDCs are 6-7°.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from hipsense.exercises import RUSHED, Leg
from hipsense.signal.quality import Rep, symmetry_index

SEGMENT_PER_HEIGHT = 0.245  # thigh and shank length as a fraction of body height
MDC_DEG = 3.3


@dataclass(frozen=True)
class GradeLines:
    """Thigh elevations at which the ankle passes the knee line and mid-thigh."""

    knee_line_deg: float
    mid_thigh_deg: float

    @classmethod
    def from_segments(cls, thigh_m: float, shank_m: float) -> GradeLines:
        if thigh_m <= 0 or shank_m <= 0:
            raise ValueError(f"segment lengths must be positive, got {thigh_m}, {shank_m}")
        leg_m = thigh_m + shank_m
        return cls(
            knee_line_deg=math.degrees(math.acos(thigh_m / leg_m)),
            mid_thigh_deg=math.degrees(math.acos(0.5 * thigh_m / leg_m)),
        )

    @classmethod
    def from_height(cls, height_m: float) -> GradeLines:
        segment_m = SEGMENT_PER_HEIGHT * height_m
        return cls.from_segments(segment_m, segment_m)


DEFAULT_LINES = GradeLines.from_height(1.75)  # proportions only: 60.0° and 75.5°


def fms_grade(peak_deg: float, lines: GradeLines = DEFAULT_LINES) -> int:
    """3: ankle past mid-thigh; 2: between mid-thigh and the knee line; 1: below the knee line."""
    if peak_deg >= lines.mid_thigh_deg:
        return 3
    return 2 if peak_deg >= lines.knee_line_deg else 1


@dataclass(frozen=True)
class LegResult:
    leg: Leg
    trials_deg: tuple[float, ...]
    best_deg: float
    grade: int
    passed: bool  # the door-jamb standard: ankle past mid-thigh
    counted: tuple[bool, ...] = ()  # per trial: whether it is one the best is taken from
    down_leg_moved: tuple[bool, ...] = ()  # per trial: measured where the down leg moved


def assess_leg(
    leg: Leg, trials: Iterable[Rep | float], lines: GradeLines = DEFAULT_LINES
) -> LegResult:
    """Best of the trials (rep values or plain angles) graded against the lines.

    A trial's value is its peak, except where the down leg moved (flag ``down-leg-moved``, from
    a second sensor on the other thigh): the tester stops there and measures the raised leg at
    that moment, so that trial's value is the raised leg's angle when the down leg moved
    (``Rep.measured_deg``). Such a trial still counts, with that value: it is the tester's
    measurement, so a test where the down leg moved every time still gives an answer.

    A raise flagged rushed (swung up on momentum, no hold at the top) is no test trial: a
    kick can pass a line the leg cannot hold. It counts only while no controlled raise of
    that leg exists, so a first quick raise still gives an answer."""
    trials = list(trials)
    values = tuple(float(t.measured_deg if isinstance(t, Rep) else t) for t in trials)
    if not values:
        raise ValueError(f"no SLR trials for the {leg} leg: raise the leg at least once")
    controlled = tuple(not (isinstance(t, Rep) and RUSHED in t.flags) for t in trials)
    counted = controlled if any(controlled) else (True,) * len(values)
    best = max(p for p, c in zip(values, counted, strict=True) if c)
    grade = fms_grade(best, lines)
    moved = tuple(isinstance(t, Rep) and t.down_leg_moved for t in trials)
    return LegResult(leg, values, best, grade, grade == 3, counted, moved)


@dataclass(frozen=True)
class SlrAssessment:
    left: LegResult
    right: LegResult
    difference_deg: float  # right - left
    symmetry_index_pct: float
    mdc_deg: float

    @property
    def difference_is_real(self) -> bool:
        """The left/right gap exceeds the minimal detectable change."""
        return abs(self.difference_deg) > self.mdc_deg


def assess(left: LegResult, right: LegResult, mdc_deg: float = MDC_DEG) -> SlrAssessment:
    return SlrAssessment(
        left,
        right,
        right.best_deg - left.best_deg,
        symmetry_index(left.best_deg, right.best_deg),
        mdc_deg,
    )


def change_is_real(before_deg: float, after_deg: float, mdc_deg: float = MDC_DEG) -> bool:
    """Whether a retest differs from the earlier test by the MDC or more (hipsense's one rule
    for a real change: the live SLR test, the history and its weekly table all use it)."""
    return abs(after_deg - before_deg) >= mdc_deg
