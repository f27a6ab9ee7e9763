"""SLR assessment: geometry of the grade lines, FMS-like grades, symmetry against the MDC."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from hipsense.exercises import DOWN_LEG_MOVED, RUSHED, Leg
from hipsense.signal.quality import Rep
from hipsense.signal.slr import (
    DEFAULT_LINES,
    MDC_DEG,
    GradeLines,
    assess,
    assess_leg,
    change_is_real,
    fms_grade,
)


def test_default_lines_match_the_domain_numbers() -> None:
    assert DEFAULT_LINES.knee_line_deg == pytest.approx(60.0, abs=0.1)
    assert DEFAULT_LINES.mid_thigh_deg == pytest.approx(75.5, abs=0.1)
    assert GradeLines.from_height(1.60) == pytest.approx(GradeLines.from_height(1.95))


def test_lines_personalise_from_segment_lengths() -> None:
    long_shank = GradeLines.from_segments(thigh_m=0.40, shank_m=0.50)
    assert long_shank.knee_line_deg == pytest.approx(math.degrees(math.acos(0.4 / 0.9)))
    assert long_shank.knee_line_deg > DEFAULT_LINES.knee_line_deg
    with pytest.raises(ValueError, match="positive"):
        GradeLines.from_segments(0.0, 0.4)


@pytest.mark.parametrize(("peak_deg", "grade"), [(40, 1), (59.9, 1), (60.1, 2), (75, 2), (76, 3)])
def test_fms_grade(peak_deg: float, grade: int) -> None:
    assert fms_grade(peak_deg) == grade


def test_assessment_keeps_the_best_trial_and_compares_legs_against_the_mdc() -> None:
    left = assess_leg(Leg.LEFT, [70.0, 72.5, 71.0])
    right = assess_leg(Leg.RIGHT, [78.0, 80.0])
    assert (left.best_deg, left.grade, left.passed) == (72.5, 2, False)
    assert (right.best_deg, right.grade, right.passed) == (80.0, 3, True)
    a = assess(left, right)
    assert a.difference_deg == pytest.approx(7.5)
    assert a.symmetry_index_pct == pytest.approx(100 * 7.5 / 76.25)
    assert a.difference_is_real and a.mdc_deg == MDC_DEG == 3.3
    assert not assess(left, assess_leg(Leg.RIGHT, [75.0])).difference_is_real
    assert change_is_real(70.0, 74.0) and not change_is_real(70.0, 72.0)
    with pytest.raises(ValueError, match="at least once"):
        assess_leg(Leg.LEFT, [])


def _raise(peak_deg: float, *flags: str) -> Rep:
    return Rep(1, 0.0, 3.0, 3.0, peak_deg, 0.0, peak_deg, 0.5, 1.5, 2.0, -1.5, flags, 3.0)


def test_a_rushed_raise_counts_only_until_a_controlled_one_is_made() -> None:
    """A kick to 80° passes the door-jamb line a slow raise to 70° does not reach: the test
    answers from the controlled raise; a first, rushed raise alone still gives an answer."""
    kicked = assess_leg(Leg.RIGHT, [_raise(80.0, RUSHED)])
    assert (kicked.best_deg, kicked.passed, kicked.counted) == (80.0, True, (True,))
    both = assess_leg(Leg.RIGHT, [_raise(80.0, RUSHED), _raise(70.0, "short-range")])
    assert (both.best_deg, both.grade, both.passed) == (70.0, 2, False)
    assert both.trials_deg == (80.0, 70.0) and both.counted == (False, True)
    assert assess_leg(Leg.LEFT, [72.0, 74.0]).counted == (True, True)  # plain angles count


def _moved(peak_deg: float, at_deg: float, *flags: str) -> Rep:
    """A raise during which the down leg moved when this leg was at ``at_deg``."""
    raised = _raise(peak_deg, DOWN_LEG_MOVED, *flags)
    return replace(raised, down_leg_tilt_deg=6.0, down_leg_moved_s=1.0, down_leg_moved_deg=at_deg)


def test_a_trial_where_the_down_leg_moved_is_measured_there() -> None:
    result = assess_leg(Leg.RIGHT, [_moved(85.0, 40.0), _raise(70.0)])
    assert result.trials_deg == (40.0, 70.0) and result.down_leg_moved == (True, False)
    assert (result.best_deg, result.grade) == (70.0, 2)
    # every trial faulted: the test still answers, from where the down leg moved each time
    both = assess_leg(Leg.RIGHT, [_moved(85.0, 40.0), _moved(80.0, 55.0)])
    assert (both.best_deg, both.counted) == (55.0, (True, True))
    # a rushed raise stays set aside whatever its down leg did
    kicked = assess_leg(Leg.RIGHT, [_moved(90.0, 80.0, RUSHED), _moved(70.0, 50.0)])
    assert kicked.best_deg == 50.0
    # the flag without a measured angle (the raised leg's angles missing then): the peak
    unknown = replace(_raise(85.0, DOWN_LEG_MOVED), down_leg_tilt_deg=6.0)
    assert assess_leg(Leg.RIGHT, [unknown]).best_deg == 85.0
