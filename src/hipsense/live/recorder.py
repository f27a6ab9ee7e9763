"""Recording a live session: raw payloads from the links, markers from the session.

``hipsense live --record FILE`` records from the start; the app's record key starts and stops
a recording into the default folder. Files are created owner-only by ``RecordingWriter``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from hipsense.errors import RecordingError
from hipsense.events import (
    CalibrationUpdate,
    ExerciseChanged,
    QualityUpdate,
    SessionEvent,
)
from hipsense.fileperms import ensure_private_dir
from hipsense.recording import RecordingHeader, RecordingWriter, SensorEntry
from hipsense.session import Session
from hipsense.session.coordinator import Placed, Recalibrated, SessionState
from hipsense.sources.ble import LinkStatus, SensorLink
from hipsense.store.model import default_history_path


def default_recordings_dir() -> Path:
    return default_history_path().parent / "recordings"


def auto_path(now: datetime | None = None) -> Path:
    """A new file in the default folder, named by the UTC time; ``-2``, ``-3``... when a
    recording of the same second exists (the record key pressed off and on again)."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    folder = default_recordings_dir()
    path, n = folder / f"session-{stamp}.jsonl.gz", 1
    while path.exists():
        n += 1
        path = folder / f"session-{stamp}-{n}.jsonl.gz"
    return path


def header_for(links: list[SensorLink], session: Session, notes: str = "") -> RecordingHeader:
    sensors = []
    for link in links:
        if link.info is None:
            continue
        kind = link.sensor.kind if link.sensor else "hipsense"
        name = link.sensor.name if link.sensor else link.target
        address = link.sensor.address if link.sensor else ""
        applied = session.sensor_calibrations.get(link.role)
        sensors.append(
            SensorEntry(
                link.role,
                link.info,
                kind=kind,
                name=name,
                address=address,
                sensor_calibration=None if applied is None else applied.to_dict(),
            )
        )
    return RecordingHeader(
        sensors=tuple(sensors), exercise=session.exercise.id, leg=session.leg.value, notes=notes
    )


@dataclass
class SessionRecorder:
    """Writes while ``session.recording`` is on; opens a file the first time it is needed."""

    session: Session
    links: list[SensorLink]
    path: Path | None = None
    notes: str = ""
    time_origin_s: float = 0.0
    writer: RecordingWriter | None = None
    paths: list[Path] = field(default_factory=list)
    failure: RecordingError | None = None  # why recording stopped on its own (disk full...)
    _last_state: dict[str, str] = field(default_factory=dict)
    _unreported: bool = False
    _placed_seen: int = 0  # of the session's ``placed`` controls

    def start(self) -> None:
        """Open the file now if recording is on: a name that is taken or a folder that cannot
        be written is an error before the session starts, not after."""
        self._writer()

    def payloads(self, role: str, items: list[tuple[float, bytes]]) -> None:
        try:
            writer = self._writer()
            if writer is None:
                return
            for t_host_s, payload in items:
                writer.write_packet(role, payload, t_host_s=t_host_s)
        except RecordingError as exc:
            self._failed(exc)

    def status(self, status: LinkStatus) -> None:
        previous = self._last_state.get(status.role)
        self._last_state[status.role] = status.state
        try:
            writer = self._writer()
            if writer is None or previous is None or previous == status.state:
                return
            kind = {"reconnecting": "disconnect", "connected": "reconnect"}.get(status.state)
            if kind is not None:
                writer.write_marker(kind, t_host_s=self._now(), sensor=status.role)
        except RecordingError as exc:
            self._failed(exc)

    async def watch(self, events: AsyncIterator[SessionEvent]) -> AsyncIterator[SessionEvent]:
        """Pass events through, writing calibrations and set boundaries into the recording.
        A recording that fails (disk full, name taken) stops; the session goes on and is
        told once, as a notice."""
        async for event in events:
            try:
                self._note(event)
            except RecordingError as exc:
                self._failed(exc)
            if self._unreported and self.failure is not None:
                self._unreported = False
                message = f"recording stopped: {self.failure}"
                yield QualityUpdate("recording", "recording", self._now(), message)
            yield event

    def _failed(self, exc: RecordingError) -> None:
        """Recording off, the file closed as far as it goes; the live session carries on."""
        self.failure, self._unreported = exc, True
        self.session.recording = False
        writer, self.writer = self.writer, None
        if writer is not None:
            with contextlib.suppress(RecordingError):  # the failure is what gets reported
                writer.close()

    def _note(self, event: SessionEvent) -> None:
        writer = self.writer if self.session.recording else None
        placed = self.session.placed[self._placed_seen :]
        self._placed_seen += len(placed)
        if writer is None:
            return
        for mark in placed:  # where each control took effect in the samples
            self._write_mark(writer, mark)
        if isinstance(event, CalibrationUpdate) and event.phase == "done":
            found = self.session.calibrations.get((event.role, self.session.exercise.posture))
            if found is not None:
                t = self._now()
                writer.write_calibration({"sensor": event.role, **found.to_dict()}, t_host_s=t)

    def _write_mark(self, writer: RecordingWriter, mark: Placed) -> None:
        """The marker of a control where it took effect. The calibrate key's is written per
        sensor (naming it when there are several: each is cut at its own sample); a set's
        start or stop, or a drill or leg picked, once, where the first sensor fed after it
        placed it (``exercise_marks`` reads no sensor)."""
        control, t = mark.control, mark.at_s
        data: dict[str, object] = {"exercise": control.exercise_id, "leg": control.leg}
        if isinstance(control, Recalibrated):
            if len(self.session.rates_hz) > 1:
                data["sensor"] = mark.sensor
            writer.write_marker("calibration-start", t_host_s=t, **data)
        elif not mark.first:
            return
        elif isinstance(control, ExerciseChanged):
            writer.write_marker("set-start", t_host_s=t, **data)
        else:  # a set started or stopped (replay and analyze follow it), or the state a file
            # starts in: its drill and leg, whether a set was running then
            starts = isinstance(control, SessionState) or control.counting
            kind = "set-start" if starts else "set-stop"
            writer.write_marker(kind, t_host_s=t, **data, counting=control.counting)

    def close(self) -> None:
        """Close the file, with the markers of the controls it has not had yet: those
        placed since the last event, and, after the last sample fed, those not placed."""
        writer, self.writer = self.writer, None
        if writer is None:
            return
        try:
            placed = self.session.placed[self._placed_seen :]
            self._placed_seen += len(placed)
            for mark in [*placed, *self.session.placed_at_end(self._now())]:
                self._write_mark(writer, mark)
        finally:
            writer.close()

    def _now(self) -> float:
        return time.monotonic() - self.time_origin_s

    def _writer(self) -> RecordingWriter | None:
        if not self.session.recording:
            self.close()  # the record key turned it off: the file is complete
            return None
        if self.writer is None:
            if self.path is not None and not self.paths:
                path = self.path
            else:
                _private_dir(default_history_path().parent)  # hipsense's own folder: 0700
                path = auto_path()
            _private_dir(path.parent)
            self.writer = RecordingWriter(path, header_for(self.links, self.session, self.notes))
            self.paths.append(path)
            session = self.session  # the state the file starts in, marked before its samples
            session.mark(SessionState(session.exercise.id, session.leg.value, session.counting))
        return self.writer


def _private_dir(folder: Path) -> None:
    try:
        ensure_private_dir(folder)
    except OSError as exc:
        raise RecordingError(str(folder), f"cannot create the folder: {exc.strerror}") from exc
