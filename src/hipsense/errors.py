"""One exception family for hipsense; every message says what went wrong and what to do."""

from __future__ import annotations


class HipsenseError(Exception):
    """Base of every error hipsense raises on purpose."""


class ProtocolError(HipsenseError, ValueError):
    """A notification payload does not follow the sensor's wire protocol."""


class CalibrationError(HipsenseError, ValueError):
    """The mounting or sensor calibration could not be established from the data."""


class InputFileError(HipsenseError, ValueError):
    """A file given to hipsense is unreadable; the message names the file, line and problem."""

    def __init__(self, path: str, problem: str, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.problem = problem
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {problem}")


class RecordingError(InputFileError):
    """A session recording is damaged, truncated or of an unknown version."""


class CsvFormatError(InputFileError):
    """An IMU CSV lacks a required column or unit, or its values are unusable."""


class SensorError(HipsenseError, RuntimeError):
    """A Bluetooth sensor could not be found, connected or streamed from."""


class SensorNotFoundError(SensorError, LookupError):
    """No sensor matched the name or address asked for."""


class AdapterError(SensorError):
    """The Bluetooth adapter is missing, switched off, or not permitted."""


class StoreError(HipsenseError, RuntimeError):
    """The history database could not be opened or written."""
