"""Generic IMU CSV import: named columns with units, uneven sampling made uniform.

Columns (header row, any order, case-insensitive, other columns ignored): ``time_s``;
``acc_{x,y,z}_mps2`` or ``acc_{x,y,z}_g``; ``gyr_{x,y,z}_radps`` or ``gyr_{x,y,z}_dps``;
optionally ``mag_{x,y,z}_ut``. UTF-8 with or without BOM, LF or CRLF, blank lines and
spaces around cells tolerated.

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

GAP_FACTOR = 1.5
MIN_RATE_HZ = 1.0
MAX_RATE_HZ = 10_000.0
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


@dataclass(frozen=True, eq=False)
class ImuSeries:
    """Samples as read from a file, in SI units, with the sampling they came at.

    ``error`` is set only by ``read_imu_csv(..., salvage=True)``: the rows before it.
    """

    path: str
    t_s: FloatArray
    acc_mps2: FloatArray
    gyr_radps: FloatArray
    mag_ut: FloatArray | None
    rate_hz: float
    gaps: tuple[Gap, ...] = ()
    error: CsvFormatError | None = None

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
    # data holds only rows before a parse error, so a time error there comes first
    error = _check_time(name, data[:, 0], line_of) or error
    if error is None and len(data) < 2:
        raise CsvFormatError(name, "only one data row: need at least two samples", int(line_of[0]))
    if error is not None:
        good = 0 if error.line is None else int(np.searchsorted(line_of, error.line))
        if not salvage or good < 2:
            raise error
        data = data[:good]
    return _series(name, data, layout, error)


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
        hint = " (found 'time': add the unit, time_s)" if "time" in index else ""
        raise CsvFormatError(name, f"missing time column: need time_s{hint}", line)
    groups: dict[str, tuple[tuple[int, int, int], float]] = {}
    for label, prefix, units in _GROUPS:
        found = _find_group(index, prefix, units)
        if found is not None:
            groups[prefix] = found
        elif prefix != "mag" or any(c.startswith("mag_") for c in index):
            raise CsvFormatError(name, _missing(label, prefix, units, index), line)
    return _Layout(index["time_s"], groups)


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
    """All rows as floats (columns in ``_columns`` order), or those before the first bad one."""
    cols = _columns(layout)
    error = None
    try:
        data = _loadtxt(rows, cols)
    except ValueError:
        bad, problem = _first_bad_row(rows, cols)
        data, error = _loadtxt(rows[:bad], cols), CsvFormatError(name, problem, int(line_of[bad]))
    finite = np.isfinite(data).all(axis=1)  # the rows before a bad one too: 1e400 is inf
    if finite.all():
        return data, error
    bad = int(np.argmin(finite))
    return data[:bad], CsvFormatError(name, "value is not a finite number", int(line_of[bad]))


def _loadtxt(rows: list[str], cols: list[int]) -> FloatArray:
    if not rows:
        return np.empty((0, len(cols)))
    return np.loadtxt(rows, delimiter=",", usecols=cols, ndmin=2, quotechar='"', dtype=np.float64)


def _first_bad_row(rows: list[str], cols: list[int]) -> tuple[int, str]:
    """Only on the error path: find which row numpy refused and say why."""
    for number, cells in enumerate(csv.reader(rows)):
        if len(cells) <= max(cols):
            return number, f"row has {len(cells)} cells, the header needs {max(cols) + 1}"
        for col in cols:
            try:
                float(cells[col])
            except ValueError:
                return number, f"cell {col + 1} is {cells[col].strip()!r}, not a number"
    return len(rows) - 1, "row cannot be read as numbers"


def _check_time(
    name: str, t_s: FloatArray, line_of: npt.NDArray[np.int64]
) -> CsvFormatError | None:
    backwards = np.flatnonzero(np.diff(t_s) <= 0)
    if backwards.size == 0:
        return None
    k = int(backwards[0]) + 1
    problem = f"time_s is not increasing ({t_s[k]:g} after {t_s[k - 1]:g})"
    return CsvFormatError(name, problem, int(line_of[k]))


def _series(
    name: str, data: FloatArray, layout: _Layout, error: CsvFormatError | None
) -> ImuSeries:
    blocks: dict[str, FloatArray] = {}
    start = 1
    for prefix, (_, factor) in layout.groups.items():
        blocks[prefix] = data[:, start : start + 3] * factor
        start += 3
    t_s = data[:, 0].copy()
    try:
        rate_hz, gaps = _sampling(t_s)
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
    )


def _sampling(t_s: FloatArray) -> tuple[float, tuple[Gap, ...]]:
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
        Gap(float(t_s[i]), float(t_s[i + 1]), int(m)) for i, m in zip(at, missing, strict=True)
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
