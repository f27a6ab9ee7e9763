"""Session recordings: raw notification payloads as JSON Lines (spec: docs/RECORDING.md)."""

from hipsense.recording.model import (
    FORMAT_NAME,
    FORMAT_VERSION,
    MARKER_KINDS,
    SENSOR_KINDS,
    CalibrationRecord,
    Marker,
    Recording,
    RecordingHeader,
    SensorEntry,
)
from hipsense.recording.stream import read_recording
from hipsense.recording.writer import RecordingWriter

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "MARKER_KINDS",
    "SENSOR_KINDS",
    "CalibrationRecord",
    "Marker",
    "Recording",
    "RecordingHeader",
    "RecordingWriter",
    "SensorEntry",
    "read_recording",
]
