"""History store: a real SQLite file, owner-only, versioned, with useful errors."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from history_fakes import WED, StoredRep

from hipsense.errors import StoreError
from hipsense.store import SCHEMA_VERSION, HistoryStore, default_history_path
from hipsense.store.history import access_problem


def _reps(*roms: float) -> list[StoredRep]:
    return [
        StoredRep(i + 1, i * 4.0, i * 4.0 + 3.0, rom + 5, rom, ("rushed",))
        for i, rom in enumerate(roms)
    ]


def test_file_and_folder_are_owner_only_wal_and_versioned(tmp_path: Path) -> None:
    path = tmp_path / "data" / "hipsense" / "history.sqlite3"
    with HistoryStore(path) as store:
        store.add_session(WED)
        for side in path.parent.glob("history.sqlite3-*"):  # WAL and shared-memory files
            assert stat.S_IMODE(side.stat().st_mode) == 0o600, side
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        db.close()
    assert {"sessions", "sets", "reps", "slr_tests"} <= tables


def test_sets_and_reps_feed_weekly_progress(tmp_path: Path) -> None:
    with HistoryStore(tmp_path / "h.sqlite3") as store:
        session = store.add_session(WED, source="replay", recording="a.jsonl")
        store.add_set(session, "swing-forward", "left", _reps(60, 70), started_utc=WED)
        store.add_set(
            session, "swing-forward", "left", _reps(80), started_utc=WED + timedelta(hours=1)
        )
        store.add_set(
            session,
            "swing-forward",
            "right",
            _reps(10),
            started_utc=WED,
            summary={"rom_cv_pct": float("nan"), "flag_counts": (("rushed", 1),)},
        )
        store.add_set(
            session, "swing-forward", "left", _reps(90, 50), started_utc=WED + timedelta(days=7)
        )
        weeks = store.weekly_progress("swing-forward", "left")
        both = store.weekly_progress("swing-forward")
        db = sqlite3.connect(store.path)
        reps = db.execute("SELECT COUNT(*), MIN(flags) FROM reps").fetchone()
        summary = db.execute("SELECT summary_json FROM sets WHERE leg = 'right'").fetchone()[0]
        db.close()
    assert [(w.iso_week, w.count, w.reps) for w in weeks] == [(45, 2, 3), (46, 1, 2)]
    assert weeks[0].best_deg == 80 and weeks[0].mean_deg == pytest.approx(70.0)
    assert weeks[0].metric == "rom_deg" and str(weeks[0].week_start) == "2026-11-02"
    assert both[0].count == 3
    assert reps == (6, "rushed")
    assert json.loads(summary) == {"rom_cv_pct": None, "flag_counts": [["rushed", 1]]}


def test_slr_tests_last_compare_and_weekly(tmp_path: Path) -> None:
    with HistoryStore(tmp_path / "h.sqlite3") as store:
        assert store.last_slr("right") is None
        first = store.compare_slr("right", 70.0)
        assert first.previous is None and not first.real_change
        store.add_slr_test("right", [68.0, 71.5, 70.0], tested_utc=WED)
        store.add_slr_test("left", [80.0], tested_utc=WED)
        small = store.compare_slr("right", 73.0)
        big = store.compare_slr("right", 75.0)
        store.add_slr_test("right", [75.0], tested_utc=WED + timedelta(days=7))
        last = store.last_slr("right")
        weeks = store.weekly_progress("slr", "right")
    assert small.change_deg == pytest.approx(1.5) and not small.real_change
    assert big.change_deg == pytest.approx(3.5) and big.real_change and big.mdc_deg == 3.3
    assert (
        last is not None
        and last.best_peak_deg == 75.0
        and last.tested_utc == WED + timedelta(days=7)
    )
    assert [(w.best_deg, w.count, w.reps, w.metric) for w in weeks] == [
        (71.5, 1, 3, "peak_deg"),
        (75.0, 1, 1, "peak_deg"),
    ]


def test_reopening_keeps_data_and_naive_times_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    with HistoryStore(path) as store:
        store.add_slr_test("left", [66.0], tested_utc=WED)
        with pytest.raises(ValueError, match="aware"):
            store.add_session(datetime(2026, 1, 1))
    with HistoryStore(path) as store:
        last = store.last_slr("left")
    assert last is not None and last.trials_deg == (66.0,)


def test_corrupt_database_is_a_store_error_with_advice(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    path.write_bytes(b"this is not sqlite at all" * 200)
    with pytest.raises(StoreError, match=r"damaged.*move the file aside"):
        HistoryStore(path)


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StoreError, match=r"newer than this hipsense understands.*update hipsense"):
        HistoryStore(path)


def test_locked_database_is_a_store_error_with_advice(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    HistoryStore(path).close()
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")
        with (
            HistoryStore(path, busy_timeout_s=0.05) as store,
            pytest.raises(StoreError, match="locked by another program"),
        ):
            store.add_session(WED)
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_unopenable_path_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(StoreError, match="cannot open"):
        HistoryStore(blocker / "h.sqlite3")


def test_default_path_follows_xdg_and_override(tmp_path: Path) -> None:
    assert default_history_path({"HIPSENSE_HISTORY": str(tmp_path / "x.db")}) == tmp_path / "x.db"
    env = {"HOME": "/home/r", "XDG_DATA_HOME": "/data"}
    if sys.platform.startswith("linux"):
        assert default_history_path(env) == Path("/data/hipsense/history.sqlite3")
        assert default_history_path({"HOME": "/home/r"}) == Path(
            "/home/r/.local/share/hipsense/history.sqlite3"
        )


def test_removed_sessions_take_their_slr_tests_with_them(tmp_path: Path) -> None:
    """An SLR test outliving its session would still count in the weekly progress."""
    with HistoryStore(tmp_path / "h.sqlite3") as store:
        kept = store.add_session(WED, source="analyze", recording="/r/a.jsonl.gz")
        gone = store.add_session(WED, source="analyze", recording="/r/b.jsonl.gz")
        store.add_slr_test("right", [70.0], session_id=kept, tested_utc=WED)
        store.add_slr_test("right", [90.0], session_id=gone, tested_utc=WED)
        store.add_set(gone, "slr", "right", _reps(90), started_utc=WED)
        (found,) = store.sessions_of_recording("/r/b.jsonl.gz")
        assert (found.id, found.source) == (gone, "analyze")
        store.remove_sessions([found.id])
        assert store.sessions_of_recording("/r/b.jsonl.gz") == []
        (week,) = store.weekly_progress("slr", "right")
        assert (week.best_deg, week.count) == (70.0, 1)
    db = sqlite3.connect(tmp_path / "h.sqlite3")
    try:
        assert db.execute("SELECT COUNT(*) FROM reps").fetchone() == (0,)
    finally:
        db.close()


def test_a_transaction_keeps_all_of_its_changes_or_none(tmp_path: Path) -> None:
    """Replacing an earlier analysis: removing it and saving the new one happen together."""
    with HistoryStore(tmp_path / "h.sqlite3") as store:
        first = store.add_session(WED, recording="/r/a.jsonl.gz")
        with pytest.raises(RuntimeError), store.transaction("save the analysis"):
            store.remove_sessions([first])
            store.add_session(WED, recording="/r/a.jsonl.gz")
            raise RuntimeError("the analysis failed half way")
        assert [s.id for s in store.sessions_of_recording("/r/a.jsonl.gz")] == [first]


def test_every_folder_the_history_creates_is_owner_only_whatever_the_umask(
    tmp_path: Path,
) -> None:
    """Under umask 000 the folders above the history's own (~/.local/share when it is new)
    used to be created 0777: anyone could then swap the private folder for theirs."""
    path = tmp_path / "home" / "share" / "hipsense" / "history.sqlite3"
    previous = os.umask(0)
    try:
        HistoryStore(path).close()
    finally:
        os.umask(previous)
    for folder in (path.parent, path.parent.parent, path.parent.parent.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def _history_with_a_file(tmp_path: Path) -> Path:
    path = tmp_path / "hipsense" / "history.sqlite3"
    HistoryStore(path).close()
    return path


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="only root can give a folder away"
)
def test_a_history_folder_someone_else_owns_says_whose_and_how_to_take_it_back(
    tmp_path: Path,
) -> None:
    """After ``sudo hipsense ...`` the folder belongs to root and sqlite only says "unable to
    open database file"; the advice names the owner and the fix."""
    path = _history_with_a_file(tmp_path)
    assert access_problem(path) is None
    os.chown(path.parent, 65534, 65534)  # nobody
    problem = access_problem(path)
    assert problem is not None and str(path.parent) in problem
    owner = "user nobody" if "user nobody" in problem else "user id 65534"
    assert f"belongs to {owner}, not to you" in problem and "chown -R" in problem


def test_a_history_folder_or_file_without_write_permission_says_which(tmp_path: Path) -> None:
    path = _history_with_a_file(tmp_path)
    path.chmod(0o400)
    problem = access_problem(path)
    assert problem is not None and f"file {path} is not writable (-r--------)" in problem
    path.parent.chmod(0o500)  # the folder first: SQLite's journal goes there
    try:
        problem = access_problem(path)
        assert problem is not None and f"folder {path.parent} is not writable" in problem
    finally:
        path.parent.chmod(0o700)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root may write anywhere")
def test_opening_a_history_in_a_read_only_folder_is_a_store_error_that_says_so(
    tmp_path: Path,
) -> None:
    path = _history_with_a_file(tmp_path)
    path.parent.chmod(0o500)
    try:
        with (
            pytest.raises(StoreError, match=r"is not writable .*chmod u\+rwX"),
            HistoryStore(path) as store,
        ):
            store.add_session(WED)
    finally:
        path.parent.chmod(0o700)
