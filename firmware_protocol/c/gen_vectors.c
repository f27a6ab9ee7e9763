/*
 * Host conformance program for the C reference encoder.
 *
 * Reads commands from stdin, one per line, and prints one answer line each:
 *   const                                      -> "const NAME VALUE" lines, then "end"
 *   imu NAME SEQ T0_US WITH_MAG COUNT V...     -> "imu NAME HEX" or "imu NAME error CODE"
 *       V: per sample acc x y z, gyr x y z (and mag x y z when WITH_MAG is 1)
 *   info NAME FLAGS RATE ACC_G GYR_DPS ACC_SCALE GYR_SCALE MAG_SCALE AXES MODEL_HEX
 *                                              -> "info NAME HEX" or "info NAME error CODE"
 *   ctrl NAME HEX ("-" for empty)              -> "ctrl NAME ok OPCODE RATE ACC_G GYR_DPS"
 *                                                 or "ctrl NAME error ATT_CODE"
 *   maxs MTU WITH_MAG                          -> "maxs MTU WITH_MAG SAMPLES"
 * tests/protocol/test_protocol_c_conformance.py feeds it the golden vectors' inputs.
 * Build: cc -std=c99 -Wall -Wextra -pedantic -Werror gen_vectors.c hipsense_protocol.c
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hipsense_protocol.h"

#define LINE_MAX_CHARS 32768

static void print_hex(const uint8_t *data, size_t len) {
    size_t i;
    for (i = 0; i < len; ++i) {
        printf("%02x", data[i]);
    }
}

static long next_long(void) {
    const char *tok = strtok(NULL, " \t\r\n");
    return tok == NULL ? 0 : strtol(tok, NULL, 10);
}

static size_t parse_hex(const char *hex, uint8_t *out, size_t max) {
    size_t n = 0;
    unsigned int byte;
    if (hex == NULL || strcmp(hex, "-") == 0) {
        return 0;
    }
    while (n < max && hex[2 * n] != '\0' && sscanf(hex + 2 * n, "%2x", &byte) == 1) {
        out[n++] = (uint8_t)byte;
    }
    return n;
}

static void print_uuid(const char *name, const uint8_t le[16]) {
    int i;
    printf("const %s ", name);
    for (i = 15; i >= 0; --i) {
        printf("%02x%s", le[i], (i == 12 || i == 10 || i == 8 || i == 6) ? "-" : "");
    }
    printf("\n");
}

static void do_const(void) {
    printf("const HSP_PROTOCOL_VERSION %u\n", HSP_PROTOCOL_VERSION);
    printf("const HSP_SERVICE_UUID_STR %s\n", HSP_SERVICE_UUID_STR);
    printf("const HSP_IMU_DATA_UUID_STR %s\n", HSP_IMU_DATA_UUID_STR);
    printf("const HSP_SENSOR_INFO_UUID_STR %s\n", HSP_SENSOR_INFO_UUID_STR);
    printf("const HSP_CONTROL_UUID_STR %s\n", HSP_CONTROL_UUID_STR);
    printf("const HSP_LOCAL_NAME_PREFIX %s\n", HSP_LOCAL_NAME_PREFIX);
    print_uuid("hsp_service_uuid_le", hsp_service_uuid_le);
    print_uuid("hsp_imu_data_uuid_le", hsp_imu_data_uuid_le);
    print_uuid("hsp_sensor_info_uuid_le", hsp_sensor_info_uuid_le);
    print_uuid("hsp_control_uuid_le", hsp_control_uuid_le);
    printf("const HSP_HEADER_SIZE %u\n", HSP_HEADER_SIZE);
    printf("const HSP_COUNT_MASK %u\n", HSP_COUNT_MASK);
    printf("const HSP_RESERVED_BIT %u\n", HSP_RESERVED_BIT);
    printf("const HSP_MAG_FLAG %u\n", HSP_MAG_FLAG);
    printf("const HSP_MAX_COUNT %u\n", HSP_MAX_COUNT);
    printf("const HSP_SAMPLE_SIZE %u\n", HSP_SAMPLE_SIZE);
    printf("const HSP_SAMPLE_MAG_SIZE %u\n", HSP_SAMPLE_MAG_SIZE);
    printf("const HSP_ATT_NOTIFY_OVERHEAD %u\n", HSP_ATT_NOTIFY_OVERHEAD);
    printf("const HSP_INFO_FIXED_SIZE %u\n", HSP_INFO_FIXED_SIZE);
    printf("const HSP_MODEL_MAX_BYTES %u\n", HSP_MODEL_MAX_BYTES);
    printf("const HSP_INFO_MAG_AVAILABLE %u\n", HSP_INFO_MAG_AVAILABLE);
    printf("const HSP_INFO_STREAMING %u\n", HSP_INFO_STREAMING);
    printf("const HSP_OP_START_STREAMING %u\n", HSP_OP_START_STREAMING);
    printf("const HSP_OP_STOP_STREAMING %u\n", HSP_OP_STOP_STREAMING);
    printf("const HSP_OP_SET_SAMPLE_RATE %u\n", HSP_OP_SET_SAMPLE_RATE);
    printf("const HSP_OP_SET_RANGES %u\n", HSP_OP_SET_RANGES);
    printf("const HSP_RATE_MIN_HZ %u\n", HSP_RATE_MIN_HZ);
    printf("const HSP_RATE_MAX_HZ %u\n", HSP_RATE_MAX_HZ);
    printf("const HSP_ATT_ERR_UNKNOWN_OPCODE %u\n", HSP_ATT_ERR_UNKNOWN_OPCODE);
    printf("const HSP_ATT_ERR_INVALID_LENGTH %u\n", HSP_ATT_ERR_INVALID_LENGTH);
    printf("const HSP_ATT_ERR_VALUE_OUT_OF_RANGE %u\n", HSP_ATT_ERR_VALUE_OUT_OF_RANGE);
    printf("const HSP_ATT_ERR_BUSY_STREAMING %u\n", HSP_ATT_ERR_BUSY_STREAMING);
    printf("end\n");
}

static void read_axes(int16_t axes[3]) {
    axes[0] = (int16_t)next_long();
    axes[1] = (int16_t)next_long();
    axes[2] = (int16_t)next_long();
}

static void do_imu(const char *name) {
    static hsp_sample_t samples[HSP_MAX_COUNT + 1];
    uint8_t buf[HSP_MAX_PACKET_SIZE];
    uint16_t seq = (uint16_t)next_long();
    uint32_t t0_us = (uint32_t)strtoul(strtok(NULL, " \t\r\n"), NULL, 10);
    int with_mag = (int)next_long();
    size_t count = (size_t)next_long();
    size_t i;
    int written;
    memset(samples, 0, sizeof samples);
    for (i = 0; i < count && i <= HSP_MAX_COUNT; ++i) {
        read_axes(samples[i].acc);
        read_axes(samples[i].gyr);
        if (with_mag) {
            read_axes(samples[i].mag);
        }
    }
    written = hsp_encode_imu_packet(buf, sizeof buf, seq, t0_us, samples, count, with_mag);
    printf("imu %s ", name);
    if (written < 0) {
        printf("error %d\n", written);
        return;
    }
    print_hex(buf, (size_t)written);
    printf("\n");
}

static void do_info(const char *name) {
    char model[HSP_MODEL_MAX_BYTES * 4 + 1];
    uint8_t buf[HSP_INFO_MAX_SIZE];
    hsp_sensor_info_t info;
    size_t model_len;
    int written;
    info.flags = (uint8_t)next_long();
    info.sample_rate_hz = (uint16_t)next_long();
    info.acc_range_g = (uint8_t)next_long();
    info.gyr_range_dps = (uint16_t)next_long();
    info.acc_scale_mps2_per_lsb = strtof(strtok(NULL, " \t\r\n"), NULL);
    info.gyr_scale_radps_per_lsb = strtof(strtok(NULL, " \t\r\n"), NULL);
    info.mag_scale_ut_per_lsb = strtof(strtok(NULL, " \t\r\n"), NULL);
    info.axis_convention = (uint8_t)next_long();
    model_len = parse_hex(strtok(NULL, " \t\r\n"), (uint8_t *)model, sizeof model - 1);
    model[model_len] = '\0';
    info.model = model;
    written = hsp_encode_sensor_info(buf, sizeof buf, &info);
    printf("info %s ", name);
    if (written < 0) {
        printf("error %d\n", written);
        return;
    }
    print_hex(buf, (size_t)written);
    printf("\n");
}

static void do_ctrl(const char *name) {
    uint8_t data[64];
    size_t len = parse_hex(strtok(NULL, " \t\r\n"), data, sizeof data);
    hsp_control_t cmd;
    uint8_t status = hsp_parse_control(data, len, &cmd);
    if (status != HSP_ATT_OK) {
        printf("ctrl %s error %u\n", name, status);
        return;
    }
    printf("ctrl %s ok %u %u %u %u\n", name, cmd.opcode, cmd.sample_rate_hz, cmd.acc_range_g,
           cmd.gyr_range_dps);
}

static void do_maxs(void) {
    uint16_t mtu = (uint16_t)next_long();
    int with_mag = (int)next_long();
    printf("maxs %u %d %lu\n", mtu, with_mag,
           (unsigned long)hsp_max_samples_per_packet(mtu, with_mag));
}

int main(void) {
    static char line[LINE_MAX_CHARS];
    while (fgets(line, sizeof line, stdin) != NULL) {
        const char *verb = strtok(line, " \t\r\n");
        if (verb == NULL) {
            continue;
        }
        if (strcmp(verb, "const") == 0) {
            do_const();
        } else if (strcmp(verb, "maxs") == 0) {
            do_maxs();
        } else {
            const char *name = strtok(NULL, " \t\r\n");
            if (name == NULL) {
                name = "?";
            }
            if (strcmp(verb, "imu") == 0) {
                do_imu(name);
            } else if (strcmp(verb, "info") == 0) {
                do_info(name);
            } else if (strcmp(verb, "ctrl") == 0) {
                do_ctrl(name);
            } else {
                printf("unknown %s\n", verb);
            }
        }
    }
    return 0;
}
