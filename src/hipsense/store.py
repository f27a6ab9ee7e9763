"""The history: a local SQLite file of sessions, sets, reps and straight-leg-raise tests.

Owner-only (folder 0700, file 0600), WAL mode, schema versioned with PRAGMA user_version
and migrated forward on open. Every database failure becomes a StoreError saying what to do.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self

from hipsense.errors import StoreError
from hipsense.fileperms import PRIVATE_FILE_MODE, create_private_file, ensure_private_dir

SLR_MDC_DEG = 3.3  # phone-inclinometer same-rater MDC95 (docs: EXERCISES.md)
_MIGRATIONS = (
    """
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY, started_utc TEXT NOT NULL, source TEXT NOT NULL,
        recording TEXT, notes TEXT NOT NULL DEFAULT '');
    CREATE TABLE sets (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        exercise TEXT NOT NULL, leg TEXT NOT NULL, started_utc TEXT NOT NULL,
        rep_count INTEGER NOT NULL, target_reps INTEGER,
        best_rom_deg REAL, mean_rom_deg REAL, best_peak_deg REAL,
        summary_json TEXT NOT NULL DEFAULT '{}');
    CREATE INDEX sets_by_exercise ON sets(exercise, leg, started_utc);
    CREATE TABLE reps (
        id INTEGER PRIMARY KEY, set_id INTEGER NOT NULL REFERENCES sets(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL, start_s REAL, end_s REAL, peak_deg REAL, rom_deg REAL,
        flags TEXT NOT NULL DEFAULT '');
    CREATE TABLE slr_tests (
        id INTEGER PRIMARY KEY,
        session_id INTEGER REFERENCES sessions(id) ON DELETE SET NULL,
        leg TEXT NOT NULL, tested_utc TEXT NOT NULL, best_peak_deg REAL NOT NULL,
        trials_json TEXT NOT NULL);
    CREATE INDEX slr_by_leg ON slr_tests(leg, tested_utc);
    """,
)
SCHEMA_VERSION = len(_MIGRATIONS)


class RepRow(Protocol):
    """The rep fields the history keeps (``hipsense.signal.quality.Rep`` has them)."""

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
    def flags(self) -> Iterable[str]: ...


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


class HistoryStore:
    """``with HistoryStore() as store: store.add_slr_test("right", [71.0, 74.5])``."""

    def __init__(self, path: str | os.PathLike[str] | None = None, *, busy_timeout_s: float = 5.0):
        self.path = Path(path) if path is not None else default_history_path()
        with self._errors("open"):
            ensure_private_dir(self.path.parent)
            if not self.path.exists():
                os.close(create_private_file(self.path))
            self._db = sqlite3.connect(self.path, timeout=busy_timeout_s, isolation_level=None)
        try:
            with self._errors("open"):
                self._db.execute("PRAGMA foreign_keys = ON")
                self._db.execute("PRAGMA journal_mode = WAL")
                self._migrate()
        except StoreError:
            self._db.close()
            raise

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def add_session(
        self,
        started_utc: datetime | None = None,
        *,
        source: str = "live",
        recording: str | None = None,
        notes: str = "",
    ) -> int:
        sql = "INSERT INTO sessions (started_utc, source, recording, notes) VALUES (?, ?, ?, ?)"
        with self._tx("save the session") as db:
            return _rowid(db.execute(sql, (_iso(started_utc), source, recording, notes)))

    def add_set(
        self,
        session_id: int,
        exercise: str,
        leg: str,
        reps: Sequence[RepRow],
        *,
        started_utc: datetime | None = None,
        target_reps: int | None = None,
        summary: Mapping[str, Any] | None = None,
    ) -> int:
        """A set and its reps; best/mean ROM and best peak are kept for weekly progress."""
        roms = [r.rom_deg for r in reps if math.isfinite(r.rom_deg)]
        peaks = [r.peak_deg for r in reps if math.isfinite(r.peak_deg)]
        row = (session_id, exercise, leg, _iso(started_utc), len(reps), target_reps)
        stats = (max(roms, default=None), _mean(roms), max(peaks, default=None))
        text = json.dumps(dict(summary or {}), allow_nan=False, default=str)
        sql = (
            "INSERT INTO sets (session_id, exercise, leg, started_utc, rep_count, target_reps,"
            " best_rom_deg, mean_rom_deg, best_peak_deg, summary_json)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        rep_rows = [
            (r.index, r.start_s, r.end_s, r.peak_deg, r.rom_deg, ";".join(r.flags)) for r in reps
        ]
        with self._tx("save the set") as db:
            set_id = _rowid(db.execute(sql, (*row, *stats, text)))
            db.executemany(
                "INSERT INTO reps (set_id, idx, start_s, end_s, peak_deg, rom_deg, flags)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(set_id, *r) for r in rep_rows],
            )
        return set_id

    def add_slr_test(
        self,
        leg: str,
        trials_peak_deg: Sequence[float],
        *,
        session_id: int | None = None,
        tested_utc: datetime | None = None,
    ) -> int:
        """An SLR test: the peak of each trial; the best one is the result."""
        trials = [float(t) for t in trials_peak_deg if math.isfinite(t)]
        if not trials:
            raise ValueError("an SLR test needs at least one trial with a finite peak")
        sql = (
            "INSERT INTO slr_tests (session_id, leg, tested_utc, best_peak_deg, trials_json)"
            " VALUES (?, ?, ?, ?, ?)"
        )
        with self._tx("save the SLR test") as db:
            args = (session_id, leg, _iso(tested_utc), max(trials), json.dumps(trials))
            return _rowid(db.execute(sql, args))

    def last_slr(self, leg: str) -> SlrTest | None:
        sql = (
            "SELECT id, leg, tested_utc, best_peak_deg, trials_json FROM slr_tests"
            " WHERE leg = ? ORDER BY tested_utc DESC, id DESC LIMIT 1"
        )
        with self._errors("read the SLR tests"):
            row = self._db.execute(sql, (leg,)).fetchone()
        if row is None:
            return None
        trials = tuple(float(t) for t in json.loads(row[4]))
        return SlrTest(row[0], row[1], _parse_utc(row[2]), row[3], trials)

    def compare_slr(self, leg: str, peak_deg: float) -> SlrComparison:
        """``peak_deg`` against the last stored test of ``leg`` (call before adding it)."""
        previous = self.last_slr(leg)
        if previous is None:
            return SlrComparison(leg, peak_deg, None, None, False)
        change = peak_deg - previous.best_peak_deg
        return SlrComparison(leg, peak_deg, previous, change, abs(change) >= SLR_MDC_DEG)

    def weekly_progress(self, exercise: str, leg: str | None = None) -> list[WeekRow]:
        """ISO weeks (local time) oldest first. ``slr`` uses the SLR tests' best peaks;
        other exercises the sets' ROM. ``leg=None`` takes both legs."""
        if exercise == "slr":
            sql = "SELECT tested_utc, best_peak_deg, best_peak_deg, trials_json FROM slr_tests"
            when, metric = "tested_utc", "peak_deg"
        else:
            sql = "SELECT started_utc, best_rom_deg, mean_rom_deg, rep_count FROM sets"
            when, metric = "started_utc", "rom_deg"
        where = " WHERE exercise = ?" if exercise != "slr" else " WHERE 1"
        args: list[str] = [] if exercise == "slr" else [exercise]
        if leg is not None:
            where += " AND leg = ?"
            args.append(leg)
        with self._errors("read the history"):
            rows = self._db.execute(f"{sql}{where} ORDER BY {when}", args).fetchall()
        return _weeks(rows, metric)

    # --- internals -------------------------------------------------------------------------

    def _migrate(self) -> None:
        version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: history schema {version} is newer than this hipsense"
                f" understands ({SCHEMA_VERSION}): update hipsense"
            )
        for number in range(version, SCHEMA_VERSION):
            with self._tx("upgrade the history") as db:
                for statement in _MIGRATIONS[number].split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {number + 1}")
        for suffix in ("-wal", "-shm"):  # SQLite copies the db's mode; make sure
            side = Path(f"{self.path}{suffix}")
            if side.exists():
                side.chmod(PRIVATE_FILE_MODE)

    @contextmanager
    def _tx(self, action: str) -> Iterator[sqlite3.Connection]:
        with self._errors(action):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise StoreError(_advice(self.path, action, exc)) from exc
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot {action}: {exc.strerror or exc}") from exc


def _advice(path: Path, action: str, exc: sqlite3.Error) -> str:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return (
            f"{path}: cannot {action}: the history database is locked by another program"
            " (another hipsense?): close it and try again"
        )
    if isinstance(exc, sqlite3.DatabaseError) and ("not a database" in text or "malformed" in text):
        return (
            f"{path}: cannot {action}: the history database is damaged ({text}): move the file"
            " aside (hipsense then starts a new history) or restore it from a backup"
        )
    return f"{path}: cannot {action}: {text}"


def _weeks(rows: list[tuple[Any, ...]], metric: str) -> list[WeekRow]:
    groups: dict[tuple[int, int], list[tuple[Any, ...]]] = {}
    for row in rows:
        iso = _parse_utc(row[0]).astimezone().isocalendar()
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


def _iso(moment: datetime | None) -> str:
    moment = datetime.now(UTC) if moment is None else moment
    if moment.tzinfo is None:
        raise ValueError("give aware datetimes (e.g. datetime.now(UTC)), not naive ones")
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _parse_utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _rowid(cursor: sqlite3.Cursor) -> int:
    assert cursor.lastrowid is not None
    return cursor.lastrowid
