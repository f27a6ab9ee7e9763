"""Pilot tests: what the runner sees, and what the keys ask of the session."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator

import pytest
from textual.pilot import Pilot
from textual.widgets import ContentSwitcher, Digits, Static

from hipsense.errors import RecordingError, SensorError, SensorNotFoundError
from hipsense.events import SessionEvent
from hipsense.tui import HipsenseApp
from hipsense.tui.widgets.status import LinkStatus

from .fakes import (
    FakeControl,
    ScriptedEvents,
    calibration,
    link,
    make_app,
    rep,
    set_update,
    settle,
    swing_angles,
)


def text(app: object, selector: str) -> str:
    widget = app.screen.query_one(selector, Static)  # type: ignore[attr-defined]
    return str(widget.render())


async def test_angles_reps_and_flags_are_shown() -> None:
    app, source, _ = make_app(link(), *swing_angles("right-thigh"))
    async with app.run_test() as pilot:
        await settle(pilot, source)
        assert app.screen.query_one(".angle-digits", Digits).value == "8"
        source.push(rep(1), rep(2, flags=("rushed", "off-plane"), peak=70.0))
        await settle(pilot, source)
        assert app.screen.query_one("#rep-count", Digits).value == "2"
        assert "/ 15 reps" in text(app, "#rep-of")
        assert "rushed, stay in line" in text(app, "#last-rep")
        assert "best 70°" in text(app, ".angle-side")
        assert "connected" in str(app.screen.query_one(LinkStatus).render())


async def test_set_summary_and_symmetry_after_both_legs() -> None:
    app, source, _ = make_app(set_update("right", 15))
    async with app.run_test() as pilot:
        await settle(pilot, source)
        summary = text(app, "#set-summary")
        assert "Right leg set: 15 of 15 reps" in summary
        assert "rushed ×2, stay in line ×1" in summary
        source.push(set_update("left", 15, si=-12.0))
        await settle(pilot, source)
        assert "SI -12% (uneven)" in text(app, "#symmetry")


async def test_keys_call_the_session_control() -> None:
    app, source, control = make_app(link())
    async with app.run_test() as pilot:
        await settle(pilot, source)
        await pilot.press("space")
        await settle(pilot, source)
        assert "set running" in text(app, "#set-state")
        await pilot.press("space", "l", "r", "c", "n")
        await settle(pilot, source)
        assert control.calls == [
            "start_set",
            "stop_set",
            "switch_leg",
            "toggle_recording",
            "recalibrate",
            "select:swing-lateral",
        ]
        assert "REC" in text(app, "#rec")
        assert "Lateral leg swings · left leg" in text(app, "#exercise")


async def test_exercise_picker_and_help() -> None:
    app, source, control = make_app()
    async with app.run_test() as pilot:
        await settle(pilot, source)
        await pilot.press("e", "down", "enter")
        await settle(pilot, source)
        assert control.calls == ["select:swing-lateral"]
        await pilot.press("e", "escape", "question_mark")
        assert "lower more slowly" in str(app.screen.query_one(Static).render())
        await pilot.press("escape", "q")
    assert control.calls == ["select:swing-lateral"]


async def test_calibration_flow_then_live() -> None:
    app, source, _ = make_app(calibration("still", 0.2, "Stand tall, hand on the wall"))
    async with app.run_test() as pilot:
        await settle(pilot, source)
        assert app.screen.query_one("#views").current == "calibration"  # type: ignore[attr-defined]
        assert "Stand still" in text(app, "#cal-title")
        assert "▶ 1. Stand still" in text(app, "#cal-steps")
        source.push(calibration("swings", 0.5, "Swing forward slowly: 1 of 3"))
        await settle(pilot, source)
        assert "3 slow forward swings" in text(app, "#cal-title")
        assert "✓ 1. Stand still" in text(app, "#cal-steps")
        source.push(calibration("failed", 0.0, "The sensor slipped"))
        await settle(pilot, source)
        assert "Press c to calibrate again" in text(app, "#cal-message")
        source.push(calibration("done", 1.0))
        await settle(pilot, source)
        assert app.screen.query_one("#views").current == "live"  # type: ignore[attr-defined]


async def test_two_sensors_get_two_panels_and_end_of_replay_is_said() -> None:
    roles = ("left-thigh", "right-thigh")
    app, source, _ = make_app(link("left-thigh", "HS-1"), link(), sensors=roles, mode="replay")
    async with app.run_test() as pilot:
        await settle(pilot, source)
        assert [p.border_title for p in app.screen.query(".angle-panel")] == [
            "left thigh",
            "right thigh",
        ]
        source.close()
        await pilot.pause()
        await pilot.pause()
        app.refresh_views()
        assert "Replay finished" in text(app, "#notice")


async def test_session_errors_become_notices_not_crashes() -> None:
    app, source, control = make_app(link())

    def refuse() -> None:
        raise SensorError("The sensor is not connected: move it closer and try again.")

    control.recalibrate = refuse  # type: ignore[method-assign]
    async with app.run_test() as pilot:
        await settle(pilot, source)
        await pilot.press("c")
        await settle(pilot, source)
        assert "move it closer" in text(app, "#notice")
        await pilot.press("space")
        await settle(pilot, source)
        assert not app.screen.query_one("#notice").display


async def test_a_failing_source_is_reported() -> None:
    async def failing() -> AsyncIterator[SessionEvent]:
        yield link()
        raise SensorNotFoundError("No sensor named HS-7F2A: is it switched on?")

    control = FakeControl(ScriptedEvents(), "knee-drive", "left")
    app = HipsenseApp(failing(), control, sensors=["right-thigh"], exercise_id="knee-drive")
    async with app.run_test() as pilot:
        for _ in range(5):
            await pilot.pause()
        app.refresh_views()
        assert "No sensor named HS-7F2A" in text(app, "#notice")
        assert "Knee drives · left leg" in text(app, "#exercise")


async def test_a_sensor_the_app_was_not_told_about_gets_a_panel_and_a_line() -> None:
    app, source, _ = make_app(link(), *swing_angles("right-thigh", 2.0))
    async with app.run_test() as pilot:
        await settle(pilot, source)
        source.push(link("left-thigh", "HS-99"), *swing_angles("left-thigh", 2.0))
        await settle(pilot, source)
        await settle(pilot, source)  # the new panel is composed, then drawn
        panels = {p.border_title: p for p in app.screen.query(".angle-panel")}
        assert list(panels) == ["right thigh", "left thigh"]
        assert panels["left thigh"].query_one(Digits).value != "--"
        lines = [str(s.render()) for s in app.screen.query(LinkStatus)]
        assert len(lines) == 2 and "HS-99" in lines[1]


async def test_wide_terminals_put_two_sensors_side_by_side() -> None:
    roles = ("left-thigh", "right-thigh")
    app, source, _ = make_app(sensors=roles)
    async with app.run_test(size=(140, 36)) as pilot:
        await settle(pilot, source)
        left, right = app.screen.query(".angle-panel")
        assert left.region.y == right.region.y and left.region.right <= right.region.x
        await pilot.resize_terminal(100, 30)
        await settle(pilot, source)
        left, right = app.screen.query(".angle-panel")
        assert left.region.bottom <= right.region.y


async def test_a_replay_says_so_instead_of_waiting_for_a_sensor() -> None:
    app, source, _ = make_app(mode="replay")
    async with app.run_test() as pilot:
        await settle(pilot, source)
        assert "replaying a recording" in str(app.screen.query_one(LinkStatus).render())


async def test_the_app_keeps_its_heap_out_of_the_collector_only_while_it_runs() -> None:
    app, source, _ = make_app()
    async with app.run_test() as pilot:
        await settle(pilot, source)
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


async def test_a_long_notice_wraps_instead_of_being_cut_off() -> None:
    folder = "/home/runner/.local/share/hipsense/recordings"
    problem = f"{folder}/session-20260501T073005Z.jsonl.gz: cannot write: No space left on device"

    async def failing() -> AsyncIterator[SessionEvent]:
        yield link()
        raise RecordingError(problem.split(": ", 1)[0], problem.split(": ", 1)[1])

    control = FakeControl(ScriptedEvents(), "knee-drive", "left")
    app = HipsenseApp(failing(), control, sensors=["right-thigh"], exercise_id="knee-drive")
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(5):
            await pilot.pause()
        app.refresh_views()
        await pilot.pause()
        notice = app.screen.query_one("#notice", Static)
        assert problem in text(app, "#notice")
        assert notice.size.height >= 2  # the whole message is on screen, not its first row


async def _run_to_the_end(pilot: Pilot[None], source: ScriptedEvents) -> None:
    """The demo's samples shown, then its stream ended."""
    await settle(pilot, source)
    source.close()
    await pilot.pause()
    await pilot.pause()


async def test_the_end_of_the_demo_is_said() -> None:
    app, source, _ = make_app(link(), *swing_angles("right-thigh"), mode="demo")
    async with app.run_test() as pilot:
        await _run_to_the_end(pilot, source)
        app.refresh_views()
        assert "Demo finished: press q to quit" in text(app, "#notice")


async def test_after_the_end_only_help_and_quit_act() -> None:
    """space after 'Demo finished' used to start a set that no sample could reach: the
    panel said 'set running' for good. The keys that act on the session are dimmed."""
    app, source, control = make_app(link(), *swing_angles("right-thigh"), mode="demo")
    async with app.run_test() as pilot:
        await _run_to_the_end(pilot, source)
        await pilot.press("space", "l", "n", "c", "r")
        app.refresh_views()
        await pilot.pause()
        assert control.calls == [] and "set running" not in text(app, "#set-state")
        active = {b.binding.key for b in app.active_bindings.values() if b.enabled}
        assert active >= {"question_mark", "q"} and not active & {"space", "l", "n", "e", "r"}
        await pilot.press("question_mark")
        assert app.screen.__class__.__name__ == "HelpScreen"


async def test_when_the_stream_ends_mid_calibration_the_results_are_shown() -> None:
    app, source, _ = make_app(
        link(), *swing_angles("right-thigh"), calibration("still", 0.3), mode="demo"
    )
    async with app.run_test() as pilot:
        await settle(pilot, source)
        views = app.screen.query_one("#views", ContentSwitcher)
        assert views.current == "calibration"
        source.close()
        await pilot.pause()
        await pilot.pause()
        app.refresh_views()
        assert views.current == "live"
        assert "Demo finished" in text(app, "#notice")


async def test_a_lone_sensor_is_shown_on_the_thigh_the_leg_key_moved_it_to() -> None:
    app, source, _ = make_app(link(), *swing_angles("right-thigh"), leg="right")
    async with app.run_test() as pilot:
        await settle(pilot, source)
        status = app.screen.query_one(LinkStatus)
        assert "(right thigh)" in str(status.render())
        await pilot.press("l")
        await settle(pilot, source)
        app.refresh_views()
        await pilot.pause()
        assert "(left thigh)" in str(status.render())
        assert app.screen.query_one(".angle-panel").border_title == "left thigh"


async def test_two_sensors_keep_their_own_thighs_when_the_leg_changes() -> None:
    roles = ("left-thigh", "right-thigh")
    app, source, _ = make_app(link("left-thigh", "HS-1"), link(), sensors=roles)
    async with app.run_test() as pilot:
        await settle(pilot, source)
        await pilot.press("l")
        await settle(pilot, source)
        app.refresh_views()
        await pilot.pause()
        lines = [str(s.render()) for s in app.screen.query(LinkStatus)]
        assert "(left thigh)" in lines[0] and "(right thigh)" in lines[1]


@pytest.mark.parametrize("mode", ["demo", "replay"])
async def test_a_lone_sensor_is_told_which_thigh_to_go_on_while_calibrating(mode: str) -> None:
    """After the SLR test's first leg (or the l key) a lone sensor has to be moved to the
    other thigh; the calibration view said 'Lie still' and nothing about moving it. A
    replay's sensor stays where it was recorded: nothing is said there."""
    app, source, _ = make_app(link(), calibration("still", 0.3), leg="right", mode=mode)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, source)
        worn = app.screen.query_one("#cal-worn", Static)
        if mode == "replay":
            assert not worn.display
            return
        assert text(app, "#cal-worn") == "The sensor goes on your right thigh."
        await pilot.press("l")
        source.push(calibration("still", 0.1))
        await settle(pilot, source)
        assert text(app, "#cal-worn") == "The sensor goes on your left thigh."


async def test_help_explains_the_gauge_marks_and_fits_80x24() -> None:
    """The gauge's ┃, │ and ▲ were explained nowhere."""
    app, source, _ = make_app(link(), *swing_angles("right-thigh"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, source)
        await pilot.press("question_mark")
        await pilot.pause()
        help_box = app.screen.query_one("#help")
        shown = str(help_box.query_one(Static).render())
        gauge = next(line for line in shown.splitlines() if line.startswith("Gauge:"))
        assert "┃ target" in gauge and "│ knee line" in gauge and "▲ your best" in gauge
        assert help_box.region.bottom <= 23  # above the footer's row
