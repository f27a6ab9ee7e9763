"""Stream a session to disk so that a crash or kill -9 loses at most the last second."""

from __future__ import annotations

import contextlib
import json
import math
import os
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from hipsense.errors import RecordingError
from hipsense.fileperms import create_private_file, write_all
from hipsense.recording.model import MARKER_KINDS, RecordingHeader

FLUSH_INTERVAL_S = 1.0
FSYNC_INTERVAL_S = 5.0
_MAX_PENDING_BYTES = 1 << 20


class RecordingWriter:
    """Append-only writer of a recording; ``.jsonl.gz`` paths are gzip-compressed.

    Lines are buffered and handed to the OS at least every ``flush_interval_s`` by a small
    background thread (also when no new data arrives), so a killed process loses at most
    that much; fsync runs every ``fsync_interval_s`` and on close, against power loss.
    Gzip output is one member with a Z_SYNC_FLUSH per flush, so a cut-off file still
    decompresses up to the last flush. ``t_host_s`` defaults to seconds since the writer
    was opened on ``clock`` (monotonic).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        header: RecordingHeader,
        *,
        flush_interval_s: float = FLUSH_INTERVAL_S,
        fsync_interval_s: float = FSYNC_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = Path(path)
        self.header = header
        self._sensor_ids = {s.sensor_id for s in header.sensors}
        self._json_ids = {sid: json.dumps(sid) for sid in self._sensor_ids}
        self._clock = clock
        self._origin_s = clock()
        self._flush_interval_s = flush_interval_s
        self._fsync_interval_s = fsync_interval_s
        try:
            self._fd = create_private_file(self.path)
        except FileExistsError as exc:
            raise RecordingError(
                str(self.path), "already exists: choose another file name"
            ) from exc
        except OSError as exc:
            raise RecordingError(str(self.path), f"cannot create: {exc.strerror}") from exc
        gz = self.path.name.endswith(".gz")
        self._compressor = zlib.compressobj(6, zlib.DEFLATED, 31) if gz else None
        self._lock = threading.Lock()
        self._pending = bytearray()
        self._dirty = False
        self._last_flush_s = time.monotonic()
        self._last_fsync_s = self._last_flush_s
        self._closed = False
        self._failure: str | None = None
        self._write_line(_dumps(header.to_json()))
        self.flush()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._flush_loop, name="hipsense-recording-flush", daemon=True
        )
        self._thread.start()

    def elapsed_s(self) -> float:
        """Host seconds since the recording was opened: the default ``t_host_s``."""
        return self._clock() - self._origin_s

    def write_packet(
        self, sensor_id: str, payload: bytes | bytearray, t_host_s: float | None = None
    ) -> None:
        """Record one raw notification payload as received from ``sensor_id``."""
        jid = self._json_ids.get(sensor_id)
        if jid is None:
            raise ValueError(f"sensor {sensor_id!r} is not in the recording header")
        t = self._time(t_host_s)
        self._write_line(
            f'{{"type":"packet","t_host_s":{t:.6f},"sensor":{jid},'
            f'"payload_hex":"{bytes(payload).hex()}"}}'
        )

    def write_marker(self, kind: str, t_host_s: float | None = None, **data: Any) -> None:
        """Record a marker (``MARKER_KINDS``); extra keyword fields are kept, e.g. text=..."""
        if kind not in MARKER_KINDS:
            raise ValueError(f"unknown marker kind {kind!r}; use one of {MARKER_KINDS}")
        reserved = {"type", "t_host_s", "kind"} & data.keys()
        if reserved:
            raise ValueError(f"marker fields {sorted(reserved)} are reserved")
        record = {"type": "marker", "t_host_s": round(self._time(t_host_s), 6), "kind": kind}
        self._write_line(_dumps(record | data))

    def write_calibration(self, calibration: dict[str, Any], t_host_s: float | None = None) -> None:
        """Record a mounting calibration made during the session."""
        t = round(self._time(t_host_s), 6)
        self._write_line(_dumps({"type": "calibration", "t_host_s": t, "calibration": calibration}))

    def flush(self) -> None:
        """Hand everything written so far to the OS (not yet fsynced)."""
        with self._lock:
            self._flush_locked()

    def close(self) -> None:
        if self._closed:
            return
        self._stop.set()
        self._thread.join()
        with self._lock:
            try:
                if self._compressor is not None:
                    self._pending += self._compressor.flush(zlib.Z_FINISH)
                self._write_pending()
                os.fsync(self._fd)
            except OSError as exc:
                self._fail(exc)
            finally:
                self._closed = True
                os.close(self._fd)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _time(self, t_host_s: float | None) -> float:
        t = self.elapsed_s() if t_host_s is None else float(t_host_s)
        if not math.isfinite(t):
            raise ValueError(f"t_host_s must be finite, not {t}")
        return t

    def _write_line(self, line: str) -> None:
        data = (line + "\n").encode("utf-8")
        with self._lock:
            if self._closed:
                raise ValueError(f"{self.path}: recording is closed")
            if self._failure is not None:
                raise RecordingError(str(self.path), self._failure)
            if self._compressor is not None:
                data = self._compressor.compress(data)
            self._pending += data
            self._dirty = True
            overdue = time.monotonic() - self._last_flush_s >= self._flush_interval_s
            if overdue or len(self._pending) >= _MAX_PENDING_BYTES:
                self._flush_locked()

    def _flush_locked(self) -> None:
        if self._closed:
            return
        if self._compressor is not None and self._dirty:
            self._pending += self._compressor.flush(zlib.Z_SYNC_FLUSH)
        self._write_pending()
        self._dirty = False
        self._last_flush_s = time.monotonic()

    def _write_pending(self) -> None:
        if self._failure is not None:
            raise RecordingError(str(self.path), self._failure)
        try:
            write_all(self._fd, self._pending)
        except OSError as exc:
            self._fail(exc)
        self._pending.clear()

    def _fail(self, exc: OSError) -> None:
        """Remember a write failure (disk full...): every later write and close reports it."""
        self._failure = self._failure or f"cannot write: {exc.strerror or exc}"
        raise RecordingError(str(self.path), self._failure) from exc

    def _flush_loop(self) -> None:
        # Half the interval, so data waits at most one interval even when the timer drifts.
        while not self._stop.wait(self._flush_interval_s / 2):
            try:
                self.flush()
                now = time.monotonic()
                if now - self._last_fsync_s >= self._fsync_interval_s:
                    self._last_fsync_s = now
                    os.fsync(self._fd)  # outside the lock: writers need not wait for the disk
            except RecordingError:
                return  # remembered; the next write or close raises it
            except OSError as exc:
                with contextlib.suppress(RecordingError):
                    self._fail(exc)
                return


def _dumps(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
