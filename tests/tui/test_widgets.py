"""Pure pieces of the app: the braille plot, the gauge scale, the words, the model."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from hipsense import exercises
from hipsense.events import AngleUpdate, QualityUpdate, RepUpdate
from hipsense.tui.model import (
    DATA_NOTICE_S,
    MAX_PENDING_BATCHES,
    TRACE_WINDOW_S,
    AngleTrace,
    SessionModel,
)
from hipsense.tui.screens.help import HELP_TEXT
from hipsense.tui.text import (
    FLAG_TEXTS,
    flag_words,
    link_line,
    rep_words,
    set_summary,
    slr_leg_lines,
)
from hipsense.tui.widgets.gauge import gauge_top_deg
from hipsense.tui.widgets.plot import PlotData, _draw, braille_rows

from .fakes import link, rep, set_update, slr


def test_braille_plot_draws_a_ramp_corner_to_corner() -> None:
    t = np.linspace(0.0, 10.0, 201)
    data = PlotData(t, np.linspace(0.0, 100.0, 201), 10.0, 0.0, 100.0)
    rows = braille_rows(data, width=10, height=3)
    assert [len(r) for r in rows] == [10, 10, 10]
    assert rows[2][0] != "⠀"  # bottom left: the start
    assert rows[0][-1] != "⠀"  # top right: the end
    assert rows[0][0] == "⠀"
    assert rows[2][-1] == "⠀"


def test_braille_plot_skips_invalid_samples() -> None:
    t = np.linspace(0.0, 10.0, 201)
    values = np.linspace(0.0, 100.0, 201)
    values[150:] = np.nan  # invalid or lost samples, e.g. before calibration
    rows = braille_rows(PlotData(t, values, 10.0, 0.0, 100.0), width=10, height=3)
    assert rows[2][0] != "⠀"
    assert all(row[-1] == "⠀" for row in rows)  # nothing drawn where the data is NaN


def test_braille_plot_target_line_and_empty_data() -> None:
    data = PlotData(np.empty(0), np.empty(0), 10.0, 0.0, 90.0, target_deg=90.0)
    rows = braille_rows(data, width=4, height=2)
    assert rows[0] == "⠁⠀⠁⠀"
    assert rows[1] == "⠀⠀⠀⠀"


def _draw_one_sample_at_a_time(grid: np.ndarray, x: np.ndarray, y: np.ndarray) -> None:
    """The plot's rule spelled out: each sample's dot, joined down its column to the sample
    before it."""
    for i in range(x.size):
        lo, hi = sorted((int(y[max(i - 1, 0)]), int(y[i])))
        grid[lo : hi + 1, x[i]] = True


@pytest.mark.parametrize("seed", range(100, 106))
def test_braille_columns_join_the_samples_like_the_per_sample_rule(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows, cols, n = 4 * int(rng.integers(1, 8)), 2 * int(rng.integers(2, 40)), 400
    x = rng.integers(0, cols, n)
    if seed % 2:
        x.sort()  # time order, as drawn; unsorted: a trace whose clock stepped back
    y = np.clip(np.cumsum(rng.integers(-3, 4, n)) + rows // 2, 0, rows - 1)
    y[rng.random(n) < 0.05] = rng.integers(0, rows)  # jumps across many rows
    drawn, expected = np.zeros((rows, cols), bool), np.zeros((rows, cols), bool)
    _draw(drawn, x, y)
    _draw_one_sample_at_a_time(expected, x, y)
    np.testing.assert_array_equal(drawn, expected)


def test_trace_read_between_batches_or_not_is_the_last_window() -> None:
    t = np.arange(0.0, 30.0, 0.005)
    batches = [
        AngleUpdate("thigh", t[i : i + 7], t[i : i + 7], -t[i : i + 7]) for i in range(0, t.size, 7)
    ]
    assert len(batches) > 4 * MAX_PENDING_BATCHES
    read_often, read_once = AngleTrace(), AngleTrace()
    for k, batch in enumerate(batches):
        read_often.extend(batch)
        read_once.extend(batch)
        if k % 5 == 0:
            assert read_often.t_s[-1] == batch.t_s[-1]
    recent = t >= t[-1] - TRACE_WINDOW_S
    for trace in (read_often, read_once):
        np.testing.assert_array_equal(trace.t_s, t[recent])
        np.testing.assert_array_equal(trace.flexion_deg, t[recent])
        np.testing.assert_array_equal(trace.abduction_deg, -t[recent])


def test_gauge_scale_grows_past_the_target_and_best() -> None:
    assert gauge_top_deg(None, 75.0) == 120.0
    assert gauge_top_deg(110.0, floor=120.0) == 135.0
    assert gauge_top_deg(None, floor=60.0) == 60.0


def test_flag_words_are_plain() -> None:
    assert flag_words(()) == "good rep"
    flags = ("short-range", "rushed", "slow-lowering-missed", "off-plane", "no-hold", "new-flag")
    assert flag_words(flags) == (
        "short range, rushed, lower more slowly, stay in line, hold at the top, new flag"
    )


def test_link_line_states() -> None:
    assert "waiting for the sensor" in link_line("right-thigh", None)
    line = link_line("right-thigh", link(state="reconnecting", battery_pct=None, rate_hz=None))
    assert "reconnecting…" in line
    assert "battery —" in line
    assert "— Hz" in line
    assert "REC" not in link_line("right-thigh", link(recording=True))  # in the header


def test_every_quality_flag_reads_the_same_after_a_rep_in_a_summary_and_in_the_help() -> None:
    flags = (
        exercises.SHORT_RANGE,
        exercises.RUSHED,
        exercises.SLOW_LOWERING_MISSED,
        exercises.OFF_PLANE,
        exercises.NO_HOLD,
        exercises.DOWN_LEG_MOVED,
    )
    assert set(FLAG_TEXTS) == set(flags)
    counts = (*((f, 2) for f in flags), ("outward", 1))
    summary = set_summary(replace(set_update("left", 5), flag_counts=counts))[-1]
    for flag in flags:
        words = FLAG_TEXTS[flag].words
        assert flag_words((flag,)) == words
        assert f"{words} ×2" in summary
        assert f"  {words} " in HELP_TEXT
        assert FLAG_TEXTS[flag].advice in HELP_TEXT
    assert summary.endswith("outward ×1")


def test_set_summary_without_metrics() -> None:
    bare = replace(set_update("left", 0), mean_rom_deg=None, mean_duration_s=None, flag_counts=())
    assert set_summary(bare) == ["Left leg set: 0 of 15 reps", "clean set"]


def test_model_keeps_a_short_trace_and_counts_reps_per_set() -> None:
    model = SessionModel(["thigh"], "knee-drive", "left")
    t = np.arange(0.0, 30.0, 0.01)
    model.add_angles(AngleUpdate("thigh", t, t, -t))
    trace = model.traces["thigh"]
    assert trace.t_s[0] >= 30.0 - 0.01 - TRACE_WINDOW_S
    assert model.primary_angle("thigh") == t[-1]
    model.apply(AngleUpdate("other", t[:3], t[:3], t[:3]))
    assert model.roles == ["thigh", "other"]

    def done(i: int) -> RepUpdate:
        return RepUpdate("thigh", "knee-drive", "left", "completed", i, 0.0, 80.0, 75.0, 1.2)

    model.apply(done(1))
    model.apply(done(2))
    assert model.reps["left"] == 2
    model.apply(RepUpdate("thigh", "swing-forward", "left", "completed", 3, 0.0))
    assert model.reps["left"] == 2
    model.apply(set_update("left", 2, exercise_id="knee-drive"))
    model.apply(done(1))
    assert model.reps["left"] == 1
    assert model.best_deg["thigh"] == 80.0
    model.apply(QualityUpdate("thigh", "clipping", 1.0, "gyro clipped"))
    shown = model.notice
    model.start_set("left")  # a new set clears the notice and the count
    assert (shown, model.notice, model.reps["left"]) == ("gyro clipped", None, 0)


def _angles(t0_s: float, t1_s: float) -> AngleUpdate:
    t = np.arange(t0_s, t1_s, 0.01)
    return AngleUpdate("thigh", t, np.zeros_like(t), np.zeros_like(t))


def test_a_data_notice_goes_after_a_few_seconds_of_data() -> None:
    model = SessionModel(["thigh"], "swing-forward", "left")
    model.apply(QualityUpdate("thigh", "gap", 10.0, "20 samples lost"))
    model.add_angles(_angles(10.0, 10.0 + DATA_NOTICE_S - 0.5))
    assert model.notice == "20 samples lost"
    model.add_angles(_angles(10.0 + DATA_NOTICE_S - 0.5, 10.0 + DATA_NOTICE_S + 0.5))
    assert model.notice is None


def test_other_notices_stay() -> None:
    model = SessionModel(["thigh"], "swing-forward", "left")
    model.apply(QualityUpdate("thigh", "gap", 10.0, "20 samples lost"))
    model.notice = "No sensor named HS-7F2A"  # an error the app shows meanwhile
    model.add_angles(_angles(10.0, 30.0))
    assert model.notice == "No sensor named HS-7F2A"
    model.apply(QualityUpdate("recording", "recording", 12.0, "recording stopped: disk full"))
    model.add_angles(_angles(30.0, 60.0))
    assert model.notice == "recording stopped: disk full"


def test_a_rushed_slr_trial_shows_in_brackets_beside_the_best_without_it() -> None:
    kicked = replace(slr("right", 80.0, 70.0), best_deg=70.0, trials_counted=(False, True))
    assert slr_leg_lines("right", kicked, 3)[1:3] == ["trials (80°)  70°  —", "best 70° · grade 3"]
    assert slr_leg_lines("right", slr("right", 80.0, 70.0), 3)[1] == "trials 80°  70°  —"
    assert "(brackets) was rushed" in HELP_TEXT


def test_an_slr_trial_taken_where_the_other_leg_moved_says_so() -> None:
    """With a sensor on the other thigh: the trial's value is where the down leg moved, and
    the panel and the last rep say it in words."""
    moved = replace(slr("right", 41.0, 70.0), trials_down_leg_moved=(True, False))
    lines = slr_leg_lines("right", moved, 3)
    assert lines[1:4] == ["trials 41°  70°  —", "trial 1: other leg moved", "best 70° · grade 2"]
    assert all(len(line) <= 30 for line in lines)  # the panel's width at 80 columns
    assert "other leg moved" not in "\n".join(slr_leg_lines("right", slr("right", 70.0), 3))
    flagged = rep(2, exercise_id="slr", flags=(exercises.DOWN_LEG_MOVED,), peak=85.0)
    last = replace(flagged, down_leg_moved_deg=41.0)
    assert rep_words(last) == "other leg moved at 41°: measured there"
    assert rep_words(rep(3, exercise_id="slr")) == "good rep"


def test_the_angle_shown_is_none_while_the_newest_rows_are_not_shown() -> None:
    # After a burst in fast motion the newest rows come as NaN until the bridge is checked:
    # the big digits showed "nan"; they show "--" (None) and the last trace stays drawn.
    model = SessionModel(["thigh"], "knee-drive", "left")
    t = np.arange(10) / 100
    flex = np.where(t < 0.05, 30.0, np.nan)
    model.add_angles(AngleUpdate("thigh", t, flex, np.zeros_like(t)))
    assert model.primary_angle("thigh") is None
    model.add_angles(AngleUpdate("thigh", t + 0.1, np.full(10, 42.0), np.zeros(10)))
    assert model.primary_angle("thigh") == 42.0
