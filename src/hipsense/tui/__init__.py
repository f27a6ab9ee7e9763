"""The live terminal app (Textual)."""

from hipsense.tui.app import HipsenseApp

__all__ = ["HipsenseApp"]
