"""Generic IMU CSV import: named columns with units, uneven sampling made uniform.

Columns (header row, any order, case-insensitive, other columns ignored): ``time_s``;
``acc_{x,y,z}_mps2`` or ``acc_{x,y,z}_g``; ``gyr_{x,y,z}_radps`` or ``gyr_{x,y,z}_dps``;
optionally ``mag_{x,y,z}_ut``. UTF-8 with or without BOM, LF or CRLF, blank lines and
spaces around cells tolerated.

Damage: a sample with an empty, non-finite or impossible value (a NaN, an overflow, a
logger's 3.4e38 sentinel: over ``MAX_ABS_READING`` in any unit read here) is a lost sample:
its row is skipped, leaving a gap like any lost sample, and one warning counts them. A row
repeating the previous row's time is dropped with a warning. A time step backwards, a
cell that is not a number or a short row ends the usable data there (an error; with
``salvage`` the rows before it are kept).

Sampling: the nominal rate is the median of 1/Δt. An interval longer than ``GAP_FACTOR``
nominal periods is a gap: it is reported and never interpolated across. Shorter jitter
is linearly interpolated onto a uniform grid at the nominal rate; the grid points inside
gaps are dropped, and the batch after a gap says how many via ``lost_before``.
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hipsense.errors import CsvFormatError
from hipsense.samples import STANDARD_GRAVITY_MPS2, SampleBatch
from hipsense.words import counted

GAP_FACTOR = 1.5
MIN_RATE_HZ = 1.0
MAX_RATE_HZ = 10_000.0
MAX_ABS_READING = 1e6
"""No accelerometer, gyroscope or magnetometer reading comes near this in g, m/s², °/s,
rad/s or µT; a larger one is a logger's overflow or a corrupt cell (and squared, it
overflowed the checks downstream)."""
FloatArray = npt.NDArray[np.float64]

# (label, prefix, {unit suffix: factor to SI}) in order of preference.
_GROUPS = (
    ("accelerometer", "acc", {"mps2": 1.0, "g": STANDARD_GRAVITY_MPS2}),
    ("gyroscope", "gyr", {"radps": 1.0, "dps": math.pi / 180.0}),
    ("magnetometer", "mag", {"ut": 1.0}),
)


@dataclass(frozen=True)
class Gap:
    """An interval with samples missing: ``missing_samples`` at the nominal rate."""

    start_s: float
    end_s: float
    missing_samples: int
    skipped_rows: int = 0  # rows with bad values skipped inside it (counted in ``warnings``)


@dataclass(frozen=True, eq=False)
class ImuSeries:
    """Samples as read from a file, in SI units, with the sampling they came at.

    ``error`` is set only by ``read_imu_csv(..., salvage=True)``: the rows before it.
    ``warnings`` say which rows were skipped (bad samples, repeated times).
    """

    path: str
    t_s: FloatArray
    acc_mps2: FloatArray
    gyr_radps: FloatArray
    mag_ut: FloatArray | None
    rate_hz: float
    gaps: tuple[Gap, ...] = ()
    error: CsvFormatError | None = None
    warnings: tuple[str, ...] = ()

    def __len__(self) -> int:
        return int(self.t_s.shape[0])


@dataclass(frozen=True)
class _Layout:
    """Where the wanted columns are: indices into a row, and SI factors per group."""

    time: int
    groups: dict[str, tuple[tuple[int, int, int], float]]


def read_imu_csv(path: str | os.PathLike[str], *, salvage: bool = False) -> ImuSeries:
    """Read an IMU CSV. Errors name ``file:line: problem``; with ``salvage`` the rows before
    a bad row are returned with ``error`` set (at least two rows must precede it)."""
    name = os.fspath(path)
    lines = _read_lines(name)
    header_at = next((i for i, line in enumerate(lines) if line.strip()), None)
    if header_at is None:
        raise CsvFormatError(name, "empty file: no header row", 1)
    layout = _layout(name, lines[header_at], header_at + 1)
    body = lines[header_at + 1 :]
    keep = [i for i, line in enumerate(body) if line.strip()]
    rows = [body[i] for i in keep]
    line_of = np.asarray(keep, dtype=np.int64) + header_at + 2
    if not rows:
        raise CsvFormatError(name, "no data rows after the header", header_at + 2)
    data, error = _parse_rows(name, rows, line_of, layout)
    # data holds only the rows before a parse error, so a time error there comes first
    data, data_lines, warnings, skipped_before = _skip_bad_rows(data, line_of[: len(data)])
    good, time_error = _check_time(name, data[:, 0], data_lines)
    error = time_error or error
    if error is None and len(data) < 2:
        if len(rows) == 1:
            problem = "only one data row: need at least two samples"
        else:
            problem = (
                f"only {len(data)} of {len(rows)} data rows have usable values (the others"
                " are empty, not finite, impossible or repeat a time): need at least two samples"
            )
        raise CsvFormatError(name, problem, int(line_of[0]))
    if error is not None:
        if not salvage or good < 2:
            raise error
        data, skipped_before = data[:good], skipped_before[:good]
    return _series(name, data, layout, error, warnings=tuple(warnings), skipped=skipped_before)


def _read_lines(name: str) -> list[str]:
    try:
        with open(name, "rb") as file:
            raw = file.read()
    except OSError as exc:
        raise CsvFormatError(name, f"cannot read: {exc.strerror}") from exc
    try:
        return raw.decode("utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CsvFormatError(name, "not UTF-8 text", line) from exc


def _layout(name: str, header: str, line: int) -> _Layout:
    cells = [c.strip().lower() for c in next(csv.reader([header]))]
    index: dict[str, int] = {}
    for i, cell in enumerate(cells):
        index.setdefault(cell, i)  # the first of duplicated names wins
    if "time_s" not in index:
        raise CsvFormatError(name, f"missing time column: need time_s{_time_hint(index)}", line)
    groups: dict[str, tuple[tuple[int, int, int], float]] = {}
    for label, prefix, units in _GROUPS:
        found = _find_group(index, prefix, units)
        if found is not None:
            groups[prefix] = found
        elif prefix != "mag" or any(c.startswith("mag_") for c in index):
            raise CsvFormatError(name, _missing(label, prefix, units, index), line)
    return _Layout(index["time_s"], groups)


_OTHER_TIME_UNITS = {"ms": 1000, "us": 1_000_000, "ns": 1_000_000_000}


def _time_hint(index: dict[str, int]) -> str:
    """What to do with a time column in another unit or without one."""
    for cell in index:
        for base in ("time", "timestamp", "t"):
            unit = cell.removeprefix(f"{base}_")
            if unit != cell and unit in _OTHER_TIME_UNITS:
                return (
                    f" in seconds (found {cell!r}: divide it by {_OTHER_TIME_UNITS[unit]:,}"
                    " and rename it time_s)"
                )
    if "time" in index or "timestamp" in index:
        return (
            " (found 'time': add the unit, time_s)"
            if "time" in index
            else (" (found 'timestamp': give it in seconds, named time_s)")
        )
    return ""


def _find_group(
    index: dict[str, int], prefix: str, units: dict[str, float]
) -> tuple[tuple[int, int, int], float] | None:
    for unit, factor in units.items():
        names = [f"{prefix}_{axis}_{unit}" for axis in "xyz"]
        if all(n in index for n in names):
            return (index[names[0]], index[names[1]], index[names[2]]), factor
    return None


def _missing(label: str, prefix: str, units: dict[str, float], index: dict[str, int]) -> str:
    options = " or ".join(",".join(f"{prefix}_{a}_{u}" for a in "xyz") for u in units)
    present = [c for c in index if c.startswith(f"{prefix}_")]
    found = f" (found {','.join(present)}: unit missing or unknown)" if present else ""
    return f"missing {label} columns: need {options}{found}"


def _columns(layout: _Layout) -> list[int]:
    return [layout.time] + [i for cols, _ in layout.groups.values() for i in cols]


def _parse_rows(
    name: str, rows: list[str], line_of: npt.NDArray[np.int64], layout: _Layout
) -> tuple[FloatArray, CsvFormatError | None]:
    """All rows as floats (columns in ``_columns`` order, an empty cell NaN), or those
    before the first row that is not numbers."""
    cols = _columns(layout)
    try:
        return _loadtxt(rows, cols), None
    except ValueError:
        pass
    # only on the error path: read row by row to find the bad one and say why
    values: list[list[float]] = []
    for number, cells in enumerate(csv.reader(rows)):
        if len(cells) <= max(cols):
            problem = f"row has {len(cells)} cells, the header needs {max(cols) + 1}"
            return _table(values, cols), CsvFormatError(name, problem, int(line_of[number]))
        try:
            values.append([float(cells[c]) if cells[c].strip() else math.nan for c in cols])
        except ValueError:
            col = next(c for c in cols if not _is_number(cells[c]))
            problem = f"cell {col + 1} is {cells[col].strip()!r}, not a number"
            return _table(values, cols), CsvFormatError(name, problem, int(line_of[number]))
    return _table(values, cols), None


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return not cell.strip()
    return True


def _table(values: list[list[float]], cols: list[int]) -> FloatArray:
    return np.asarray(values, dtype=np.float64).reshape(len(values), len(cols))


def _loadtxt(rows: list[str], cols: list[int]) -> FloatArray:
    return np.loadtxt(rows, delimiter=",", usecols=cols, ndmin=2, quotechar='"', dtype=np.float64)


def _skip_bad_rows(
    data: FloatArray, lines: npt.NDArray[np.int64]
) -> tuple[FloatArray, npt.NDArray[np.int64], list[str], npt.NDArray[np.int64]]:
    """Rows with an empty, non-finite or impossible value (lost samples) and rows repeating
    the previous row's time, dropped with a warning each; with each row kept, how many bad
    rows were skipped just before it (they make the gap there). The time column may be
    large (epoch seconds); the readings may not (``MAX_ABS_READING``)."""
    warnings = []
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(data).all(axis=1) | (np.abs(data[:, 1:]) > MAX_ABS_READING).any(axis=1)
    if bad.any():
        count = int(bad.sum())
        warnings.append(
            f"{counted(count, 'row')} with an empty, non-finite or impossible value skipped as lost"
            f" sample{'s' if count > 1 else ''} (first at line {int(lines[np.argmax(bad)])})"
        )
    kept = np.flatnonzero(~bad)
    skipped_before = np.diff(np.cumsum(bad)[kept], prepend=0)
    data, lines = data[kept], lines[kept]
    repeated = np.flatnonzero(np.diff(data[:, 0]) == 0) + 1
    if repeated.size:
        warnings.append(
            f"{counted(int(repeated.size), 'row')} repeating the previous row's time_s dropped"
            f" (first at line {int(lines[repeated[0]])})"
        )
        kept = np.setdiff1d(np.arange(len(data)), repeated)
        data, lines, skipped_before = data[kept], lines[kept], skipped_before[kept]
    return data, lines, warnings, skipped_before


def _check_time(
    name: str, t_s: FloatArray, lines: npt.NDArray[np.int64]
) -> tuple[int, CsvFormatError | None]:
    """How many rows are in time order, and the error at the first step back."""
    backwards = np.flatnonzero(np.diff(t_s) < 0)
    if backwards.size == 0:
        return len(t_s), None
    k = int(backwards[0]) + 1
    problem = f"time_s goes back ({t_s[k]:g} after {t_s[k - 1]:g}): rows must be in time order"
    return k, CsvFormatError(name, problem, int(lines[k]))


def _series(
    name: str,
    data: FloatArray,
    layout: _Layout,
    error: CsvFormatError | None,
    *,
    warnings: tuple[str, ...],
    skipped: npt.NDArray[np.int64],
) -> ImuSeries:
    blocks: dict[str, FloatArray] = {}
    start = 1
    for prefix, (_, factor) in layout.groups.items():
        blocks[prefix] = data[:, start : start + 3] * factor
        start += 3
    t_s = data[:, 0].copy()
    try:
        rate_hz, gaps = _sampling(t_s, skipped)
    except ValueError as exc:
        raise CsvFormatError(
            name,
            f"sampling rate {exc} (median of 1/Δt) is not plausible for an IMU"
            f" ({MIN_RATE_HZ:g}-{MAX_RATE_HZ:g} Hz): is time_s in seconds?",
        ) from exc
    return ImuSeries(
        path=name,
        t_s=t_s,
        acc_mps2=blocks["acc"],
        gyr_radps=blocks["gyr"],
        mag_ut=blocks.get("mag"),
        rate_hz=rate_hz,
        gaps=gaps,
        error=error,
        warnings=warnings,
    )


def _sampling(
    t_s: FloatArray, skipped_before: npt.NDArray[np.int64]
) -> tuple[float, tuple[Gap, ...]]:
    dt = np.diff(t_s)
    period = float(np.median(dt))
    rate_hz = 1.0 / period
    if not MIN_RATE_HZ <= rate_hz <= MAX_RATE_HZ:
        raise ValueError(f"{rate_hz:g} Hz")
    if abs(rate_hz - round(rate_hz)) < 1e-6 * rate_hz:  # 0.04 s steps are 25 Hz, not 24.99...
        rate_hz = float(round(rate_hz))
    at = np.flatnonzero(dt > GAP_FACTOR * period)
    missing = np.rint(dt[at] / period).astype(np.int64) - 1
    gaps = tuple(
        Gap(float(t_s[i]), float(t_s[i + 1]), int(m), int(skipped_before[i + 1]))
        for i, m in zip(at, missing, strict=True)
    )
    return rate_hz, gaps


def to_uniform_batches(series: ImuSeries, sensor_id: str = "thigh") -> list[SampleBatch]:
    """Resample onto one grid at ``series.rate_hz`` anchored at the first sample; one batch
    per run of samples between gaps, the next batch's ``lost_before`` counting the grid
    points that fell inside the gap (never interpolated)."""
    t = series.t_s
    period = 1.0 / series.rate_hz
    gap_after = np.flatnonzero(np.diff(t) > GAP_FACTOR * period)
    starts = np.concatenate(([0], gap_after + 1))
    ends = np.concatenate((gap_after, [len(t) - 1]))
    batches: list[SampleBatch] = []
    previous = -1.0  # grid index of the last emitted sample
    for s, e in zip(starts, ends, strict=True):
        first = math.ceil((t[s] - t[0]) / period - 1e-6)
        count = int((t[e] - t[0]) / period + 1e-6) - first + 1
        if count <= 0:
            continue  # a lone sample between two gaps, off the grid
        grid = t[0] + (first + np.arange(count)) * period
        seg = slice(int(s), int(e) + 1)
        mag = series.mag_ut
        batches.append(
            SampleBatch(
                sensor_id=sensor_id,
                t_s=grid,
                acc_mps2=_interp(grid, t[seg], series.acc_mps2[seg]),
                gyr_radps=_interp(grid, t[seg], series.gyr_radps[seg]),
                mag_ut=None if mag is None else _interp(grid, t[seg], mag[seg]),
                lost_before=int(min(first - previous - 1, 2**62)),
                meta={"source": "csv", "path": series.path, "rate_hz": series.rate_hz},
            )
        )
        previous = first + count - 1
    return batches


def _interp(grid: FloatArray, t_s: FloatArray, values: FloatArray) -> FloatArray:
    return np.column_stack([np.interp(grid, t_s, values[:, axis]) for axis in range(3)])


def import_imu_csv(
    path: str | os.PathLike[str], *, sensor_id: str = "thigh", salvage: bool = False
) -> list[SampleBatch]:
    """``read_imu_csv`` then ``to_uniform_batches``: what ``hipsense analyze`` feeds the fusion."""
    return to_uniform_batches(read_imu_csv(path, salvage=salvage), sensor_id)
