"""CSV exports: headers, one row per sample or rep, owner-only files."""

from __future__ import annotations

import csv
import stat
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from hipsense.exports import (
    ANGLES_FMT,
    ANGLES_HEADER,
    REP_COLUMNS,
    ExportError,
    angles_writer,
    orientation_writer,
    write_angles_csv,
    write_orientation_csv,
    write_reps_csv,
)
from hipsense.signal.quality import Rep


def test_angles_csv_one_row_per_sample(tmp_path: Path) -> None:
    path = tmp_path / "angles.csv"
    t = np.arange(1000) / 100
    write_angles_csv(path, t, np.sin(t) * 40, np.full(1000, np.nan))
    lines = path.read_text().splitlines()
    assert lines[0] == "time_s,flexion_deg,abduction_deg" and len(lines) == 1001
    assert lines[2] == "0.010000,0.400,nan"
    data = np.genfromtxt(path, delimiter=",", names=True)
    np.testing.assert_allclose(data["flexion_deg"], np.sin(t) * 40, atol=5e-4)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_orientation_csv_and_replacing_tightens_mode(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text("old")
    path.chmod(0o644)
    quat = np.tile([1.0, 0.0, 0.0, 0.0], (3, 1))
    write_orientation_csv(path, [0.0, 0.01, 0.02], quat)
    assert path.read_text().splitlines() == [
        "time_s,qw,qx,qy,qz",
        "0.000000,1.00000000,0.00000000,0.00000000,0.00000000",
        "0.010000,1.00000000,0.00000000,0.00000000,0.00000000",
        "0.020000,1.00000000,0.00000000,0.00000000,0.00000000",
    ]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_reps_csv_one_row_per_rep_flags_joined(tmp_path: Path) -> None:
    path = tmp_path / "reps.csv"
    reps = [
        Rep(1, 1.0, 4.5, 3.5, 72.04, 0.5, 71.54, 0.8, 1.9, 2.0, -1.6, ("rushed", "low-rom"), 4.6),
        Rep(2, 5.0, 9.0, 4.0, 80.0, 0.0, 80.0, 1.0, 3.2, 1.0, float("nan"), (), 9.25),
    ]
    write_reps_csv(path, reps)
    rows = list(csv.DictReader(path.read_text().splitlines()))
    assert tuple(rows[0]) == REP_COLUMNS
    assert rows[0]["flags"] == "rushed;low-rom" and rows[0]["peak_deg"] == "72.040"
    assert rows[1]["flags"] == "" and rows[1]["sparc"] == "nan" and rows[1]["index"] == "2"
    assert [r["detected_s"] for r in rows] == ["4.600", "9.250"]  # when the live app announced it


def test_bad_shapes_and_unwritable_paths(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="differ in length"):
        write_angles_csv(tmp_path / "a.csv", [0, 1], [0, 1, 2], [0, 1])
    with pytest.raises(ValueError, match=r"shape \(N, 4\)"):
        write_orientation_csv(tmp_path / "o.csv", [0], [[1, 0, 0]])
    with pytest.raises(ExportError, match=r"no-such-dir/a\.csv: cannot write"):
        write_angles_csv(tmp_path / "no-such-dir" / "a.csv", [0], [0], [0])


def test_streamed_rows_are_the_text_savetxt_writes(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    table = rng.normal(0, 100, (20_000, 3)) * rng.choice([1e-9, 1.0, 1e6], (20_000, 3))
    table[rng.random(table.shape) < 0.05] = np.nan
    table[:4, 1] = [np.inf, -np.inf, -0.0, -1e-9]
    savetxt = tmp_path / "savetxt.csv"
    np.savetxt(
        savetxt, table, fmt=list(ANGLES_FMT), delimiter=",", header=ANGLES_HEADER, comments=""
    )
    streamed = tmp_path / "streamed.csv"
    with angles_writer(streamed) as writer:
        for i in range(0, len(table), 7001):  # uneven pieces, across the writer's chunks
            writer.write(*table[i : i + 7001].T)
    assert streamed.read_bytes() == savetxt.read_bytes()
    assert writer.rows == len(table) and stat.S_IMODE(streamed.stat().st_mode) == 0o600


def test_a_writer_checks_its_columns(tmp_path: Path) -> None:
    with orientation_writer(tmp_path / "q.csv") as writer, pytest.raises(ValueError, match="5"):
        writer.write([0.0], [1.0])


def test_reps_csv_gives_the_down_leg_s_check_where_it_was_watched(tmp_path: Path) -> None:
    """SLR with a sensor on the other thigh: the trial's value (where the down leg moved, or
    the peak), when it moved and its largest tilt; empty for a rep not watched."""
    path = tmp_path / "reps.csv"
    base = Rep(1, 1.0, 4.5, 3.5, 85.0, 0.0, 85.0, 0.8, 1.9, 2.0, -1.6, (), 4.6)
    reps = [
        replace(base, flags=("down-leg-moved",), down_leg_tilt_deg=7.5,
                down_leg_moved_s=2.25, down_leg_moved_deg=41.0),
        replace(base, index=2, down_leg_tilt_deg=2.1),
        replace(base, index=3),
    ]  # fmt: skip
    write_reps_csv(path, reps)
    rows = list(csv.DictReader(path.read_text().splitlines()))
    assert tuple(rows[0]) == REP_COLUMNS
    down = [(r["measured_deg"], r["down_leg_moved_s"], r["down_leg_tilt_deg"]) for r in rows]
    assert down == [("41.000", "2.250", "7.500"), ("85.000", "", "2.100"), ("", "", "")]
    assert rows[0]["peak_deg"] == "85.000" and rows[0]["flags"] == "down-leg-moved"
