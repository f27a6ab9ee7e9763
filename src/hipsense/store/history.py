"""The history: a local SQLite file of sessions, sets, reps and straight-leg-raise tests.

Owner-only (folder 0700, file 0600), WAL mode, schema versioned with PRAGMA user_version
and migrated forward on open. Every database failure becomes a StoreError saying what to do.
"""

from __future__ import annotations

import errno
import json
import math
import os
import sqlite3
import stat
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from hipsense.errors import StoreError
from hipsense.fileperms import PRIVATE_FILE_MODE, create_private_file, ensure_private_dir
from hipsense.signal.slr import change_is_real
from hipsense.store.model import (
    RepRecord,
    SavedSession,
    SlrComparison,
    SlrTest,
    WeekRow,
    default_history_path,
    mean_or_none,
    parse_utc,
    to_utc_text,
    weeks_from_rows,
)
from hipsense.store.schema import MIGRATIONS, SCHEMA_VERSION

IS_A_FOLDER = "is a folder: give the history database's file name (e.g. history.sqlite3)"


def unusable_history(path: str | os.PathLike[str] | None = None) -> str | None:
    """Why results could not be saved to the history at ``path`` (None: they can), found
    without creating anything, so a command can say so before a long analysis."""
    target = Path(path) if path is not None else default_history_path()
    if target.is_dir():
        return f"{target}: {IS_A_FOLDER}"
    if target.exists():
        try:
            HistoryStore(target).close()  # not a database, damaged, newer, locked...
        except StoreError as exc:
            return str(exc)
        return None
    folder = target.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        return f"{target}: cannot create the history: {folder} is not a folder"
    if not os.access(folder, os.W_OK | os.X_OK):
        why = access_problem(folder / target.name) or f"folder {folder} is not writable"
        return f"{target}: cannot create the history: {why}"
    return None


class HistoryStore:
    """``with HistoryStore() as store: store.add_slr_test("right", [71.0, 74.5])``."""

    def __init__(self, path: str | os.PathLike[str] | None = None, *, busy_timeout_s: float = 5.0):
        self.path = Path(path) if path is not None else default_history_path()
        if self.path.is_dir():  # sqlite's own words ("unable to open database file") say less
            raise StoreError(f"{self.path}: {IS_A_FOLDER}")
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
            return _rowid(db.execute(sql, (to_utc_text(started_utc), source, recording, notes)))

    def sessions_of_recording(self, recording: str) -> list[SavedSession]:
        """The sessions saved from ``recording`` (as stored: give the same absolute path)."""
        sql = (
            "SELECT id, started_utc, source, recording FROM sessions WHERE recording = ?"
            " ORDER BY started_utc, id"
        )
        with self._errors("read the sessions"):
            rows = self._db.execute(sql, (recording,)).fetchall()
        return [SavedSession(r[0], parse_utc(r[1]), r[2], r[3]) for r in rows]

    def remove_sessions(self, session_ids: Sequence[int]) -> None:
        """Sessions with their sets, reps and SLR tests (which would otherwise outlive them
        and still count in the weekly progress)."""
        marks = ", ".join("?" * len(session_ids))
        with self._tx("remove the earlier results") as db:
            db.execute(f"DELETE FROM slr_tests WHERE session_id IN ({marks})", session_ids)
            db.execute(f"DELETE FROM sessions WHERE id IN ({marks})", session_ids)

    @contextmanager
    def transaction(self, action: str) -> Iterator[None]:
        """Several changes kept or dropped together (``action`` names them in errors)."""
        with self._tx(action):
            yield

    def add_set(
        self,
        session_id: int,
        exercise: str,
        leg: str,
        reps: Sequence[RepRecord],
        *,
        started_utc: datetime | None = None,
        target_reps: int | None = None,
        summary: Mapping[str, Any] | None = None,
    ) -> int:
        """A set and its reps; best/mean ROM and best peak are kept for weekly progress."""
        roms = [r.rom_deg for r in reps if math.isfinite(r.rom_deg)]
        peaks = [r.peak_deg for r in reps if math.isfinite(r.peak_deg)]
        row = (session_id, exercise, leg, to_utc_text(started_utc), len(reps), target_reps)
        stats = (max(roms, default=None), mean_or_none(roms), max(peaks, default=None))
        text = json.dumps(_json_safe(dict(summary or {})), allow_nan=False, default=str)
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
            args = (session_id, leg, to_utc_text(tested_utc), max(trials), json.dumps(trials))
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
        return SlrTest(row[0], row[1], parse_utc(row[2]), row[3], trials)

    def compare_slr(self, leg: str, peak_deg: float) -> SlrComparison:
        """``peak_deg`` against the last stored test of ``leg`` (call before adding it)."""
        previous = self.last_slr(leg)
        if previous is None:
            return SlrComparison(leg, peak_deg, None, None, False)
        change = peak_deg - previous.best_peak_deg
        real = change_is_real(previous.best_peak_deg, peak_deg)
        return SlrComparison(leg, peak_deg, previous, change, real)

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
        return weeks_from_rows(rows, metric)

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
                for statement in MIGRATIONS[number].split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {number + 1}")
        for suffix in ("-wal", "-shm"):  # SQLite copies the db's mode; make sure
            side = Path(f"{self.path}{suffix}")
            if side.exists():
                side.chmod(PRIVATE_FILE_MODE)

    @contextmanager
    def _tx(self, action: str) -> Iterator[sqlite3.Connection]:
        if self._db.in_transaction:  # inside transaction(): its outer BEGIN/COMMIT decide
            yield self._db
            return
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
            denied = exc.errno in (errno.EACCES, errno.EPERM)
            why = (denied and access_problem(self.path)) or exc.strerror or str(exc)
            raise StoreError(f"{self.path}: cannot {action}: {why}") from exc


def _json_safe(value: Any) -> Any:
    """NaN/inf (e.g. a spread over one rep) become null, so the summary stays valid JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


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
    if "unable to open" in text or "readonly" in text:
        text = access_problem(path) or text
    return f"{path}: cannot {action}: {text}"


def access_problem(path: Path) -> str | None:
    """Why this user cannot use the history file at ``path`` and its folder (SQLite keeps its
    journal beside the file, so the folder must be writable too), read from owners and mode
    bits rather than ``os.access``, which answers yes to root for everything. The usual cause
    is a folder made once by ``sudo hipsense ...`` (for Bluetooth), which then belongs to root.
    """
    uid = os.geteuid() if hasattr(os, "geteuid") else None
    folder_needs, file_needs = stat.S_IWUSR | stat.S_IXUSR, stat.S_IRUSR | stat.S_IWUSR
    for target, needs in ((path.parent, folder_needs), (path, file_needs)):
        try:
            info = target.stat()
        except OSError:
            continue
        if uid is not None and info.st_uid != uid:
            return (
                f"{target} belongs to {_user_name(info.st_uid)}, not to you (was hipsense run"
                f" with sudo?): take it back with `sudo chown -R $USER '{target}'`, or pass --db"
            )
        if info.st_mode & needs != needs:
            kind = "folder" if target == path.parent else "file"
            mode = stat.filemode(info.st_mode)
            return f"the {kind} {target} is not writable ({mode}): `chmod u+rwX '{target}'`"
    return None


def _user_name(uid: int) -> str:
    try:
        import pwd  # POSIX only, as the ownership check is

        return f"user {pwd.getpwuid(uid).pw_name}"
    except (ImportError, KeyError):
        return f"user id {uid}"


def _rowid(cursor: sqlite3.Cursor) -> int:
    assert cursor.lastrowid is not None
    return cursor.lastrowid
