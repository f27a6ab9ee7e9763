"""The live app: consumes session events in a worker, redraws on a frame timer, keys → control."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Callable, Iterable
from functools import partial
from typing import ClassVar, Literal, TypeVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches

from hipsense.errors import HipsenseError
from hipsense.events import (
    AngleUpdate,
    ExerciseChanged,
    SessionControl,
    SessionEvent,
)
from hipsense.exercises import CATALOGUE
from hipsense.routines import (
    WARMUP_STEPS,
    Action,
    RoutineStep,
    SelectExercise,
    SlrAssessment,
    StartSet,
    SwitchLeg,
    WarmupRoutine,
    apply_actions,
    other_leg,
)
from hipsense.tui.messages import EventsEnded, SessionEventReceived
from hipsense.tui.model import SessionModel
from hipsense.tui.screens.help import HelpScreen
from hipsense.tui.screens.main import MainScreen
from hipsense.tui.screens.picker import WARMUP_ID, ExercisePicker

Mode = Literal["live", "demo", "replay"]
T = TypeVar("T")
FRAME_S = 1 / 30
ENDED: dict[Mode, str] = {
    "live": "Sensor stream ended",
    "demo": "Demo finished: press q to quit",
    "replay": "Replay finished",
}
# A replay shows the recording as it was made: l would take the sensor to the other thigh
# and c restart its calibration, both cut the recorded reps off from the calibration they
# need; r would write nothing. Their keys are dimmed and do nothing (--leg replays the file
# as the other leg).
REPLAY_DIMS = frozenset({"switch_leg", "recalibrate", "toggle_recording"})
# Once the stream has ended no sample can come: a set started then would show "set running"
# forever. Only help and quit stay.
ENDED_DIMS = REPLAY_DIMS | {"toggle_set", "next_exercise", "pick_exercise", "warmup"}


class HipsenseApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "hipsense"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_set", "Set", key_display="space"),
        Binding("l", "switch_leg", "Leg"),
        Binding("n", "next_exercise", "Next"),
        Binding("e", "pick_exercise", "Exercise"),
        Binding("r", "toggle_recording", "Rec"),
        Binding("c", "recalibrate", "Calibrate"),
        Binding("w", "warmup", "Warm-up", show=False),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(
        self,
        events: AsyncIterator[SessionEvent],
        control: SessionControl,
        *,
        sensors: list[str],
        exercise_id: str = "swing-forward",
        leg: str = "left",
        mode: Mode = "live",
        warmup: tuple[RoutineStep, ...] = WARMUP_STEPS,
        target_deg: float | None = None,
    ) -> None:
        """``target_deg``: the session's for the first drill (default: the catalogue's)."""
        super().__init__()
        self.warmup = warmup
        self._events = events
        self.control = control
        self.mode = mode
        self.model = SessionModel(sensors, exercise_id, leg, target_deg)
        self.routine: WarmupRoutine | None = None
        # A replay shows what was recorded: the SLR test flow would switch legs on its own
        # and file the recording's later raises as the other leg's trials.
        guided = exercise_id == "slr" and mode != "replay"
        self.slr_test = SlrAssessment(leg) if guided else None
        self.main = MainScreen(sensors, mode)
        self.ended = False  # the session's events have ended (demo over, replay done, link gone)

    def on_mount(self) -> None:
        self.push_screen(self.main)
        self.set_interval(FRAME_S, self.refresh_views)
        self.consume_events()
        # Everything alive now (BLE stack, widgets) lives as long as the app: keep it out of
        # the collector, whose full passes otherwise stall the loop ~150 ms (bench_ui.py).
        gc.freeze()

    def on_unmount(self) -> None:
        gc.unfreeze()

    @work(exclusive=True, group="session-events")
    async def consume_events(self) -> None:
        """Never blocks on the UI: angles extend a trace, other events become messages."""
        try:
            async for event in self._events:
                if isinstance(event, AngleUpdate):
                    self.model.add_angles(event)
                else:
                    self.post_message(SessionEventReceived(event))
                await asyncio.sleep(0)  # let a frame in even when the source has a backlog
        except HipsenseError as exc:
            self.post_message(EventsEnded(str(exc)))
        else:
            self.post_message(EventsEnded())

    def refresh_views(self) -> None:
        """One frame: redraw from the model if anything changed since the last frame."""
        model = self.model
        if not (model.angles_dirty or model.state_dirty) or not self.main.is_mounted:
            return
        try:
            if model.state_dirty:
                self.main.show_state(model, routine=self.routine, slr_test=self.slr_test)
            drawn = self.main.show_angles(model)
        except NoMatches:  # mounted, its widgets not (yet, or any more): the next frame draws
            return
        model.state_dirty = False
        model.angles_dirty = not drawn

    def on_session_event_received(self, message: SessionEventReceived) -> None:
        event, previous = message.event, self.model.exercise.id
        self.model.apply(event)
        if isinstance(event, ExerciseChanged):
            self._exercise_shown(previous)
        for flow in (self.routine, self.slr_test):
            if flow is not None:
                self._do(flow.on_event(event))

    def on_events_ended(self, message: EventsEnded) -> None:
        self.ended = True
        self.refresh_bindings()  # the footer dims what can no longer act
        ended = ENDED[self.mode]
        self.model.notice = message.error or ended
        # No data can finish a calibration now: show the session's results instead of it.
        calibrations = self.model.calibration
        self.model.calibration = {r: c for r, c in calibrations.items() if c.phase == "done"}
        self.model.state_dirty = True

    def _do(self, actions: Iterable[Action]) -> None:
        """Carry out a flow's actions: show them at once, then ask the session (whose
        ExerciseChanged and SetUpdate events then confirm the drill, leg and target)."""
        for action in actions:
            model, previous = self.model, self.model.exercise.id
            if isinstance(action, SelectExercise):
                model.select(action.exercise_id, model.leg, action.target_reps)
            elif isinstance(action, SwitchLeg):
                model.select(previous, other_leg(model.leg), model.target_reps)
            elif isinstance(action, StartSet):
                model.start_set(model.leg)
            self._ask(partial(apply_actions, [action], self.control), None)
            self._exercise_shown(previous)

    def _ask(self, call: Callable[[], T], default: T) -> T:
        """Call the session; a refusal (HipsenseError) becomes a notice, never a crash."""
        try:
            return call()
        except HipsenseError as exc:
            self.model.notice = str(exc)
            self.model.state_dirty = True
            return default

    def _exercise_shown(self, previous_id: str) -> None:
        current = self.model.exercise.id
        if current != "slr" or self.mode == "replay":
            self.slr_test = None
        elif previous_id != "slr" or self.slr_test is None:
            self.slr_test = SlrAssessment(self.model.leg)
        self.model.state_dirty = True

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """None: the key shows dimmed in the footer and does nothing."""
        if self.ended and action in ENDED_DIMS:
            return None
        return None if self.mode == "replay" and action in REPLAY_DIMS else True

    def action_toggle_set(self) -> None:
        if self.model.set_active:
            self.model.stop_set()
            self._ask(self.control.stop_set, None)
        else:
            self._do([StartSet()])

    def action_switch_leg(self) -> None:
        self._do([SwitchLeg()])

    def action_next_exercise(self) -> None:
        if self.routine is not None and not self.routine.finished:
            self._do(self.routine.skip())
            return
        ids = list(CATALOGUE)
        current = ids.index(self.model.exercise.id) if self.model.exercise.id in ids else -1
        self._do([SelectExercise(ids[(current + 1) % len(ids)])])

    def action_pick_exercise(self) -> None:
        self.push_screen(ExercisePicker(self.model.exercise.id), callback=self._picked)

    def _picked(self, choice: str | None) -> None:
        if choice == WARMUP_ID:
            self.action_warmup()
        elif choice is not None:
            self.routine = None
            self._do([SelectExercise(choice)])

    def action_warmup(self) -> None:
        self.routine = WarmupRoutine(self.model.leg, self.warmup)
        self._do(self.routine.start())

    def action_toggle_recording(self) -> None:
        self.model.set_recording(self._ask(self.control.toggle_recording, self.model.recording))

    def action_recalibrate(self) -> None:
        self._ask(self.control.recalibrate, None)

    def action_help(self) -> None:
        self.push_screen(HelpScreen())
