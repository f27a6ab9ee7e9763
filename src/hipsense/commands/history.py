"""``hipsense history``: week-by-week progress, and saving results into the history."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from dataclasses import asdict

from hipsense.signal.quality import Rep, SetSummary
from hipsense.signal.slr import MDC_DEG, change_is_real
from hipsense.store import HistoryStore, WeekRow


def open_store(db: str | None) -> HistoryStore:
    return HistoryStore(db)


def run(args: argparse.Namespace) -> int:
    with open_store(args.db) as store:
        rows = store.weekly_progress(args.exercise, args.leg)
    if args.json:
        print(json.dumps([_row_json(r) for r in rows]))
        return 0
    print(render(rows, args.exercise, args.leg))
    return 0


def _row_json(row: WeekRow) -> dict[str, object]:
    d = asdict(row)
    d["week_start"] = row.week_start.isoformat()
    return d


def render(rows: list[WeekRow], exercise: str, leg: str | None) -> str:
    who = f"{exercise}, {leg or 'both'} leg{'' if leg else 's'}"
    if not rows:
        return f"no history yet for {who}: results are saved after live sessions and analyze --save"
    metric = "peak" if rows[0].metric == "peak_deg" else "ROM"
    lines = [
        f"{who}: weekly best {metric} (a change of {MDC_DEG:.1f}° or more is a real change)",
        f"{'week':<10} {'best°':>7} {'mean°':>7} {'sets':>5} {'reps':>5}  change",
    ]
    previous: float | None = None
    for r in rows:
        change = ""
        if previous is not None:
            delta = r.best_deg - previous
            change = f"{delta:+.1f}°" + (
                " real" if change_is_real(previous, r.best_deg) else " (within MDC)"
            )
        lines.append(
            f"{r.iso_year}-W{r.iso_week:02d} {r.best_deg:7.1f} {r.mean_deg:7.1f}"
            f" {r.count:5d} {r.reps:5d}  {change}"
        )
        previous = r.best_deg
    return "\n".join(lines)


def save_sets(
    store: HistoryStore,
    sets: Iterable[tuple[str, str, list[Rep], SetSummary]],
    *,
    source: str,
    recording: str | None = None,
) -> int:
    """Store finished sets (and SLR tests) as one session; returns the session id."""
    session_id = store.add_session(source=source, recording=recording)
    for exercise_id, leg, reps, summary in sets:
        store.add_set(
            session_id,
            exercise_id,
            leg,
            reps,
            target_reps=summary.target_reps,
            summary=asdict(summary),
        )
        if exercise_id == "slr" and reps:
            store.add_slr_test(leg, [r.peak_deg for r in reps], session_id=session_id)
    return session_id
