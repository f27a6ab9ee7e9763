"""Values the history hands out, and the week-by-week aggregation behind them."""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol

from hipsense.signal.slr import MDC_DEG

SLR_MDC_DEG = MDC_DEG  # a change between SLR tests counts as real from here on


class RepRecord(Protocol):
    """What the history keeps of a rep (a counted ``hipsense.signal.quality.Rep`` is one)."""

    @property
    def index(self) -> int: ...
    @property
    def start_s(self) -> float: ...
    @property
    def end_s(self) -> float: ...
    @property
    def peak_deg(self) -> float: ...
    @property
    def rom_deg(self) -> float: ...
    @property
    def flags(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class SlrTest:
    id: int
    leg: str
    tested_utc: datetime
    best_peak_deg: float
    trials_deg: tuple[float, ...]


@dataclass(frozen=True)
class SlrComparison:
    """A new SLR result against the last one; ``real_change`` when |Δ| ≥ ``mdc_deg``."""

    leg: str
    peak_deg: float
    previous: SlrTest | None
    change_deg: float | None
    real_change: bool
    mdc_deg: float = SLR_MDC_DEG


@dataclass(frozen=True)
class SavedSession:
    """A session in the history: ``source`` is ``live`` or ``analyze``."""

    id: int
    started_utc: datetime
    source: str
    recording: str | None


@dataclass(frozen=True)
class WeekRow:
    """One ISO week of an exercise: ``metric`` is ``peak_deg`` for SLR tests, else ``rom_deg``."""

    iso_year: int
    iso_week: int
    week_start: date
    metric: str
    best_deg: float
    mean_deg: float
    count: int  # sets, or SLR tests
    reps: int  # reps, or SLR trials


def default_history_path(env: Mapping[str, str] = os.environ) -> Path:
    """``$HIPSENSE_HISTORY``, else the platform's user data folder + hipsense/history.sqlite3."""
    if env.get("HIPSENSE_HISTORY"):
        return Path(env["HIPSENSE_HISTORY"]).expanduser()
    home = Path(env.get("HOME") or Path.home())
    if sys.platform == "win32":
        base = Path(env.get("LOCALAPPDATA") or home / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        xdg = env.get("XDG_DATA_HOME", "")
        base = Path(xdg) if os.path.isabs(xdg) else home / ".local" / "share"
    return base / "hipsense" / "history.sqlite3"


def weeks_from_rows(rows: list[tuple[Any, ...]], metric: str) -> list[WeekRow]:
    groups: dict[tuple[int, int], list[tuple[Any, ...]]] = {}
    for row in rows:
        iso = parse_utc(row[0]).astimezone().isocalendar()
        groups.setdefault((iso.year, iso.week), []).append(row)
    result = []
    for (year, week), members in groups.items():
        counts = [len(json.loads(m[3])) if metric == "peak_deg" else int(m[3]) for m in members]
        best = [m[1] for m in members if m[1] is not None]
        # sets weigh by their reps; SLR tests count once each
        weights = counts if metric == "rom_deg" else [1] * len(members)
        means = [(m[2], n) for m, n in zip(members, weights, strict=True) if m[2] is not None]
        weight = sum(n for _, n in means) or 1
        result.append(
            WeekRow(
                iso_year=year,
                iso_week=week,
                week_start=date.fromisocalendar(year, week, 1),
                metric=metric,
                best_deg=max(best, default=math.nan),
                mean_deg=sum(v * n for v, n in means) / weight if means else math.nan,
                count=len(members),
                reps=sum(counts),
            )
        )
    return result


def to_utc_text(moment: datetime | None) -> str:
    moment = datetime.now(UTC) if moment is None else moment
    if moment.tzinfo is None:
        raise ValueError("give aware datetimes (e.g. datetime.now(UTC)), not naive ones")
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def mean_or_none(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None
