"""The guided flows in the app: warm-up auto-advance and the straight leg raise test."""

from __future__ import annotations

import asyncio

import pytest
from textual.widgets import Static

from hipsense.tui.app import FRAME_S
from hipsense.tui.screens.main import MainScreen

from .fakes import link, make_app, rep, set_update, settle, slr, swing_angles


def text(app: object, selector: str) -> str:
    widget = app.screen.query_one(selector, Static)  # type: ignore[attr-defined]
    return str(widget.render())


async def test_warmup_advances_itself_when_each_set_is_done() -> None:
    app, source, control = make_app(link(), leg="right")
    async with app.run_test() as pilot:
        await settle(pilot, source)
        await pilot.press("w")
        await settle(pilot, source)
        assert control.calls == ["select:swing-forward", "start_set"]
        assert text(app, "#routine") == "Warm-up 1/4 · leg 1 of 2"
        source.push(*(rep(i) for i in range(1, 16)), set_update("right", 15))
        await settle(pilot, source)
        assert control.calls[2:] == ["switch_leg", "start_set"]
        assert "Forward leg swings · left leg" in text(app, "#exercise")
        assert text(app, "#routine") == "Warm-up 1/4 · leg 2 of 2"
        assert "set running" in text(app, "#set-state")
        source.push(set_update("left", 15))
        await settle(pilot, source)
        assert control.calls[4:] == ["select:swing-lateral", "start_set"]
        assert "Lateral leg swings · left leg" in text(app, "#exercise")
        assert text(app, "#routine").startswith("Warm-up 2/4")
        await pilot.press("n")
        await settle(pilot, source)
        assert control.calls[6:] == ["select:knee-drive", "start_set"]


async def test_slr_test_best_of_three_each_leg_with_history() -> None:
    app, source, control = make_app(exercise_id="slr", leg="left")
    async with app.run_test() as pilot:
        await settle(pilot, source)
        assert "Left leg, trial 1 of 3" in text(app, "#slr-prompt")
        source.push(slr("left", 70.0, 74.0, previous=66.0))
        await settle(pilot, source)
        assert "Left leg, trial 3 of 3" in text(app, "#slr-prompt")
        source.push(slr("left", 70.0, 74.0, 72.0, previous=66.0))
        await settle(pilot, source)
        assert control.calls == ["switch_leg", "start_set"]
        assert "Right leg, trial 1 of 3" in text(app, "#slr-prompt")
        left = text(app, "#slr-left")
        assert "trials 70°  74°  72°" in left.splitlines()
        assert "best 74° · grade 2" in left
        assert "below the 75° line" in left
        assert "last 66°: +8° (real change)" in left.splitlines()  # one line at 80 columns
        source.push(slr("right", 80.0, 82.0, 79.0))
        await settle(pilot, source)
        assert "Test done" in text(app, "#slr-prompt")
        assert "passes the 75° line" in text(app, "#slr-right")
        assert "SI +10% (uneven)" in text(app, "#slr-compare")
        assert control.calls == ["switch_leg", "start_set"]


async def test_slr_target_and_line_agree_and_trials_keep_to_their_line() -> None:
    """The gauge's target is the session's door-jamb line (75.5°, not a rounded 76° or the
    catalogue's 75°) before and after the first trial, and the trials sit on a line of
    their own: after the leg's name they wrapped at 80 columns."""
    line = 75.52  # the default proportions' line
    app, source, _ = make_app(exercise_id="slr", leg="left", target_deg=line)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, source)
        assert "target 75.5°" in text(app, ".angle-side")
        source.push(slr("left", 46.0, 54.0, 75.4, line=line))
        await settle(pilot, source)
        assert "target 75.5°" in text(app, ".angle-side")
        left = text(app, "#slr-left").splitlines()
        assert left[:2] == ["Left leg", "trials 46°  54°  75°"]
        assert "below the 75.5° line" in left


async def test_angle_updates_are_coalesced_into_frames(monkeypatch: pytest.MonkeyPatch) -> None:
    app, source, _ = make_app(link())
    frames: list[int] = []
    original = MainScreen.show_angles

    def counting(screen: MainScreen, model: object) -> bool:
        frames.append(1)
        return original(screen, model)  # type: ignore[arg-type]

    monkeypatch.setattr(MainScreen, "show_angles", counting)
    async with app.run_test() as pilot:
        await settle(pilot, source)
        frames.clear()
        batches = swing_angles("right-thigh", seconds=30.0)
        loop = asyncio.get_running_loop()
        started = loop.time()
        source.push(*batches)
        await settle(pilot, source)
        elapsed = loop.time() - started
        assert len(frames) <= elapsed / FRAME_S + 3
        assert len(frames) < len(batches) / 3
        assert app.model.traces["right-thigh"].t_s[-1] == batches[-1].t_s[-1]
