"""A scripted event source and a recording SessionControl for UI tests."""

from __future__ import annotations

import asyncio
import math

import numpy as np
from textual.pilot import Pilot

from hipsense.events import (
    AngleUpdate,
    CalibrationPhase,
    CalibrationUpdate,
    ExerciseChanged,
    LinkUpdate,
    RepUpdate,
    SessionEvent,
    SetUpdate,
    SlrUpdate,
)
from hipsense.exercises import CATALOGUE
from hipsense.routines import other_leg
from hipsense.tui import HipsenseApp

_END = object()


class ScriptedEvents:
    """An async iterator of session events the test feeds with ``push`` and ends with ``close``."""

    def __init__(self, *events: SessionEvent) -> None:
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._waiting = False
        self.push(*events)

    def push(self, *events: SessionEvent) -> None:
        for event in events:
            self._queue.put_nowait(event)

    def close(self) -> None:
        self._queue.put_nowait(_END)

    def __aiter__(self) -> ScriptedEvents:
        return self

    async def __anext__(self) -> SessionEvent:
        self._waiting = True
        item = await self._queue.get()
        self._waiting = False
        if item is _END:
            raise StopAsyncIteration
        return item  # type: ignore[return-value]

    async def wait_idle(self) -> None:
        """Until the consumer has taken every pushed event and waits for more."""
        for _ in range(2000):
            if self._waiting and self._queue.empty():
                return
            await asyncio.sleep(0.001)
        raise AssertionError("the app did not consume the scripted events")


class FakeControl:
    """Records every call; like the real session, echoes exercise and leg changes as events."""

    def __init__(
        self, events: ScriptedEvents, exercise_id: str, leg: str, slr_line_deg: float = 75.0
    ) -> None:
        self.events = events
        self.slr_line_deg = slr_line_deg  # the SLR's target, as the session grades it
        self.exercise_id = exercise_id
        self.target_reps = CATALOGUE[exercise_id].target_reps
        self.leg = leg
        self.calls: list[str] = []
        self.recording = False

    def _changed(self) -> None:
        e = CATALOGUE[self.exercise_id]
        target = self.slr_line_deg if e.id == "slr" else e.target_deg
        self.events.push(ExerciseChanged(e.id, self.leg, self.target_reps, target))

    def start_set(self) -> None:
        self.calls.append("start_set")

    def stop_set(self) -> None:
        self.calls.append("stop_set")

    def switch_leg(self) -> None:
        self.calls.append("switch_leg")
        self.leg = other_leg(self.leg)
        self._changed()

    def select_exercise(self, exercise_id: str, target_reps: int | None = None) -> None:
        self.calls.append(f"select:{exercise_id}")
        self.exercise_id = exercise_id
        self.target_reps = target_reps or CATALOGUE[exercise_id].target_reps
        self._changed()

    def toggle_recording(self) -> bool:
        self.calls.append("toggle_recording")
        self.recording = not self.recording
        return self.recording

    def recalibrate(self) -> None:
        self.calls.append("recalibrate")


def link(role: str = "right-thigh", name: str = "HS-7F2A", **kw: object) -> LinkUpdate:
    values: dict[str, object] = dict(
        state="connected", battery_pct=82, rate_hz=104.0, loss_pct=0.3, recording=False
    )
    values.update(kw)
    return LinkUpdate(role, name, **values)  # type: ignore[arg-type]


def swing_angles(
    role: str, seconds: float = 10.0, *, amplitude_deg: float = 55.0, period_s: float = 2.0
) -> list[AngleUpdate]:
    """A deterministic swing, in 0.1 s batches, ending on a known value."""
    batches = []
    rate_hz = 100.0
    n = int(rate_hz / 10)
    for k in range(int(seconds * 10)):
        t = (k * n + np.arange(n)) / rate_hz
        flexion = amplitude_deg * np.sin(2 * math.pi * t / period_s) + 10.0
        abduction = 4.0 * np.sin(2 * math.pi * t / period_s)
        batches.append(AngleUpdate(role, t, flexion, abduction))
    return batches


def rep(
    index: int,
    leg: str = "right",
    *,
    exercise_id: str = "swing-forward",
    role: str = "right-thigh",
    flags: tuple[str, ...] = (),
    peak: float = 64.0,
) -> RepUpdate:
    return RepUpdate(
        role,
        exercise_id,
        leg,
        "completed",
        index,
        float(index) * 2.0,
        peak,
        peak + 20.0,
        1.9,
        flags,
    )


def set_update(
    leg: str = "right",
    reps: int = 15,
    *,
    exercise_id: str = "swing-forward",
    done: bool = True,
    target: int = 15,
    si: float | None = None,
) -> SetUpdate:
    return SetUpdate(
        "right-thigh",
        exercise_id,
        leg,
        reps,
        target,
        84.0,
        91.0,
        6.0,
        1.9,
        (("rushed", 2), ("off-plane", 1)),
        si,
        done,
    )


def slr(leg: str, *peaks: float, previous: float | None = None, line: float = 75.0) -> SlrUpdate:
    best = max(peaks) if peaks else None
    change = best - previous if best is not None and previous is not None else None
    return SlrUpdate(
        leg=leg,
        trial_peaks_deg=peaks,
        best_deg=best,
        grade=None if best is None else (3 if best >= 75 else 2 if best >= 60 else 1),
        passed=None if best is None else best >= line,
        pass_line_deg=line,
        knee_line_deg=60.0,
        previous_best_deg=previous,
        change_deg=change,
        real_change=None if change is None else abs(change) >= 6.5,
    )


def calibration(
    phase: CalibrationPhase, fraction: float, message: str = "", role: str = "right-thigh"
) -> CalibrationUpdate:
    return CalibrationUpdate(role, phase, message or f"{phase}…", fraction)


def make_app(
    *events: object,
    sensors: tuple[str, ...] = ("right-thigh",),
    exercise_id: str = "swing-forward",
    leg: str = "right",
    mode: str = "demo",
    target_deg: float | None = None,
) -> tuple[HipsenseApp, ScriptedEvents, FakeControl]:
    source = ScriptedEvents(*events)  # type: ignore[arg-type]
    control = FakeControl(source, exercise_id, leg, target_deg or 75.0)
    app = HipsenseApp(
        source,
        control,
        sensors=list(sensors),
        exercise_id=exercise_id,
        leg=leg,
        mode=mode,  # type: ignore[arg-type]
        target_deg=target_deg,
    )
    return app, source, control


async def settle(pilot: Pilot[None], source: ScriptedEvents) -> None:
    """Let the app take every scripted event, handle it, and draw one frame."""
    for _ in range(3):
        await source.wait_idle()
        await pilot.pause()
    app = pilot.app
    assert isinstance(app, HipsenseApp)
    app.refresh_views()
    await pilot.pause()
