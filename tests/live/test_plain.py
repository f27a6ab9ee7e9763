"""Plain output: the lines ``--plain`` prints for scripts and for a terminal without the app."""

from dataclasses import replace

from hipsense.events import RepUpdate, SlrUpdate
from hipsense.live.plain import describe


def _slr(best_deg: float, passed: bool) -> SlrUpdate:
    return SlrUpdate(
        leg="right",
        trial_peaks_deg=(60.0, best_deg),
        best_deg=best_deg,
        grade=3 if passed else 2,
        passed=passed,
        pass_line_deg=75.52,
        knee_line_deg=60.0,
        previous_best_deg=None,
        change_deg=None,
        real_change=None,
    )


def test_an_slr_result_names_the_line_it_is_judged_against() -> None:
    """The line to a tenth, as analyze gives it: 'PASS (76°)' read as if 76° were needed
    and a 75.6° best fell short of it."""
    assert describe(_slr(75.6, True)) == "slr right: best 75.6° grade 3, passes the 75.5° line"
    assert describe(_slr(75.4, False)) == "slr right: best 75.4° grade 2, below the 75.5° line"


def test_a_rep_measured_where_the_down_leg_moved_gives_that_angle() -> None:
    done = RepUpdate("right_thigh", "slr", "right", "completed", 5, 30.0, 89.0, 89.0, 4.0)
    moved = replace(done, flags=("down-leg-moved",), down_leg_moved_deg=41.03)
    assert describe(moved).endswith("flags=down-leg-moved measured=41.0°")  # type: ignore[union-attr]
    assert "measured" not in (describe(done) or "")
