"""Glue from samples to events: the one pipeline behind live, demo, replay and analyze."""

from hipsense.session.coordinator import Session, SessionOptions
from hipsense.session.pipeline import SensorPipeline

__all__ = ["SensorPipeline", "Session", "SessionOptions"]
