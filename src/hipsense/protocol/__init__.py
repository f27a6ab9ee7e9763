"""Pure bytes <-> values for the sensors hipsense speaks to (stdlib and numpy only)."""

from hipsense.protocol.hipsense_v1 import (
    CONTROL_UUID,
    IMU_DATA_UUID,
    PROTOCOL_VERSION,
    SENSOR_INFO_UUID,
    SERVICE_UUID,
    ImuPacket,
    SensorInfo,
    decode_imu_packet,
    decode_sensor_info,
    encode_imu_packet,
    encode_sensor_info,
    max_samples_per_packet,
)

__all__ = [
    "CONTROL_UUID",
    "IMU_DATA_UUID",
    "PROTOCOL_VERSION",
    "SENSOR_INFO_UUID",
    "SERVICE_UUID",
    "ImuPacket",
    "SensorInfo",
    "decode_imu_packet",
    "decode_sensor_info",
    "encode_imu_packet",
    "encode_sensor_info",
    "max_samples_per_packet",
]
