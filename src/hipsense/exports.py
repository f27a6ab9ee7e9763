"""CSV exports of an analysis: angles and orientation per sample, one row per rep.

Files are created owner-only (0600; an existing file is replaced and tightened too).
Per-sample files can be written incrementally (``CsvWriter``: rows appended chunk by chunk
as an analysis streams) with the same text ``np.savetxt`` gives; samples without a valid
estimate are written as ``nan``.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import IO, Self

import numpy as np
import numpy.typing as npt

from hipsense.errors import HipsenseError
from hipsense.fileperms import create_private_file
from hipsense.signal.quality import Rep

ANGLES_HEADER = "time_s,flexion_deg,abduction_deg"
ORIENTATION_HEADER = "time_s,qw,qx,qy,qz"
ANGLES_FMT = ("%.6f", "%.3f", "%.3f")
ORIENTATION_FMT = ("%.6f", "%.8f", "%.8f", "%.8f", "%.8f")
CHUNK_ROWS = 8192  # rows formatted per string: bounded memory, few write calls
REP_COLUMNS = (
    "index",
    "start_s",
    "end_s",
    "detected_s",
    "duration_s",
    "peak_deg",
    "low_deg",
    "rom_deg",
    "hold_s",
    "descent_s",
    "off_plane_deg",
    "sparc",
    "flags",
    # SLR test with a sensor on the other thigh (empty when not watched): the trial's value
    # (the peak, or this leg's angle where the down leg moved), that move, its largest tilt
    "measured_deg",
    "down_leg_moved_s",
    "down_leg_tilt_deg",
)
_NUMBER_COLUMNS = REP_COLUMNS[1 : REP_COLUMNS.index("flags")]
_DOWN_LEG_COLUMNS = REP_COLUMNS[REP_COLUMNS.index("flags") + 1 :]


class ExportError(HipsenseError, OSError):
    """An export file could not be written; the message names the file and the reason."""


class CsvWriter:
    """A per-sample CSV written as the data comes: ``write(*columns)`` appends rows.

    Use as a context manager (or ``close()``); the file is owner-only from the start."""

    def __init__(self, path: str | os.PathLike[str], header: str, fmt: Sequence[str]) -> None:
        self.path, self._width, self.rows = os.fspath(path), len(fmt), 0
        self._row = ",".join(fmt) + "\n"
        try:
            fd = create_private_file(self.path, overwrite=True)
            self._file: IO[str] = open(fd, "w", encoding="utf-8", newline="\n")  # noqa: SIM115
        except OSError as exc:
            raise ExportError(f"{self.path}: cannot write: {exc.strerror or exc}") from exc
        self._put(header + "\n")

    def write(self, *columns: npt.ArrayLike) -> None:
        if len(columns) != self._width:
            raise ValueError(f"{self.path}: {len(columns)} columns, not {self._width}")
        table = _columns(self.path, *columns)
        for i in range(0, len(table), CHUNK_ROWS):
            chunk = table[i : i + CHUNK_ROWS]
            # one %-format per chunk: the text savetxt writes row by row, much faster
            self._put((self._row * len(chunk)) % tuple(chunk.ravel().tolist()))
        self.rows += len(table)

    def close(self) -> None:
        try:
            self._file.close()
        except OSError as exc:
            raise ExportError(f"{self.path}: cannot write: {exc.strerror or exc}") from exc

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _put(self, text: str) -> None:
        try:
            self._file.write(text)
        except OSError as exc:
            raise ExportError(f"{self.path}: cannot write: {exc.strerror or exc}") from exc


def angles_writer(path: str | os.PathLike[str]) -> CsvWriter:
    """``time_s,flexion_deg,abduction_deg``; ``write(t_s, flexion_deg, abduction_deg)``."""
    return CsvWriter(path, ANGLES_HEADER, ANGLES_FMT)


def orientation_writer(path: str | os.PathLike[str]) -> CsvWriter:
    """``time_s,qw,qx,qy,qz``; ``write(t_s, qw, qx, qy, qz)`` (see ``write_quat``)."""
    return CsvWriter(path, ORIENTATION_HEADER, ORIENTATION_FMT)


def quat_columns(quat_wxyz: npt.ArrayLike) -> tuple[npt.NDArray[np.float64], ...]:
    quat = np.asarray(quat_wxyz, dtype=np.float64)
    if quat.ndim != 2 or quat.shape[1] != 4:
        raise ValueError(f"quat_wxyz must have shape (N, 4), not {quat.shape}")
    return tuple(quat.T)


def write_angles_csv(
    path: str | os.PathLike[str],
    t_s: npt.ArrayLike,
    flexion_deg: npt.ArrayLike,
    abduction_deg: npt.ArrayLike,
) -> None:
    """``time_s,flexion_deg,abduction_deg``, one row per sample."""
    _columns(path, t_s, flexion_deg, abduction_deg)  # check before creating the file
    with angles_writer(path) as writer:
        writer.write(t_s, flexion_deg, abduction_deg)


def write_orientation_csv(
    path: str | os.PathLike[str], t_s: npt.ArrayLike, quat_wxyz: npt.ArrayLike
) -> None:
    """``time_s,qw,qx,qy,qz`` (sensor-to-world unit quaternions), one row per sample."""
    columns = quat_columns(quat_wxyz)
    _columns(path, t_s, *columns)
    with orientation_writer(path) as writer:
        writer.write(t_s, *columns)


def write_reps_csv(path: str | os.PathLike[str], reps: Sequence[Rep]) -> None:
    """One row per rep (``REP_COLUMNS``); flags joined by ``;``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(REP_COLUMNS)
    for rep in reps:
        values = [getattr(rep, name) for name in _NUMBER_COLUMNS]
        watched = rep.down_leg_tilt_deg is not None
        down = [getattr(rep, name) if watched else None for name in _DOWN_LEG_COLUMNS]
        row = [rep.index, *map(_number, values), ";".join(rep.flags)]
        writer.writerow(row + [_optional(v) for v in down])
    _write(path, lambda file: file.write(buffer.getvalue()))


def _number(value: float) -> str:
    return "nan" if not math.isfinite(value) else f"{value:.3f}"


def _optional(value: float | None) -> str:
    return "" if value is None else _number(value)


def _columns(path: str | os.PathLike[str], *columns: npt.ArrayLike) -> npt.NDArray[np.float64]:
    arrays = [np.asarray(c, dtype=np.float64).reshape(-1) for c in columns]
    lengths = {a.shape[0] for a in arrays}
    if len(lengths) != 1:
        raise ValueError(f"{os.fspath(path)}: columns differ in length: {sorted(lengths)}")
    return np.column_stack(arrays)


def _write(path: str | os.PathLike[str], fill: Callable[[IO[str]], object]) -> None:
    name = os.fspath(path)
    try:
        fd = create_private_file(name, overwrite=True)
        with open(fd, "w", encoding="utf-8", newline="\n") as file:
            fill(file)
    except OSError as exc:
        raise ExportError(f"{name}: cannot write: {exc.strerror or exc}") from exc


__all__ = [
    "ANGLES_HEADER",
    "ORIENTATION_HEADER",
    "REP_COLUMNS",
    "CsvWriter",
    "ExportError",
    "angles_writer",
    "orientation_writer",
    "quat_columns",
    "write_angles_csv",
    "write_orientation_csv",
    "write_reps_csv",
]
