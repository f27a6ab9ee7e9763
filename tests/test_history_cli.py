"""``hipsense history`` as a runner reads it: each leg's weeks on their own."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from history_fakes import WED, StoredRep

from hipsense.cli import main
from hipsense.commands.history import save_sets
from hipsense.exercises import DOWN_LEG_MOVED, RUSHED
from hipsense.signal.quality import Rep, summarise_set
from hipsense.store import HistoryStore


def _history(path: Path) -> None:
    """Knee drives: the left leg 60° then 70° a week later, the right leg 90° both weeks."""
    with HistoryStore(path) as store:
        for week, left_rom in enumerate((60.0, 70.0)):
            when = WED + timedelta(weeks=week)
            session = store.add_session(when)
            for leg, rom in (("left", left_rom), ("right", 90.0)):
                reps = [StoredRep(i + 1, 2.0 * i, 2.0 * i + 1.5, rom + 2, rom) for i in range(3)]
                store.add_set(session, "knee-drive", leg, reps, started_utc=when)


def test_each_leg_has_its_own_weeks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "h.sqlite3"
    _history(db)
    assert main(["history", "--exercise", "knee-drive", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    left, right = out.split("\n\n")
    assert left.startswith("knee-drive, left leg") and right.startswith("knee-drive, right leg")
    assert "+10.0° real" in left  # the left leg's improvement is not hidden by the right's 90°
    assert "90.0" not in left and "+0.0° (within MDC)" in right
    # each week by its Monday's date (an ISO week number alone meant little)
    assert [line[:11] for line in left.splitlines()[2:]] == [" 2 Nov 2026", " 9 Nov 2026"]


def test_json_rows_name_their_leg(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "h.sqlite3"
    _history(db)
    assert main(["history", "--exercise", "knee-drive", "--db", str(db), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["leg"], r["best_deg"]) for r in rows] == [
        ("left", 60.0),
        ("left", 70.0),
        ("right", 90.0),
        ("right", 90.0),
    ]
    assert main(["history", "--exercise", "knee-drive", "--db", str(db), "--leg", "left"]) == 0
    assert "right leg" not in capsys.readouterr().out


def test_an_empty_history_says_so_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """...and names the database it read: results saved to another one are the usual cause."""
    db = tmp_path / "h.sqlite3"
    assert main(["history", "--db", str(db)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"no history yet for slr, both legs in {db}:")
    _history(db)  # knee drives only
    assert main(["history", "--db", str(db)]) == 0
    assert capsys.readouterr().out.startswith(f"no history yet for slr, both legs in {db}:")


def test_reading_an_absent_history_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HIPSENSE_HISTORY", str(tmp_path / "data" / "history.sqlite3"))
    assert main(["history", "--exercise", "knee-drive"]) == 0
    assert "no history yet for knee-drive" in capsys.readouterr().out
    assert main(["history", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert list(tmp_path.iterdir()) == []


def test_a_saved_slr_test_leaves_out_a_rushed_raise(tmp_path: Path) -> None:
    """As the live test and analyze grade it: the kick to 80° is no trial of the test."""

    def raised(peak_deg: float, *flags: str) -> Rep:
        return Rep(1, 0.0, 3.0, 3.0, peak_deg, 0.0, peak_deg, 0.5, 1.5, 2.0, -1.5, flags, 3.0)

    reps = [raised(70.0), raised(80.0, RUSHED), raised(72.0)]
    with HistoryStore(tmp_path / "h.sqlite3") as store:
        save_sets(store, [("slr", "left", reps, summarise_set(reps, 3))], source="analyze")
        test = store.last_slr("left")
    assert test is not None and test.trials_deg == (70.0, 72.0) and test.best_peak_deg == 72.0


def test_a_saved_slr_test_takes_a_raise_where_the_down_leg_moved_at_that_angle(
    tmp_path: Path,
) -> None:
    """With a sensor on the other thigh: the 85° raise, during which the down leg lifted when
    the raised one was at 40°, is stored as a 40° trial (the tester stops there)."""
    moved = Rep(
        1, 0.0, 3.0, 3.0, 85.0, 0.0, 85.0, 0.5, 1.5, 2.0, -1.5, (DOWN_LEG_MOVED,), 3.0,
        down_leg_tilt_deg=7.0, down_leg_moved_s=1.1, down_leg_moved_deg=40.0,
    )  # fmt: skip
    clean = replace(moved, index=2, peak_deg=70.0, flags=(), down_leg_moved_deg=None)
    reps = [moved, clean]
    with HistoryStore(tmp_path / "h.sqlite3") as store:
        save_sets(store, [("slr", "right", reps, summarise_set(reps, 3))], source="live")
        test = store.last_slr("right")
    assert test is not None and test.trials_deg == (40.0, 70.0) and test.best_peak_deg == 70.0
