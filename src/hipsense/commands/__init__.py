"""Command implementations, one module per family; cli.py only parses and dispatches."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from hipsense.errors import HipsenseError


def _not_yet(name: str) -> Callable[[argparse.Namespace], int]:
    def run(_: argparse.Namespace) -> int:
        raise HipsenseError(f"'hipsense {name}' is not available in this build yet")

    return run


def _analyze(args: argparse.Namespace) -> int:
    from hipsense.commands import analyze

    return analyze.run(args)


def _demo(args: argparse.Namespace) -> int:
    from hipsense.commands import stream

    return stream.run_demo(args)


HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    name: _not_yet(name) for name in ("live", "scan", "record", "replay", "history")
}
HANDLERS["demo"] = _demo
HANDLERS["analyze"] = _analyze
