"""``hipsense history``: week-by-week progress, and saving results into the history."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from hipsense.exercises import Leg
from hipsense.signal.quality import Rep, SetSummary
from hipsense.signal.slr import MDC_DEG, assess_leg, change_is_real
from hipsense.store import HistoryStore, SavedSession, WeekRow, default_history_path


def open_store(db: str | None) -> HistoryStore:
    return HistoryStore(db)


LEGS = ("left", "right")
MONTHS = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def run(args: argparse.Namespace) -> int:
    """Each leg on its own (a best of the left and the right together says little), or the
    one leg asked for."""
    legs = [args.leg] if args.leg else list(LEGS)
    path = Path(args.db) if args.db else default_history_path()
    if not path.exists():  # reading creates nothing
        print("[]" if args.json else render([], args.exercise, args.leg, path))
        return 0
    with open_store(args.db) as store:
        per_leg = {leg: store.weekly_progress(args.exercise, leg) for leg in legs}
    if args.json:
        print(json.dumps([_row_json(r, leg) for leg, rows in per_leg.items() for r in rows]))
        return 0
    shown = {leg: rows for leg, rows in per_leg.items() if rows}
    if not shown:
        print(render([], args.exercise, args.leg, path))
        return 0
    print("\n\n".join(render(rows, args.exercise, leg) for leg, rows in shown.items()))
    return 0


def _row_json(row: WeekRow, leg: str) -> dict[str, object]:
    d: dict[str, object] = {"leg": leg, **asdict(row)}
    d["week_start"] = row.week_start.isoformat()
    for key in ("best_deg", "mean_deg"):
        d[key] = round(float(getattr(row, key)), 2)
    return d


def render(rows: list[WeekRow], exercise: str, leg: str | None, path: Path | None = None) -> str:
    """``path``: the database read, named when it has nothing (a --db or $HIPSENSE_HISTORY
    other than the one results went to is the usual reason)."""
    who = f"{exercise}, {leg or 'both'} leg{'' if leg else 's'}"
    if not rows:
        where = f" in {path}" if path is not None else ""
        return (
            f"no history yet for {who}{where}: results are saved after live sessions"
            " and analyze --save"
        )
    slr = rows[0].metric == "peak_deg"
    metric, count, reps = ("peak", "tests", "trials") if slr else ("ROM", "sets", "reps")
    lines = [
        f"{who}: weekly best {metric} (a change of {MDC_DEG:.1f}° or more is a real change)",
        f"{'week of':<11} {'best°':>7} {'mean°':>7} {count:>5} {reps:>6}  change",
    ]
    previous: float | None = None
    for r in rows:
        change = ""
        if previous is not None:
            delta = r.best_deg - previous
            change = f"{delta:+.1f}°" + (
                " real" if change_is_real(previous, r.best_deg) else " (within MDC)"
            )
        # The week's Monday: an ISO week number ("2026-W45") means little to a runner.
        monday = r.week_start
        week = f"{monday.day:2d} {MONTHS[monday.month]} {monday.year}"
        lines.append(
            f"{week:<11} {r.best_deg:7.1f} {r.mean_deg:7.1f} {r.count:5d} {r.reps:6d}  {change}"
        )
        previous = r.best_deg
    return "\n".join(lines)


@dataclass(frozen=True)
class AnalysisSaved:
    """What ``save_analysis`` did: the new session (None: nothing saved, because the live
    session that recorded the file, ``recorded_live``, saved these sets already) and how
    many earlier analyses of the same recording it replaced."""

    session_id: int | None
    replaced: int = 0
    recorded_live: SavedSession | None = None


def recording_key(path: str | os.PathLike[str]) -> str:
    """How the history names a recording: its absolute path, however it was typed."""
    return os.path.realpath(path)


def save_analysis(
    store: HistoryStore,
    sets: Iterable[tuple[str, str, list[Rep], SetSummary]],
    *,
    recording: str,
    started_utc: datetime,
) -> AnalysisSaved:
    """An analysis of ``recording`` counts once in the weekly progress: analysing it again
    replaces the earlier analysis, and a file the live session recorded (whose sets it
    saved then) is not added a second time."""
    key = recording_key(recording)
    earlier = store.sessions_of_recording(key)
    live = next((s for s in earlier if s.source == "live"), None)
    if live is not None:
        return AnalysisSaved(None, recorded_live=live)
    with store.transaction("save the analysis"):
        if earlier:
            store.remove_sessions([s.id for s in earlier])
        session_id = save_sets(
            store, sets, source="analyze", recording=key, started_utc=started_utc
        )
    return AnalysisSaved(session_id, replaced=len(earlier))


def save_sets(
    store: HistoryStore,
    sets: Iterable[tuple[str, str, list[Rep], SetSummary]],
    *,
    source: str,
    recording: str | None = None,
    started_utc: datetime | None = None,
) -> int:
    """Store finished sets (and SLR tests) as one session; returns the session id.
    ``started_utc``: when they were done (default: now)."""
    session_id = store.add_session(started_utc, source=source, recording=recording)
    for exercise_id, leg, reps, summary in sets:
        store.add_set(
            session_id,
            exercise_id,
            leg,
            reps,
            started_utc=started_utc,
            target_reps=summary.target_reps,
            summary=asdict(summary),
        )
        if exercise_id == "slr" and reps:  # the test's trials: rushed raises set aside
            result = assess_leg(Leg(leg), reps)
            peaks = [p for p, c in zip(result.trials_deg, result.counted, strict=True) if c]
            store.add_slr_test(leg, peaks, session_id=session_id, tested_utc=started_utc)
    return session_id
