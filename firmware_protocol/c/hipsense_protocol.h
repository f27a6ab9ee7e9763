/*
 * hipsense wire protocol, version 1: portable C99 reference encoder.
 *
 * Only <stdint.h>, <stddef.h> and <string.h>; no dynamic memory, no platform headers.
 * The contract is ../PROTOCOL.md; ../profile.json holds every constant below, and the
 * host test (tests/protocol/test_protocol_c_conformance.py) checks they agree.
 * All multi-byte fields are little-endian, whatever the CPU's byte order.
 */
#ifndef HIPSENSE_PROTOCOL_H
#define HIPSENSE_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HSP_PROTOCOL_VERSION 1u

#define HSP_SERVICE_UUID_STR "7a1f0001-5c4e-4b8e-9c3d-68697073656e"
#define HSP_IMU_DATA_UUID_STR "7a1f0002-5c4e-4b8e-9c3d-68697073656e"
#define HSP_SENSOR_INFO_UUID_STR "7a1f0003-5c4e-4b8e-9c3d-68697073656e"
#define HSP_CONTROL_UUID_STR "7a1f0004-5c4e-4b8e-9c3d-68697073656e"
#define HSP_LOCAL_NAME_PREFIX "hipsense-"

/* IMU data notification: 8-byte header then count samples */
#define HSP_HEADER_SIZE 8u
#define HSP_COUNT_MASK 0x3Fu
#define HSP_RESERVED_BIT 0x40u
#define HSP_MAG_FLAG 0x80u
#define HSP_MAX_COUNT 63u
#define HSP_SAMPLE_SIZE 12u     /* int16 acc xyz, gyr xyz */
#define HSP_SAMPLE_MAG_SIZE 18u /* + int16 mag xyz */
#define HSP_ATT_NOTIFY_OVERHEAD 3u
#define HSP_MAX_PACKET_SIZE (HSP_HEADER_SIZE + HSP_MAX_COUNT * HSP_SAMPLE_MAG_SIZE)

/* Sensor info characteristic: 20 fixed bytes then up to 16 bytes of UTF-8 model name */
#define HSP_INFO_FIXED_SIZE 20u
#define HSP_MODEL_MAX_BYTES 16u
#define HSP_INFO_MAX_SIZE (HSP_INFO_FIXED_SIZE + HSP_MODEL_MAX_BYTES)
#define HSP_INFO_MAG_AVAILABLE 0x01u
#define HSP_INFO_STREAMING 0x02u
#define HSP_AXIS_CONVENTION_BOARD 0u

/* Control characteristic opcodes and limits */
#define HSP_OP_START_STREAMING 0x01u
#define HSP_OP_STOP_STREAMING 0x02u
#define HSP_OP_SET_SAMPLE_RATE 0x03u
#define HSP_OP_SET_RANGES 0x04u
#define HSP_RATE_MIN_HZ 25u
#define HSP_RATE_MAX_HZ 400u

/* ATT application error codes answered to a rejected control write (0 = accepted) */
#define HSP_ATT_OK 0x00u
#define HSP_ATT_ERR_UNKNOWN_OPCODE 0x80u
#define HSP_ATT_ERR_INVALID_LENGTH 0x81u
#define HSP_ATT_ERR_VALUE_OUT_OF_RANGE 0x82u
#define HSP_ATT_ERR_BUSY_STREAMING 0x83u

/* Negative results of the encoders */
#define HSP_ERR_NULL (-1)
#define HSP_ERR_BAD_COUNT (-2)
#define HSP_ERR_BUFFER_TOO_SMALL (-3)

/* 128-bit UUIDs in the little-endian byte order BLE stacks want (e.g. Bluefruit's BLEUuid) */
extern const uint8_t hsp_service_uuid_le[16];
extern const uint8_t hsp_imu_data_uuid_le[16];
extern const uint8_t hsp_sensor_info_uuid_le[16];
extern const uint8_t hsp_control_uuid_le[16];

typedef struct {
    int16_t acc[3]; /* raw counts, sensor frame x, y, z */
    int16_t gyr[3];
    int16_t mag[3]; /* sent only when the packet has the magnetometer flag */
} hsp_sample_t;

typedef struct {
    uint8_t flags; /* HSP_INFO_MAG_AVAILABLE | HSP_INFO_STREAMING */
    uint16_t sample_rate_hz;
    uint8_t acc_range_g;
    uint16_t gyr_range_dps;
    float acc_scale_mps2_per_lsb;
    float gyr_scale_radps_per_lsb;
    float mag_scale_ut_per_lsb;
    uint8_t axis_convention; /* HSP_AXIS_CONVENTION_BOARD */
    const char *model;       /* NUL-terminated UTF-8; at most 16 bytes are sent */
} hsp_sensor_info_t;

typedef struct {
    uint8_t opcode;
    uint16_t sample_rate_hz; /* HSP_OP_SET_SAMPLE_RATE */
    uint8_t acc_range_g;     /* HSP_OP_SET_RANGES */
    uint16_t gyr_range_dps;  /* HSP_OP_SET_RANGES */
} hsp_control_t;

/* Samples one notification carries at a negotiated ATT MTU (0 if none fits). */
size_t hsp_max_samples_per_packet(uint16_t mtu, int with_mag);

/* Encode count samples (1..63) into buf; returns bytes written or a negative HSP_ERR_*.
 * seq is the sequence number of the first sample, t0_us its device time in microseconds. */
int hsp_encode_imu_packet(uint8_t *buf, size_t buf_len, uint16_t seq, uint32_t t0_us,
                          const hsp_sample_t *samples, size_t count, int with_mag);

/* Encode the sensor-info characteristic; returns bytes written or a negative HSP_ERR_*. */
int hsp_encode_sensor_info(uint8_t *buf, size_t buf_len, const hsp_sensor_info_t *info);

/* Parse a control write into *out; returns HSP_ATT_OK or the HSP_ATT_ERR_* to answer.
 * Whether a command is allowed while streaming is the firmware's decision. */
uint8_t hsp_parse_control(const uint8_t *data, size_t len, hsp_control_t *out);

#ifdef __cplusplus
}
#endif

#endif /* HIPSENSE_PROTOCOL_H */
