"""Widgets of the live app."""

from __future__ import annotations

from textual.widgets import Static


def show_text(static: Static, content: str) -> None:
    """Update ``static`` only when its text changes: every update lays the screen out again,
    which costs about 10 ms a frame at 100×30 (bench/bench_ui.py)."""
    if static.content != content:
        static.update(content)
