/* hipsense wire protocol, version 1: portable C99 reference encoder (see the header). */
#include "hipsense_protocol.h"

#include <string.h>

/* 7a1f000N-5c4e-4b8e-9c3d-68697073656e, bytes reversed; byte 12 is N */
#define HSP_UUID_LE(n)                                                                      \
    {0x6e, 0x65, 0x73, 0x70, 0x69, 0x68, 0x3d, 0x9c, 0x8e, 0x4b, 0x4e, 0x5c, (n), 0x00, 0x1f, \
     0x7a}
const uint8_t hsp_service_uuid_le[16] = HSP_UUID_LE(0x01);
const uint8_t hsp_imu_data_uuid_le[16] = HSP_UUID_LE(0x02);
const uint8_t hsp_sensor_info_uuid_le[16] = HSP_UUID_LE(0x03);
const uint8_t hsp_control_uuid_le[16] = HSP_UUID_LE(0x04);

/* float must be IEEE-754 binary32 for the sensor-info scales */
typedef char hsp_float_is_32_bits[(sizeof(float) == 4) ? 1 : -1];

static uint8_t *put_u16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v & 0xFFu);
    p[1] = (uint8_t)(v >> 8);
    return p + 2;
}

static uint8_t *put_u32(uint8_t *p, uint32_t v) {
    p = put_u16(p, (uint16_t)(v & 0xFFFFu));
    return put_u16(p, (uint16_t)(v >> 16));
}

/* int16 -> two's complement bytes without relying on implementation-defined conversions */
static uint8_t *put_i16(uint8_t *p, int16_t v) {
    uint16_t u = (v < 0) ? (uint16_t)(65536L + (long)v) : (uint16_t)v;
    return put_u16(p, u);
}

static uint8_t *put_f32(uint8_t *p, float v) {
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    return put_u32(p, bits);
}

static uint8_t *put_axes(uint8_t *p, const int16_t axes[3]) {
    p = put_i16(p, axes[0]);
    p = put_i16(p, axes[1]);
    return put_i16(p, axes[2]);
}

static uint16_t get_u16(const uint8_t *p) { return (uint16_t)(p[0] | ((uint16_t)p[1] << 8)); }

size_t hsp_max_samples_per_packet(uint16_t mtu, int with_mag) {
    size_t sample_size = with_mag ? HSP_SAMPLE_MAG_SIZE : HSP_SAMPLE_SIZE;
    size_t fit;
    if (mtu < HSP_ATT_NOTIFY_OVERHEAD + HSP_HEADER_SIZE) {
        return 0;
    }
    fit = ((size_t)mtu - HSP_ATT_NOTIFY_OVERHEAD - HSP_HEADER_SIZE) / sample_size;
    return fit > HSP_MAX_COUNT ? HSP_MAX_COUNT : fit;
}

int hsp_encode_imu_packet(uint8_t *buf, size_t buf_len, uint16_t seq, uint32_t t0_us,
                          const hsp_sample_t *samples, size_t count, int with_mag) {
    size_t sample_size = with_mag ? HSP_SAMPLE_MAG_SIZE : HSP_SAMPLE_SIZE;
    size_t total = HSP_HEADER_SIZE + count * sample_size;
    uint8_t *p = buf;
    size_t i;
    if (buf == NULL || samples == NULL) {
        return HSP_ERR_NULL;
    }
    if (count < 1 || count > HSP_MAX_COUNT) {
        return HSP_ERR_BAD_COUNT;
    }
    if (buf_len < total) {
        return HSP_ERR_BUFFER_TOO_SMALL;
    }
    *p++ = (uint8_t)HSP_PROTOCOL_VERSION;
    *p++ = (uint8_t)(count | (with_mag ? HSP_MAG_FLAG : 0u));
    p = put_u16(p, seq);
    p = put_u32(p, t0_us);
    for (i = 0; i < count; ++i) {
        p = put_axes(p, samples[i].acc);
        p = put_axes(p, samples[i].gyr);
        if (with_mag) {
            p = put_axes(p, samples[i].mag);
        }
    }
    return (int)total;
}

/* Length of the longest prefix of s, at most max bytes, that does not split a UTF-8 character */
static size_t utf8_prefix(const char *s, size_t max) {
    size_t n = 0;
    while (n < max && s[n] != '\0') {
        ++n;
    }
    if (s[n] != '\0') { /* cut: back off continuation bytes (10xxxxxx) of a split character */
        while (n > 0 && ((uint8_t)s[n] & 0xC0u) == 0x80u) {
            --n;
        }
    }
    return n;
}

int hsp_encode_sensor_info(uint8_t *buf, size_t buf_len, const hsp_sensor_info_t *info) {
    uint8_t *p = buf;
    size_t model_len;
    if (buf == NULL || info == NULL) {
        return HSP_ERR_NULL;
    }
    model_len = info->model == NULL ? 0 : utf8_prefix(info->model, HSP_MODEL_MAX_BYTES);
    if (buf_len < HSP_INFO_FIXED_SIZE + model_len) {
        return HSP_ERR_BUFFER_TOO_SMALL;
    }
    *p++ = (uint8_t)HSP_PROTOCOL_VERSION;
    *p++ = info->flags;
    p = put_u16(p, info->sample_rate_hz);
    *p++ = info->acc_range_g;
    p = put_u16(p, info->gyr_range_dps);
    p = put_f32(p, info->acc_scale_mps2_per_lsb);
    p = put_f32(p, info->gyr_scale_radps_per_lsb);
    p = put_f32(p, info->mag_scale_ut_per_lsb);
    *p++ = info->axis_convention;
    if (model_len > 0) {
        memcpy(p, info->model, model_len);
    }
    return (int)(HSP_INFO_FIXED_SIZE + model_len);
}

static int acc_range_ok(uint8_t g) { return g == 2 || g == 4 || g == 8 || g == 16; }

static int gyr_range_ok(uint16_t dps) {
    return dps == 125 || dps == 250 || dps == 500 || dps == 1000 || dps == 2000;
}

static size_t control_length(uint8_t opcode) {
    switch (opcode) {
    case HSP_OP_START_STREAMING:
    case HSP_OP_STOP_STREAMING:
        return 1;
    case HSP_OP_SET_SAMPLE_RATE:
        return 3;
    case HSP_OP_SET_RANGES:
        return 4;
    default:
        return 0;
    }
}

uint8_t hsp_parse_control(const uint8_t *data, size_t len, hsp_control_t *out) {
    hsp_control_t cmd;
    if (data == NULL || out == NULL || len == 0) {
        return HSP_ATT_ERR_INVALID_LENGTH;
    }
    memset(&cmd, 0, sizeof cmd);
    cmd.opcode = data[0];
    if (control_length(cmd.opcode) == 0) {
        return HSP_ATT_ERR_UNKNOWN_OPCODE;
    }
    if (len != control_length(cmd.opcode)) {
        return HSP_ATT_ERR_INVALID_LENGTH;
    }
    if (cmd.opcode == HSP_OP_SET_SAMPLE_RATE) {
        cmd.sample_rate_hz = get_u16(data + 1);
        if (cmd.sample_rate_hz < HSP_RATE_MIN_HZ || cmd.sample_rate_hz > HSP_RATE_MAX_HZ) {
            return HSP_ATT_ERR_VALUE_OUT_OF_RANGE;
        }
    } else if (cmd.opcode == HSP_OP_SET_RANGES) {
        cmd.acc_range_g = data[1];
        cmd.gyr_range_dps = get_u16(data + 2);
        if (!acc_range_ok(cmd.acc_range_g) || !gyr_range_ok(cmd.gyr_range_dps)) {
            return HSP_ATT_ERR_VALUE_OUT_OF_RANGE;
        }
    }
    *out = cmd;
    return HSP_ATT_OK;
}
