"""The app on the real session, fed by recordings in recordings/ (what the user sees)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Digits, Static

from hipsense.exercises import Leg
from hipsense.recording import read_recording
from hipsense.session import Session
from hipsense.sources.replay import RecordingReplay
from hipsense.tui import HipsenseApp

from .lockstep import Lockstep

RECORDINGS = Path(__file__).resolve().parents[2] / "recordings"


def replay(name: str) -> tuple[Lockstep, Session, dict[str, Any]]:
    truth = json.loads((RECORDINGS / f"{name}.truth.json").read_text())
    recording = read_recording(RECORDINGS / f"{name}.jsonl.gz")
    rates = {s.sensor_id: float(s.info.sample_rate_hz) for s in recording.header.sensors}
    session = Session(truth["exercise"], Leg(truth["leg"]), rates)
    return Lockstep(RecordingReplay(recording).stream(speed=None)), session, truth


def text(app: HipsenseApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def showing(app: HipsenseApp) -> str:
    return str(app.screen.query_one("#views").current)  # type: ignore[attr-defined]


def count(app: HipsenseApp) -> str:
    return app.screen.query_one("#rep-count", Digits).value


class TitlesSeen:
    """A stop condition that also notes each calibration title the user was shown."""

    def __init__(self, app: HipsenseApp) -> None:
        self.app = app
        self.titles: list[str] = []

    def __call__(self) -> bool:
        model = self.app.model
        if model.calibrating:
            self.app.refresh_views()
            title = text(self.app, "#cal-title")
            if title not in self.titles:
                self.titles.append(title)
        return bool(model.calibration) and not model.calibrating


async def test_swing_replay_guides_calibration_then_counts_to_the_truth() -> None:
    feed, session, truth = replay("swing-forward_right")
    app = feed.app_for(session, mode="replay")
    async with app.run_test() as pilot:
        await feed.frame(pilot)
        assert showing(app) == "live"
        assert app.screen.query_one(".angle-digits", Digits).value == "--"
        seen = TitlesSeen(app)
        await feed.run_until(pilot, seen)
        assert seen.titles == ["Stand still", "3 slow forward swings", "Stand still again"]
        assert app.model.calibration["right_thigh"].phase == "done"
        assert showing(app) == "live"
        assert count(app) == "0"  # the calibration swings are not reps
        await feed.run_to_end(pilot)
        assert count(app) == str(truth["rep_count"])
        assert "Replay finished" in text(app, "#notice")
        summary = text(app, "#set-summary")
        assert f"Right leg set: {truth['rep_count']} of 15 reps" in summary
        assert app.screen.query_one(".angle-digits", Digits).value != "--"


# Abduction, supine, packet loss (every recording counts exactly; a few keep the suite fast).
SAMPLED = ["swing-lateral_left", "leg-lowering_right", "knee-drive_right_loss"]


@pytest.mark.parametrize("name", SAMPLED)
async def test_replays_count_to_the_truth_on_screen(name: str) -> None:
    feed, session, truth = replay(name)
    app = feed.app_for(session, mode="replay")
    async with app.run_test() as pilot:
        await feed.run_to_end(pilot)
        assert count(app) == str(truth["rep_count"])
        leg = truth["leg"]
        assert f"{leg.capitalize()} leg set: {truth['rep_count']} of" in text(app, "#set-summary")


async def test_slr_test_keeps_the_best_of_three_and_grades_it() -> None:
    """The SLR test flow live, on a recording's data: three trials, then the other leg."""
    feed, session, truth = replay("slr_right")
    app = feed.app_for(session, mode="live")
    async with app.run_test() as pilot:
        await feed.frame(pilot)
        assert "Right leg, trial 1 of 3" in text(app, "#slr-prompt")
        seen = TitlesSeen(app)
        await feed.run_until(pilot, seen)
        assert seen.titles[:2] == ["Lie still", "Raise the leg once, slowly"]
        await feed.run_until(pilot, lambda: app.slr_test is None or app.slr_test.leg == "left")
        result = app.model.slr["right"]
        peaks = [r["peak_deg"] for r in truth["reps"][:3]]
        assert result.trial_peaks_deg == pytest.approx(peaks, abs=3.0)  # the first raise counts
        best = max(peaks)
        assert result.pass_line_deg > best > result.knee_line_deg  # so grade 2, "below"
        right = text(app, "#slr-right")
        assert right.startswith(
            "Right leg\ntrials " + "  ".join(f"{p:.0f}°" for p in result.trial_peaks_deg)
        )
        assert f"best {result.best_deg:.0f}° · grade 2" in right
        assert f"below the {result.pass_line_deg:.1f}° line" in right
        assert "Left leg, trial 1 of 3" in text(app, "#slr-prompt")
        assert "Straight leg raise test · left leg" in text(app, "#exercise")
        assert session.leg is Leg.LEFT
        await feed.run_to_end(pilot)
        assert text(app, "#slr-right") == right  # later raises are not right-leg trials


async def test_slr_replay_shows_every_raise_on_the_recorded_leg() -> None:
    feed, session, truth = replay("slr_right")
    app = feed.app_for(session, mode="replay")
    async with app.run_test() as pilot:
        await feed.run_to_end(pilot)
        assert session.leg is Leg.RIGHT  # nothing switched the leg the recording is of
        assert set(app.model.slr) == {"right"}
        assert len(app.model.slr["right"].trial_peaks_deg) == truth["rep_count"]
        assert "Each leg's raises as recorded." in text(app, "#slr-prompt")
        assert "SI" not in text(app, "#slr-compare")  # no symmetry from one leg's raises
        assert text(app, "#slr-left").startswith("Left leg") and "°" not in text(app, "#slr-left")


async def test_keys_act_on_the_real_session() -> None:
    """A recording fed as the demo's sensor: the keys reach the real session."""
    feed, session, _ = replay("swing-forward_right")
    app = feed.app_for(session, mode="demo")
    async with app.run_test() as pilot:
        await feed.run_until(pilot, lambda: app.model.reps["right"] == 3)
        await pilot.press("space")  # the runner stops after three
        await feed.run_until(pilot, lambda: app.model.last_set is not None)
        assert "Right leg set: 3 of 15 reps" in text(app, "#set-summary")
        assert "space starts a set" in text(app, "#set-state")
        await pilot.press("space")
        await feed.run_until(pilot, lambda: app.model.reps["right"] == 2)
        assert count(app) == "2"  # a new set counts from zero
        assert "set running" in text(app, "#set-state")
        await pilot.press("c")
        await feed.run_until(pilot, lambda: app.model.calibrating)
        assert showing(app) == "calibration"
        assert text(app, "#cal-title") == "Stand still"
        await pilot.press("e", "down", "down", "enter")  # swing-forward → knee drives
        await feed.frame(pilot)
        assert session.exercise.id == "knee-drive"
        assert "Knee drives · right leg" in text(app, "#exercise")
        await pilot.press("n", "l")
        await feed.run_until(pilot, lambda: app.model.leg == "left")
        assert session.exercise.id == "straight-leg-march"
        assert session.leg is Leg.LEFT
        assert "Straight-leg march · left leg" in text(app, "#exercise")


async def test_a_replay_dims_the_keys_that_would_undo_the_recording() -> None:
    """l (the sensor to the other thigh) and c (calibrate again) used to act on a replay: its
    later reps then had no calibration, and a right-leg file replayed as 'left leg, 0 reps'.
    In a replay they are dimmed in the footer and do nothing, as is r (nothing is written);
    the replay counts on to the truth."""
    feed, session, truth = replay("knee-drive_right")
    app = feed.app_for(session, mode="replay")
    async with app.run_test(size=(80, 24)) as pilot:
        await feed.run_until(pilot, lambda: app.model.reps["right"] == 2)
        await pilot.press("l", "c", "r")
        await feed.frame(pilot)
        assert session.leg is Leg.RIGHT and not session.recording
        assert not app.model.calibrating and "REC" not in text(app, "#rec")
        dimmed = {
            b.binding.key for b in app.active_bindings.values() if not b.enabled and b.binding.show
        }
        assert dimmed == {"l", "c", "r"}
        await feed.run_to_end(pilot)
        assert count(app) == str(truth["rep_count"])
