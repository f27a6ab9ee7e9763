"""The local history database (SQLite): ``HistoryStore`` and the values it returns."""

from hipsense.store.history import HistoryStore, unusable_history
from hipsense.store.model import (
    SLR_MDC_DEG,
    SavedSession,
    SlrComparison,
    SlrTest,
    WeekRow,
    default_history_path,
)
from hipsense.store.schema import SCHEMA_VERSION

__all__ = [
    "SCHEMA_VERSION",
    "SLR_MDC_DEG",
    "HistoryStore",
    "SavedSession",
    "SlrComparison",
    "SlrTest",
    "WeekRow",
    "default_history_path",
    "unusable_history",
]
