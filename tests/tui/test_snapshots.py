"""Snapshots of the main screens at 80×24 and one larger size (fixed data, no clocks)."""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot

from hipsense.events import SessionEvent

from .fakes import (
    ScriptedEvents,
    calibration,
    link,
    make_app,
    rep,
    set_update,
    settle,
    slr,
    swing_angles,
)

SnapCompare = Callable[..., bool]
RIGHT = "right-thigh"


def mid_set() -> list[SessionEvent]:
    reps = [rep(i, peak=62.0 + i) for i in range(1, 7)]
    reps.append(rep(7, flags=("short-range", "rushed"), peak=58.0))
    return [link(), *swing_angles(RIGHT), set_update("left", 15, si=None), *reps]


def settled(source: ScriptedEvents, *keys: str) -> Callable[[Pilot[None]], object]:
    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot, source)
        if keys:
            await pilot.press(*keys)
            await settle(pilot, source)

    return run_before


def test_live_set_80x24(snap_compare: SnapCompare) -> None:
    app, source, _ = make_app(*mid_set())
    assert snap_compare(app, run_before=settled(source))


def test_live_set_summary_120x36(snap_compare: SnapCompare) -> None:
    events = [*mid_set(), set_update("right", 15, si=-6.0)]
    app, source, _ = make_app(*events)
    assert snap_compare(app, terminal_size=(120, 36), run_before=settled(source))


def two_sensors() -> list[SessionEvent]:
    left = "left-thigh"
    return [
        link(left, "HS-11AA", state="reconnecting", battery_pct=None, rate_hz=None, loss_pct=4.2),
        link(recording=True),
        *swing_angles(left, amplitude_deg=40.0),
        *swing_angles(RIGHT),
        rep(1, "right"),
    ]


def test_two_sensors_80x24(snap_compare: SnapCompare) -> None:
    app, source, _ = make_app(*two_sensors(), sensors=("left-thigh", RIGHT))
    assert snap_compare(app, run_before=settled(source))


def test_two_sensors_side_by_side_140x36(snap_compare: SnapCompare) -> None:
    app, source, _ = make_app(*two_sensors(), sensors=("left-thigh", RIGHT))
    assert snap_compare(app, terminal_size=(140, 36), run_before=settled(source))


def test_warmup_80x24(snap_compare: SnapCompare) -> None:
    app, source, _ = make_app(link(recording=True), *swing_angles(RIGHT), rep(1))
    assert snap_compare(app, run_before=settled(source, "w"))


def test_help_80x24(snap_compare: SnapCompare) -> None:
    app, source, _ = make_app(link())
    assert snap_compare(app, run_before=settled(source, "question_mark"))


def test_calibration_80x24(snap_compare: SnapCompare) -> None:
    events = [link(), calibration("swings", 0.45, "Swing the straight leg forward slowly: 1 of 3")]
    app, source, _ = make_app(*events)
    assert snap_compare(app, run_before=settled(source))


def test_slr_test_80x24(snap_compare: SnapCompare) -> None:
    events = [
        link(),
        *swing_angles(RIGHT, amplitude_deg=35.0, period_s=4.0),
        slr("left", 68.0, 72.0, 71.0, previous=64.0),
        slr("right", 61.0),
    ]
    app, source, _ = make_app(*events, exercise_id="slr", leg="left")
    assert snap_compare(app, run_before=settled(source))


def test_exercise_picker_80x24(snap_compare: SnapCompare) -> None:
    app, source, _ = make_app(link())
    assert snap_compare(app, run_before=settled(source, "e"))
