"""The history's SQL schema: one migration per version, applied in order (PRAGMA user_version)."""

from __future__ import annotations

MIGRATIONS = (
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
SCHEMA_VERSION = len(MIGRATIONS)
