"""Per-rep metrics, live flags against the reps so far, set summary, SPARC."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hipsense.exercises import (
    NO_HOLD,
    OFF_PLANE,
    RUSHED,
    SHORT_RANGE,
    SLOW_LOWERING_MISSED,
    QualityParams,
    get_exercise,
)
from hipsense.signal.quality import (
    Rep,
    RepJudge,
    measure_rep,
    summarise_set,
    symmetry_index,
)
from hipsense.signal.sparc import sparc


def rep(index: int, rom_deg: float = 60.0, duration_s: float = 4.0, **kw: float) -> Rep:
    fields: dict[str, float] = {"hold_s": 1.0, "descent_s": 1.5, "off_plane_deg": 2.0} | kw
    return Rep(
        index, 0.0, duration_s, duration_s, rom_deg, 0.0, rom_deg, fields["hold_s"],
        fields["descent_s"], fields["off_plane_deg"], -2.0, (), duration_s,
    )  # fmt: skip


def min_jerk(n: int) -> np.ndarray:
    tau = np.linspace(0.0, 1.0, n)
    return 10 * tau**3 - 15 * tau**4 + 6 * tau**5


def test_first_reps_have_no_relative_flags_then_the_reference_is_the_good_reps() -> None:
    judge = RepJudge(QualityParams())
    rom_and_duration = [(30, 1.0), (60, 4.0), (60, 4.0), (62, 4.2), (61, 1.5), (40, 4.0), (60, 4.1)]
    flags = [judge.judge(rep(i, rom, d)).flags for i, (rom, d) in enumerate(rom_and_duration, 1)]
    assert flags[:2] == [(), ()]  # no reference yet, even for a small quick first rep
    assert flags[4] == (RUSHED,)
    assert flags[5] == (SHORT_RANGE,)
    assert flags[6] == ()


def test_reference_survives_a_half_set_of_bad_reps() -> None:
    judge = RepJudge(QualityParams())
    reps = [rep(i, 60, 5.0) for i in range(10)] + [rep(10 + i, 60, 2.0) for i in range(10)]
    flagged = [RUSHED in judge.judge(r).flags for r in reps]
    assert flagged == [False] * 10 + [True] * 10


def test_absolute_flags() -> None:
    p = QualityParams(min_descent_s=3.0, min_hold_s=10.0, max_off_plane_deg=15.0)
    flags = RepJudge(p).judge(rep(1, hold_s=4.0, descent_s=2.0, off_plane_deg=20.0)).flags
    assert set(flags) == {SLOW_LOWERING_MISSED, NO_HOLD, OFF_PLANE}


def test_a_straight_leg_raise_kicked_up_is_rushed_from_the_first_trial() -> None:
    """An SLR test has three trials: the relative flag could judge only the third."""
    judge = RepJudge(get_exercise("slr").quality)
    flags = [judge.judge(rep(i, 70, d)).flags for i, d in enumerate((0.9, 3.0, 1.1, 3.2), 1)]
    assert flags == [(RUSHED,), (), (RUSHED,), ()]  # flagged once, though both rules say so
    swings = RepJudge(get_exercise("swing-forward").quality)
    assert swings.judge(rep(1, 50, 0.7)).flags == ()  # a swing is quick by nature


def test_measure_rep_of_a_minimum_jerk_lowering() -> None:
    rate_hz, top, bottom = 50.0, 80.0, 5.0
    down = top - (top - bottom) * min_jerk(int(4.0 * rate_hz))
    up = bottom + (top - bottom) * min_jerk(int(1.5 * rate_hz))
    flexion = np.concatenate([np.full(20, top), down, np.full(250, bottom), up[: int(0.6 * 75)]])
    t = np.arange(flexion.size) / rate_hz
    r = measure_rep(1, t, -flexion, flexion, np.zeros_like(t), sign=-1.0, low_y_deg=-top,
                    detected_s=float(t[-1]))  # fmt: skip
    assert r.peak_deg == pytest.approx(bottom)
    assert r.low_deg == pytest.approx(top)
    assert r.rom_deg == pytest.approx(top - bottom)
    assert r.descent_s == pytest.approx(4.0, abs=0.1)
    assert 5.0 <= r.hold_s <= 6.3  # the hold plus the slow ends of the movements (8 % band)


def test_summary_and_symmetry() -> None:
    reps = [rep(1, 50, 2.0), rep(2, 60, 4.0), replace_flags(rep(3, 70, 6.0), (RUSHED,))]
    s = summarise_set(reps, target_reps=3)
    assert (s.count, s.target_met, s.best_rom_deg) == (3, True, 70)
    assert s.mean_rom_deg == pytest.approx(60)
    assert s.rom_cv_pct == pytest.approx(100 * np.std([50, 60, 70]) / 60)
    assert s.mean_duration_s == pytest.approx(4.0)
    assert s.flag_counts == ((RUSHED, 1),)
    assert summarise_set([], 5).count == 0
    assert symmetry_index(left=70.0, right=80.0) == pytest.approx(100 * 10 / 75)
    assert math.isnan(symmetry_index(0.0, 0.0))


def replace_flags(r: Rep, flags: tuple[str, ...]) -> Rep:
    from dataclasses import replace

    return replace(r, flags=flags)


def test_sparc_prefers_smooth_movements() -> None:
    rate_hz = 100.0
    speed = np.gradient(min_jerk(200), 1 / rate_hz)
    smooth = sparc(speed, rate_hz)
    assert smooth == pytest.approx(-1.4, abs=0.1)
    jerky = speed + 0.3 * speed.max() * np.sin(np.linspace(0, 16 * np.pi, 200)) ** 2
    assert sparc(jerky, rate_hz) < smooth - 0.5
    assert math.isnan(sparc(np.zeros(50), rate_hz))


def test_movement_time_of_a_rep_that_starts_above_five_percent() -> None:
    from hipsense.signal.quality import _movement_time_s

    t = np.linspace(0.0, 1.0, 11)
    y = np.linspace(2.0, 10.0, 11)  # never below 5 % of the 0-10° range before the 95 % mark
    assert _movement_time_s(t, y, 0.0, 10.0) > 0.0


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=60))
def test_kept_in_order_the_reference_quantile_is_numpys_to_the_bit(values: list[float]) -> None:
    from hipsense.signal.quality import REFERENCE_QUANTILE, _gradient, _median, _upper_quantile

    for n in range(1, len(values) + 1):
        got = _upper_quantile(sorted(values[:n]), REFERENCE_QUANTILE)
        assert got == float(np.quantile(values[:n], REFERENCE_QUANTILE))
    x = np.array(values)
    assert _median(x) == float(np.median(x))
    if len(x) >= 2:
        assert np.array_equal(_gradient(x, 0.01), np.gradient(x, 0.01))


def test_the_judge_flags_as_with_numpys_quantile_also_with_odd_values() -> None:
    """Durations with a NaN among them: numpy's quantile (NaN) decides, no rushed flag."""
    rng = np.random.default_rng(3)
    roms, durations = rng.uniform(20, 80, 40), rng.uniform(1, 5, 40)
    durations[17] = math.nan
    judge, flags = RepJudge(QualityParams()), []
    for i, (r, d) in enumerate(zip(roms, durations, strict=True)):
        flags.append(judge.judge(rep(i + 1, rom_deg=float(r), duration_s=float(d))).flags)
    for i in range(2, 40):
        want_short = roms[i] < QualityParams().short_range_ratio * np.quantile(roms[: i + 1], 0.75)
        ref_s = np.quantile(durations[: i + 1], 0.75)
        want_rushed = durations[i] < QualityParams().rushed_ratio * ref_s
        assert (SHORT_RANGE in flags[i], RUSHED in flags[i]) == (want_short, want_rushed)
    assert not any(RUSHED in f for f in flags[17:])  # the reference is NaN from there on
