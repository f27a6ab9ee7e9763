"""``hipsense analyze PATH --exercise EX --leg L``: counts, quality and exports for a file."""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hipsense.analysis import AnalysisResult, AnglePiece, analyze_stream, checked_axes
from hipsense.exercises import Leg
from hipsense.exports import (
    CsvWriter,
    angles_writer,
    orientation_writer,
    quat_columns,
    write_reps_csv,
)
from hipsense.signal.quality import Rep
from hipsense.signal.slr import assess_leg
from hipsense.sources.replay import load_input
from hipsense.sources.streamed import InputStream, open_input
from hipsense.store.model import parse_utc, to_utc_text

NO_SAMPLES = "no sensor samples in the file: was the sensor streaming while it recorded?"
NOT_SAVED_UNRELIABLE = (
    "not saved to the history: its angles are unreliable (see above), so its peaks and SLR"
    " grade would mislead; fix the logger's axis settings and record again"
)
WITHHELD = "withheld: the angles are unreliable"
PROGRESS_MIN_BYTES = 2_000_000  # smaller inputs finish before a bar is worth drawing


def _open(args: argparse.Namespace) -> tuple[InputStream, str | None]:
    """The input, and why its angles are unreliable (None: they can be trusted)."""
    if str(args.path).lower().endswith(".csv"):  # another app's export: check its axes
        imported, unreliable = checked_axes(
            load_input(args.path, sensor_id=args.sensor, salvage=True)
        )
        return InputStream.of(imported), unreliable
    return open_input(args.path, sensor_id=args.sensor, salvage=True), None


def unwritable_export(paths: list[str | None]) -> str | None:
    """Why one of the export files cannot be written (its folder is missing or read-only,
    or it is a folder), checked before the analysis so it is not lost at the end."""
    for name in paths:
        if not name:
            continue
        path = Path(name)
        folder = path.parent
        if path.is_dir():
            return f"{name}: is a folder: give a file name to write"
        if not folder.is_dir():
            return f"{name}: cannot write: folder {folder} does not exist"
        if not os.access(folder, os.W_OK | os.X_OK):
            return f"{name}: cannot write: folder {folder} is not writable"
    return None


def recorded_at(source: InputStream) -> tuple[datetime, str]:
    """When the input was recorded, for the history, and where that time comes from: a
    recording's header (its creation, when recording started), else the file's last
    modification (an IMU CSV has no start time of its own)."""
    created = "" if source.header is None else source.header.created_utc
    if created:
        try:
            moment = parse_utc(created)
        except ValueError:
            pass
        else:
            if moment.tzinfo is not None:
                return moment, "when the recording started"
    modified = datetime.fromtimestamp(os.path.getmtime(source.path), UTC)
    return modified, "the file's modification time"


def run(args: argparse.Namespace) -> int:
    problem = unwritable_export([args.angles_csv, args.orientation_csv, args.reps_csv])
    if problem is not None:
        print(f"hipsense: {problem}", file=sys.stderr)
        return 2
    loaded, unreliable = _open(args)
    batches = loaded.batches()
    first = next(batches, None)
    if first is None:  # nothing to analyse: say so instead of calibrating on no samples
        for warning in loaded.warnings:
            print(f"hipsense: {loaded.path}: {warning}", file=sys.stderr)
        print(f"hipsense: {loaded.path}: {NO_SAMPLES}", file=sys.stderr)
        return 2
    loaded.set_batches(itertools.chain([first], batches))
    leg = Leg(args.leg)
    show_bar = sys.stderr.isatty() and loaded.size_bytes >= PROGRESS_MIN_BYTES
    exports = _Exports(args.angles_csv, args.orientation_csv)
    try:
        result = analyze_stream(
            loaded,
            args.exercise,
            leg,
            _progress_bar if show_bar else None,
            sink=exports,
            per_sample=exports.wanted,  # the offline fusion only feeds these files
        )
        exports.finish(angles=result.calibration_error is None)
    finally:
        exports.close()
    if args.reps_csv:
        write_reps_csv(args.reps_csv, result.reps)
    refused = args.save and unreliable is not None
    if args.save and not refused and result.summary is not None and result.reps:
        from hipsense.commands.history import open_store, save_sets

        started, what = recorded_at(loaded)
        with open_store(args.db) as store:
            sets = [(result.exercise_id, result.leg.value, list(result.reps), result.summary)]
            save_sets(store, sets, source="analyze", recording=loaded.path, started_utc=started)
            where = store.path
        print(
            f"hipsense: saved {len(sets)} set(s) to the history {where},"
            f" dated {to_utc_text(started)} ({what})",
            file=sys.stderr,
        )
    if args.json:
        doc = to_json(result, loaded.path, loaded.warnings, unreliable=unreliable)
        print(json.dumps(doc, allow_nan=False))
    else:
        print(render_table(result, loaded.path, unreliable=unreliable))
    for warning in loaded.warnings:
        print(f"hipsense: {loaded.path}: {warning}", file=sys.stderr)
    if refused:
        print(f"hipsense: {loaded.path}: {NOT_SAVED_UNRELIABLE}", file=sys.stderr)
        return 2
    if result.calibration_error is not None:
        print(f"hipsense: {loaded.path}: {result.calibration_error}", file=sys.stderr)
        return 2
    return 2 if loaded.damaged else 0


class _Exports:
    """Per-sample CSVs written window by window as the analysis delivers them."""

    def __init__(self, angles_csv: str | None, orientation_csv: str | None) -> None:
        self._paths = (angles_csv, orientation_csv)
        self._angles: CsvWriter | None = None
        self._orientation: CsvWriter | None = None

    @property
    def wanted(self) -> bool:
        return any(self._paths)

    def __call__(self, piece: AnglePiece) -> None:
        angles_csv, orientation_csv = self._paths
        if orientation_csv:
            self._orientation = self._orientation or orientation_writer(orientation_csv)
            self._orientation.write(piece.t_s, *quat_columns(piece.quat_wxyz))
        if angles_csv and piece.angles:
            self._angles = self._angles or angles_writer(angles_csv)
            self._angles.write(piece.t_s, piece.flexion_deg, piece.abduction_deg)

    def finish(self, *, angles: bool) -> None:
        """Files asked for but without rows (no samples) still get their header."""
        angles_csv, orientation_csv = self._paths
        if orientation_csv and self._orientation is None:
            self._orientation = orientation_writer(orientation_csv)
        if angles_csv and angles and self._angles is None:
            self._angles = angles_writer(angles_csv)

    def close(self) -> None:
        for writer in (self._angles, self._orientation):
            if writer is not None:
                writer.close()


def _progress_bar(fraction: float) -> None:
    width = 40
    done = round(fraction * width)
    end = "\n" if fraction >= 1.0 else ""
    print(
        f"\ranalysing [{'#' * done}{'.' * (width - done)}] {fraction:4.0%}",
        end=end,
        file=sys.stderr,
    )


def _num(value: float | None, digits: int = 2) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, digits)


def rep_json(rep: Rep) -> dict[str, Any]:
    return {
        "index": rep.index,
        "start_s": _num(rep.start_s, 3),
        "end_s": _num(rep.end_s, 3),
        "duration_s": _num(rep.duration_s, 3),
        "peak_deg": _num(rep.peak_deg),
        "low_deg": _num(rep.low_deg),
        "rom_deg": _num(rep.rom_deg),
        "hold_s": _num(rep.hold_s, 3),
        "descent_s": _num(rep.descent_s, 3),
        "off_plane_deg": _num(rep.off_plane_deg),
        "sparc": _num(rep.sparc, 3),
        "flags": list(rep.flags),
        "detected_s": _num(rep.detected_s, 3),
    }


def to_json(
    result: AnalysisResult,
    path: str,
    warnings: tuple[str, ...],
    *,
    unreliable: str | None = None,
) -> dict[str, Any]:
    """``unreliable``: why the input's angles cannot be trusted; the reps are still counted
    but the SLR verdict is withheld (``"slr": null`` and ``"slr_withheld"``)."""
    s = result.summary
    summary = None
    if s is not None:
        summary = {
            "count": s.count,
            "target_reps": s.target_reps,
            "target_met": s.target_met,
            "mean_rom_deg": _num(s.mean_rom_deg),
            "best_rom_deg": _num(s.best_rom_deg),
            "best_peak_deg": _num(s.best_peak_deg),
            "rom_cv_pct": _num(s.rom_cv_pct, 1),
            "mean_duration_s": _num(s.mean_duration_s, 3),
            "flag_counts": dict(s.flag_counts),
        }
    out: dict[str, Any] = {
        "path": path,
        "exercise": result.exercise_id,
        "leg": result.leg.value,
        "rate_hz": _num(result.rate_hz, 3),
        "rep_count": len(result.reps),
        "reps": [rep_json(r) for r in result.reps],
        "summary": summary,
        "calibration": _calibration_json(result),
        "data_quality": [
            {"kind": q.kind, "t_s": _num(q.t_s, 3), "message": q.message} for q in result.quality
        ],
        "warnings": list(warnings),
    }
    if unreliable is not None:
        out["angles_reliable"] = False
        out["angles_unreliable"] = unreliable
    if result.exercise_id == "slr" and result.reps:
        if unreliable is not None:
            out["slr"] = None
            out["slr_withheld"] = f"{WITHHELD}: {unreliable}"
        else:
            slr = assess_leg(result.leg, result.reps)
            out["slr"] = {"best_deg": _num(slr.best_deg), "grade": slr.grade, "passed": slr.passed}
    return out


def _calibration_json(result: AnalysisResult) -> dict[str, Any] | None:
    if result.calibration_error is not None:
        return {"ok": False, "error": str(result.calibration_error)}
    cal = result.calibration
    if cal is None:
        return None
    return {"ok": True, "quality": _num(cal.quality, 3), "grade": cal.grade, **cal.to_dict()}


def render_table(result: AnalysisResult, path: str, *, unreliable: str | None = None) -> str:
    lines = [f"{path}: {result.exercise_id}, {result.leg.value} leg, {result.rate_hz:.0f} Hz"]
    if unreliable is not None:
        lines.append("ANGLES UNRELIABLE (gyroscope and accelerometer disagree):")
        lines.append("  the rep count stands; peaks and ROM are not to be trusted")
        if result.exercise_id == "slr":
            lines.append("  no SLR grade is given")
    if result.calibration is not None:
        lines.append(
            f"calibration: {result.calibration.grade} (quality {result.calibration.quality:.2f})"
        )
    lines.append(
        f"{'rep':>4} {'start s':>8} {'end s':>8} {'dur s':>6} {'peak°':>7} {'ROM°':>6}  flags"
    )
    for r in result.reps:
        lines.append(
            f"{r.index:>4} {r.start_s:8.2f} {r.end_s:8.2f} {r.duration_s:6.2f}"
            f" {r.peak_deg:7.1f} {r.rom_deg:6.1f}  {', '.join(r.flags)}"
        )
    s = result.summary
    if s is not None and s.count:
        lines.append(
            f"{s.count} reps (target {s.target_reps}); ROM mean {s.mean_rom_deg:.1f}°,"
            f" best {s.best_rom_deg:.1f}°, CV {s.rom_cv_pct:.0f} %;"
            f" mean tempo {s.mean_duration_s:.1f} s"
        )
    elif result.exercise_id != "none":
        lines.append("no reps found")
    return "\n".join(lines)
