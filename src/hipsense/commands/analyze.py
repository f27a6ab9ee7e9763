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

import numpy as np

from hipsense.analysis import (
    AnalysedSet,
    AnalysisResult,
    AnglePiece,
    Recalibrations,
    analyze_stream,
    checked_axes,
    recalibrations_in,
)
from hipsense.errors import CsvFormatError
from hipsense.exercises import Leg
from hipsense.exports import (
    CsvWriter,
    angles_writer,
    orientation_writer,
    quat_columns,
    write_reps_csv,
)
from hipsense.samples import STANDARD_GRAVITY_MPS2
from hipsense.session.down_leg import WATCHED_EXERCISES, other_thigh
from hipsense.set_marks import (
    ExerciseMark,
    changing_marks,
    exercise_marks,
    markers_and_calibrations_in,
)
from hipsense.signal.calibration import MountingCalibration
from hipsense.signal.quality import Rep, SetSummary
from hipsense.signal.slr import DEFAULT_LINES, assess_leg
from hipsense.sources.replay import LoadedInput, load_input
from hipsense.sources.streamed import InputStream, open_input
from hipsense.store import unusable_history
from hipsense.store.model import parse_utc, to_utc_text
from hipsense.words import counted

NO_SAMPLES = "no sensor samples in the file: was the sensor streaming while it recorded?"
NOT_SAVED_UNRELIABLE = (
    "not saved to the history: its angles are unreliable (see above), so its peaks and SLR"
    " grade would mislead; fix the logger's axis settings and record again"
)
WITHHELD = "withheld: the angles are unreliable"
SEVERAL_NO_EXPORTS = (
    "the recording holds several drills: --angles-csv, --orientation-csv and --reps-csv"
    " export one; give --exercise (and --leg) to analyse it as one drill"
)
ASSUMED_RIGHT = (
    "an IMU CSV does not say which leg it is: taken as the right leg's (give --leg left"
    " otherwise; the leg sets the sign of abduction and where --save files the results)"
)
PROGRESS_MIN_BYTES = 2_000_000  # smaller inputs finish before a bar is worth drawing


def _open(args: argparse.Namespace) -> tuple[InputStream, str | None]:
    """The input, and why its angles are unreliable (None: they can be trusted)."""
    if str(args.path).lower().endswith(".csv"):  # another app's export: check units, axes
        loaded = load_input(args.path, sensor_id=args.sensor, salvage=True)
        problem = wrong_units(loaded)
        if problem is not None:
            raise CsvFormatError(loaded.path, problem)
        imported, unreliable = checked_axes(loaded)
        return InputStream.of(imported), unreliable
    return open_input(args.path, sensor_id=args.sensor, salvage=True), None


# A thigh turns at up to ~8 rad/s (470 °/s) in a vigorous swing; most of a file is slower.
GYRO_P99_MAX_RADPS = 20.0


def wrong_units(loaded: LoadedInput) -> str | None:
    """Why an IMU CSV's values cannot be in the units its column names say (None: they can).
    Its accelerometer must read about gravity (the median magnitude, as most of any drill's
    file is near rest); its gyroscope must not turn faster than a leg can."""
    if not loaded.batches:
        return None
    acc = np.concatenate([b.acc_mps2 for b in loaded.batches])
    gyr = np.concatenate([b.gyr_radps for b in loaded.batches])
    acc_mps2 = float(np.median(np.linalg.norm(acc, axis=1)))
    ratio = acc_mps2 / STANDARD_GRAVITY_MPS2
    if not 0.6 < ratio < 1.6:
        if 0.6 < acc_mps2 < 1.6:
            hint = "the values look like g: name the columns acc_x_g, acc_y_g, acc_z_g"
        elif 0.6 < ratio / STANDARD_GRAVITY_MPS2 < 1.6:
            hint = "the values look like m/s²: name the columns acc_x_mps2, acc_y_mps2, acc_z_mps2"
        else:
            hint = "check the unit of the acc_ columns (acc_x_mps2.. or acc_x_g..)"
        return (
            f"the accelerometer reads {acc_mps2:.3g} m/s² at rest (median), not gravity's"
            f" {STANDARD_GRAVITY_MPS2:.2f}: {hint}"
        )
    gyr_radps = float(np.percentile(np.linalg.norm(gyr, axis=1), 99))
    if gyr_radps > GYRO_P99_MAX_RADPS:
        return (
            f"the gyroscope turns at {gyr_radps:.3g} rad/s ({np.degrees(gyr_radps):.0f} °/s),"
            " faster than a leg can: the values look like °/s: name the columns"
            " gyr_x_dps, gyr_y_dps, gyr_z_dps"
        )
    return None


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


Drill = tuple[str, Leg, list[ExerciseMark], str | None, Recalibrations]


def _drill(args: argparse.Namespace, source: InputStream) -> Drill | str:
    """The drill and leg to start with, the recorded changes to follow (none when
    ``--exercise``/``--leg`` override them), a note when an override hides other drills
    the recording holds and where the live session recalibrated; or why there is no drill
    to analyse."""
    header = source.header
    if header is None:  # an IMU CSV: nothing recorded about the drill
        if args.exercise is None:
            return "an IMU CSV does not say which exercise it holds: give --exercise"
        # The leg sets abduction's sign and where --save files the results: say it was assumed.
        assumed = None if args.leg or args.exercise == "none" else ASSUMED_RIGHT
        return args.exercise, Leg(args.leg or "right"), [], assumed, Recalibrations()
    # The file is read here in full, then again as the analysis streams it: the drill, one
    # result or one per set, and refusing the exports depend on markers anywhere in it, and
    # the stream keeps no samples to go back to. The reader parses every line here too:
    # where the data ends (damage, a second header) decides which markers count. The
    # calibration-start markers (older recordings: the calibration records) say where the
    # live session recalibrated: the analysis must start recalibrating there, before the
    # record that says the new calibration was found.
    markers, calibrations = markers_and_calibrations_in(source.path)
    recorded = exercise_marks(markers)
    first = next((m.exercise_id for m in recorded if m.exercise_id), None)
    exercise_id = args.exercise or header.exercise or first
    if exercise_id is None:
        return "the recording does not say which exercise it holds: give --exercise"
    leg = Leg(args.leg or header.leg or "right")
    if exercise_id == "none":
        return exercise_id, leg, [], None, Recalibrations()
    follow = exercise_marks(markers, exercises=args.exercise is None, legs=args.leg is None)
    marks = changing_marks(follow, exercise_id, leg)
    hidden = changing_marks(recorded, exercise_id, leg)
    note = None
    switches = sum(m.switches for m in marks)
    if sum(m.switches for m in hidden) > switches:  # --exercise/--leg override switches
        drills = sorted({m.exercise_id for m in hidden if m.exercise_id} | {exercise_id})
        legs = sorted({m.leg.value for m in hidden if m.leg} | {leg.value})
        note = (
            f"the recording switches drill or leg ({', '.join(drills)}; {', '.join(legs)})"
            " but --exercise/--leg analyse it as one: leave them out to follow its switches"
        )
    recalibrations = recalibrations_in(calibrations, markers, source.sensor_id)
    return exercise_id, leg, marks, note, recalibrations


def run(args: argparse.Namespace) -> int:
    problem = unwritable_export([args.angles_csv, args.orientation_csv, args.reps_csv])
    if problem is None and args.save:
        problem = unusable_history(args.db)
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
    drill = _drill(args, loaded)
    if isinstance(drill, str):
        print(f"hipsense: {loaded.path}: {drill}", file=sys.stderr)
        return 2
    exercise_id, leg, marks, note, recalibrations = drill
    other = _other_thigh(args, loaded, exercise_id, leg, marks)
    several = any(m.switches for m in marks)
    if several and (args.angles_csv or args.orientation_csv or args.reps_csv):
        print(f"hipsense: {loaded.path}: {SEVERAL_NO_EXPORTS}", file=sys.stderr)
        return 2
    show_bar = sys.stderr.isatty() and loaded.size_bytes >= PROGRESS_MIN_BYTES
    exports = _Exports(args.angles_csv, args.orientation_csv)
    try:
        result = analyze_stream(
            loaded,
            exercise_id,
            leg,
            _progress_bar if show_bar else None,
            sink=exports,
            per_sample=exports.wanted,  # the offline fusion only feeds these files
            marks=marks,
            recalibrate_at=recalibrations.at_s,
            other_thigh=other,
        )
        exports.finish(angles=result.calibration_error is None)
    finally:
        exports.close()
    if args.reps_csv:
        write_reps_csv(args.reps_csv, result.reps)
    # The results first: a history that fails to save them must not hide them.
    if args.json:
        warnings = (*loaded.warnings, *recalibrations.warnings)
        doc = to_json(result, loaded.path, warnings, unreliable=unreliable)
        print(json.dumps(doc, allow_nan=False), flush=True)
    else:
        print(render_table(result, loaded.path, unreliable=unreliable), flush=True)
    refused = args.save and unreliable is not None
    if args.save and not refused:
        _save(args.db, result, loaded)
    missing = [m.message for m in result.missing_sets]
    told = (*loaded.warnings, *recalibrations.warnings, *([note] if note else []), *missing)
    for warning in told:
        print(f"hipsense: {loaded.path}: {warning}", file=sys.stderr)
    if refused:
        print(f"hipsense: {loaded.path}: {NOT_SAVED_UNRELIABLE}", file=sys.stderr)
        return 2
    if result.calibration_error is not None:
        print(f"hipsense: {loaded.path}: {result.calibration_error}", file=sys.stderr)
        return 2
    if any(not m.calibrated for m in result.missing_sets):  # as a drill that never calibrates
        return 2
    return 2 if loaded.damaged else 0


def _other_thigh(
    args: argparse.Namespace,
    source: InputStream,
    exercise_id: str,
    leg: Leg,
    marks: list[ExerciseMark],
) -> InputStream | None:
    """The recording's sensor on the other thigh, read alongside for the straight leg
    raises' down-leg check (as the live session watched it); None without one."""
    drills = {exercise_id, *(m.exercise_id for m in marks)}
    if source.header is None or not drills & WATCHED_EXERCISES:
        return None
    sensors = [s.sensor_id for s in source.header.sensors]
    other = other_thigh(sensors, source.sensor_id, leg)
    return None if other is None else open_input(args.path, sensor_id=other, salvage=True)


def _save(db: str | None, result: AnalysisResult, loaded: InputStream) -> None:
    sets = [(x.exercise_id, x.leg.value, list(x.reps), x.summary) for x in result.sets]
    if result.summary is not None and not result.sets:
        sets = [(result.exercise_id, result.leg.value, list(result.reps), result.summary)]
    if not (result.reps and sets):
        return
    from hipsense.commands.history import open_store, save_analysis

    started, what = recorded_at(loaded)
    with open_store(db) as store:
        saved = save_analysis(store, sets, recording=loaded.path, started_utc=started)
        where = store.path
    if saved.recorded_live is not None:
        print(
            f"hipsense: {loaded.path}: not saved again: the live session that recorded it"
            f" saved its sets to the history {where}"
            f" ({to_utc_text(saved.recorded_live.started_utc)})",
            file=sys.stderr,
        )
        return
    replaced = "; it replaces the earlier analysis of this file" if saved.replaced else ""
    print(
        f"hipsense: saved {counted(len(sets), 'set')} to the history {where},"
        f" dated {to_utc_text(started)} ({what}){replaced}",
        file=sys.stderr,
    )


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
        # SLR test with a sensor on the other thigh: the trial's value (the peak, or where
        # the down leg moved); the down leg's check, null when it was not watched
        "measured_deg": _num(rep.measured_deg),
        "down_leg_tilt_deg": _num(rep.down_leg_tilt_deg),
        "down_leg_moved_s": _num(rep.down_leg_moved_s, 3),
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
    summary = None if result.summary is None else _summary_json(result.summary)
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
    if result.per_set:  # several drills: the results are per set
        out |= {"exercise": None, "leg": None, "rep_count": None, "reps": [], "summary": None}
        out["calibration"] = None
        out["sets"] = [_set_json(x) for x in result.sets]
        out["drills_without_sets"] = [
            {
                "exercise": m.exercise_id,
                "leg": m.leg.value,
                "from_s": _num(m.from_s, 3),
                "calibrated": m.calibrated,
                "why": m.message,
            }
            for m in result.missing_sets
        ]
    if unreliable is not None:
        out["angles_reliable"] = False
        out["angles_unreliable"] = unreliable
    if result.exercise_id == "slr" and result.reps and not result.per_set:
        if unreliable is not None:
            out["slr"] = None
            out["slr_withheld"] = f"{WITHHELD}: {unreliable}"
        else:
            slr = assess_leg(result.leg, result.reps)
            out["slr"] = {"best_deg": _num(slr.best_deg), "grade": slr.grade, "passed": slr.passed}
    return out


def _summary_json(s: SetSummary) -> dict[str, Any]:
    return {
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


def _set_json(x: AnalysedSet) -> dict[str, Any]:
    out: dict[str, Any] = {
        "exercise": x.exercise_id,
        "leg": x.leg.value,
        "rep_count": len(x.reps),
        "reps": [rep_json(r) for r in x.reps],
        "summary": _summary_json(x.summary),
        "calibration": None if x.calibration is None else _mounting_json(x.calibration),
    }
    if x.exercise_id == "slr" and x.reps:
        slr = assess_leg(x.leg, x.reps)
        out["slr"] = {"best_deg": _num(slr.best_deg), "grade": slr.grade, "passed": slr.passed}
    return out


def _mounting_json(cal: MountingCalibration) -> dict[str, Any]:
    return {"ok": True, "quality": _num(cal.quality, 3), "grade": cal.grade, **cal.to_dict()}


def _calibration_json(result: AnalysisResult) -> dict[str, Any] | None:
    if result.calibration_error is not None:
        return {"ok": False, "error": str(result.calibration_error)}
    cal = result.calibration
    if cal is None:
        return None
    return _mounting_json(cal)


def render_table(result: AnalysisResult, path: str, *, unreliable: str | None = None) -> str:
    if result.exercise_id == "none":  # nothing to count: say what the option gives instead
        return (
            f"{path}: orientation only (--exercise none), {result.rate_hz:.0f} Hz\n"
            "no reps are counted without an exercise; --orientation-csv F writes the orientation"
        )
    if result.per_set:
        sets = len(result.sets)
        head = f"{path}: {counted(sets, 'set')}, {result.rate_hz:.0f} Hz"
    else:
        head = f"{path}: {result.exercise_id}, {result.leg.value} leg, {result.rate_hz:.0f} Hz"
    lines = [head]
    if unreliable is not None:
        lines.append("ANGLES UNRELIABLE (gyroscope and accelerometer disagree):")
        lines.append("  the rep count stands; peaks and ROM are not to be trusted")
        if result.exercise_id == "slr":
            lines.append("  no SLR grade is given")
    graded = unreliable is None
    if not result.per_set:
        lines += _set_lines(result.exercise_id, result.calibration, result.reps, result.summary)
        lines += _slr_lines(result.exercise_id, result.leg, result.reps, graded=graded)
    for n, x in enumerate(result.sets, 1):
        lines.append(f"set {n}: {x.exercise_id}, {x.leg.value} leg")
        lines += _set_lines(x.exercise_id, x.calibration, x.reps, x.summary)
        lines += _slr_lines(x.exercise_id, x.leg, x.reps, graded=graded)
    return "\n".join(lines)


def _slr_lines(exercise_id: str, leg: Leg, reps: tuple[Rep, ...], *, graded: bool) -> list[str]:
    """The SLR test's answer, as the JSON's ``slr`` gives it: the best raise against the
    standard's lines (one decimal, as the peaks above, so 75.4° is seen to miss 75.5°)."""
    if exercise_id != "slr" or not reps or not graded:
        return []
    slr = assess_leg(leg, reps)
    verdict = "passes" if slr.passed else "below"
    line = DEFAULT_LINES.mid_thigh_deg
    return [
        f"SLR {leg.value} leg: best {slr.best_deg:.1f}° (grade {slr.grade}),"
        f" {verdict} the {line:.1f}° door-jamb line"
    ]


def _set_lines(
    exercise_id: str,
    calibration: MountingCalibration | None,
    reps: tuple[Rep, ...],
    s: SetSummary | None,
) -> list[str]:
    lines = []
    if calibration is not None:
        lines.append(f"calibration: {calibration.grade} (quality {calibration.quality:.2f})")
    lines.append(
        f"{'rep':>4} {'start s':>8} {'end s':>8} {'dur s':>6} {'peak°':>7} {'ROM°':>6}  flags"
    )
    for r in reps:
        lines.append(
            f"{r.index:>4} {r.start_s:8.2f} {r.end_s:8.2f} {r.duration_s:6.2f}"
            f" {r.peak_deg:7.1f} {r.rom_deg:6.1f}  {', '.join(r.flags)}"
        )
    if s is not None and s.count:
        lines.append(
            f"{s.count} reps (target {s.target_reps}); ROM mean {s.mean_rom_deg:.1f}°,"
            f" best {s.best_rom_deg:.1f}°, CV {s.rom_cv_pct:.0f} %;"
            f" mean tempo {s.mean_duration_s:.1f} s"
        )
    elif exercise_id != "none":
        lines.append("no reps found")
    return lines
