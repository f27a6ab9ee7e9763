"""hipsense: hip angles and warm-up rep counts from a thigh-worn Bluetooth LE IMU."""

__version__ = "0.1.0"
