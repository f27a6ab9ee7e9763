// hipsense reference firmware for the Seeed Studio XIAO nRF52840 Sense (LSM6DS3TR-C IMU).
//
// Arduino IDE, board package "Seeed nRF52 Boards" (Bluefruit stack, NOT the mbed one),
// board "Seeed XIAO nRF52840 Sense", library "Seeed Arduino LSM6DS3".
// Copy ../../c/hipsense_protocol.{h,c} into this folder's src/ before building (see README.md).
// Implements firmware_protocol/PROTOCOL.md, protocol version 1.

#include <bluefruit.h>
#include <LSM6DS3.h>
#include <Wire.h>

#include "src/hipsense_protocol.h"

static const char *FIRMWARE_REVISION = "1.0.0+proto1";
static const char *MODEL = "XIAO-nRF52840S";
static const uint32_t MAX_BATCH_AGE_US = 40000;  // never hold a sample longer than this
static const uint16_t ODRS_HZ[] = {26, 52, 104, 208, 416};
static const uint8_t LSM6DS3_STATUS_REG = 0x1E;  // bit 1: new gyroscope sample
static const uint8_t LSM6DS3_OUTX_L_G = 0x22;    // gyr xyz then acc xyz, 12 bytes

LSM6DS3 imu(I2C_MODE, 0x6A);
BLEService hipsenseService(hsp_service_uuid_le);
BLECharacteristic imuChr(hsp_imu_data_uuid_le);
BLECharacteristic infoChr(hsp_sensor_info_uuid_le);
BLECharacteristic controlChr(hsp_control_uuid_le);
BLEDis bledis;
BLEBas blebas;

static volatile bool streaming = false;
static volatile bool imuConfigDirty = false;
static uint16_t rateHz = 104;
static uint8_t accRangeG = 16;
static uint16_t gyrRangeDps = 2000;
static uint16_t connHandle = BLE_CONN_HANDLE_INVALID;

static hsp_sample_t batch[HSP_MAX_COUNT];
static size_t batchCount = 0;
static uint16_t seq = 0;  // counts every sample the IMU produces, streamed or not
static uint32_t batchT0Us = 0;
static uint8_t lastBatteryPct = 255;

// ---------------------------------------------------------------- sensor set-up

static uint16_t nearestOdr(uint16_t requestedHz) {
  uint16_t best = ODRS_HZ[0];
  for (uint16_t odr : ODRS_HZ) {
    if (abs((int)odr - (int)requestedHz) < abs((int)best - (int)requestedHz)) best = odr;
  }
  return best;
}

// Datasheet sensitivities (LSM6DS3TR-C table 3): mg/LSB and mdps/LSB per full scale.
static float accMgPerLsb(uint8_t g) { return g == 2 ? 0.061f : g == 4 ? 0.122f : g == 8 ? 0.244f : 0.488f; }
static float gyrMdpsPerLsb(uint16_t dps) {
  switch (dps) {
    case 125: return 4.375f;
    case 250: return 8.75f;
    case 500: return 17.5f;
    case 1000: return 35.0f;
    default: return 70.0f;
  }
}

static void configureImu() {
  imu.settings.accelRange = accRangeG;
  imu.settings.gyroRange = gyrRangeDps;
  imu.settings.accelSampleRate = rateHz;
  imu.settings.gyroSampleRate = rateHz;
  imu.settings.accelBandWidth = rateHz >= 200 ? 200 : 100;
  imu.begin();
}

static void publishInfo() {
  uint8_t buf[HSP_INFO_MAX_SIZE];
  hsp_sensor_info_t info;
  info.flags = streaming ? HSP_INFO_STREAMING : 0;
  info.sample_rate_hz = rateHz;
  info.acc_range_g = accRangeG;
  info.gyr_range_dps = gyrRangeDps;
  info.acc_scale_mps2_per_lsb = accMgPerLsb(accRangeG) * 1e-3f * 9.80665f;
  info.gyr_scale_radps_per_lsb = gyrMdpsPerLsb(gyrRangeDps) * 1e-3f * 0.017453292f;
  info.mag_scale_ut_per_lsb = 0.15f;  // no magnetometer on this board
  info.axis_convention = HSP_AXIS_CONVENTION_BOARD;
  info.model = MODEL;
  int n = hsp_encode_sensor_info(buf, sizeof buf, &info);
  if (n > 0) infoChr.write(buf, (uint16_t)n);
}

// ---------------------------------------------------------------- control point

static void replyWrite(uint16_t conn, ble_gatts_evt_write_t *request, uint8_t attError) {
  ble_gatts_rw_authorize_reply_params_t reply;
  memset(&reply, 0, sizeof reply);
  reply.type = BLE_GATTS_AUTHORIZE_TYPE_WRITE;
  // SoftDevice GATT status = 0x0100 | ATT error code; 0 accepts the write
  reply.params.write.gatt_status = attError == HSP_ATT_OK ? BLE_GATT_STATUS_SUCCESS : (uint16_t)(0x0100 | attError);
  reply.params.write.update = 1;
  reply.params.write.len = request->len;
  reply.params.write.p_data = request->data;
  sd_ble_gatts_rw_authorize_reply(conn, &reply);
}

static uint8_t applyControl(const hsp_control_t &cmd) {
  switch (cmd.opcode) {
    case HSP_OP_START_STREAMING:
      streaming = true;
      break;
    case HSP_OP_STOP_STREAMING:
      streaming = false;
      break;
    case HSP_OP_SET_SAMPLE_RATE:
      if (streaming) return HSP_ATT_ERR_BUSY_STREAMING;
      rateHz = nearestOdr(cmd.sample_rate_hz);
      imuConfigDirty = true;
      break;
    case HSP_OP_SET_RANGES:
      if (streaming) return HSP_ATT_ERR_BUSY_STREAMING;
      accRangeG = cmd.acc_range_g;
      gyrRangeDps = cmd.gyr_range_dps;
      imuConfigDirty = true;
      break;
  }
  return HSP_ATT_OK;
}

static void onControlWrite(uint16_t conn, BLECharacteristic *chr, ble_gatts_evt_write_t *request) {
  (void)chr;
  hsp_control_t cmd;
  uint8_t status = hsp_parse_control(request->data, request->len, &cmd);
  if (status == HSP_ATT_OK) status = applyControl(cmd);
  replyWrite(conn, request, status);
  if (status == HSP_ATT_OK) publishInfo();  // the host re-reads rate and ranges after a write
}

// ---------------------------------------------------------------- connection

static void onConnect(uint16_t conn) {
  connHandle = conn;
  Bluefruit.Connection(conn)->requestMtuExchange(247);
}

static void onDisconnect(uint16_t conn, uint8_t reason) {
  (void)conn;
  (void)reason;
  connHandle = BLE_CONN_HANDLE_INVALID;
  streaming = false;  // seq and the clock run on: the next connection sees a gap, not a restart
  publishInfo();
}

static void startAdvertising() {
  uint8_t mac[6];
  char name[16];
  Bluefruit.getAddr(mac);  // little-endian: mac[1], mac[0] are the last two address bytes
  snprintf(name, sizeof name, "%s%02X%02X", HSP_LOCAL_NAME_PREFIX, mac[1], mac[0]);
  Bluefruit.setName(name);
  Bluefruit.Advertising.addFlags(BLE_GAP_ADV_FLAGS_LE_ONLY_GENERAL_DISC_MODE);
  Bluefruit.Advertising.addService(hipsenseService);
  Bluefruit.ScanResponse.addName();
  Bluefruit.Advertising.restartOnDisconnect(true);
  Bluefruit.Advertising.setInterval(32, 244);  // 20 ms fast, then 152.5 ms
  Bluefruit.Advertising.setFastTimeout(30);
  Bluefruit.Advertising.start(0);
}

static void setupBle() {
  Bluefruit.configPrphBandwidth(BANDWIDTH_MAX);  // MTU 247 and data length extension
  Bluefruit.begin();
  Bluefruit.setTxPower(4);
  Bluefruit.Periph.setConnInterval(6, 12);  // 7.5-15 ms: room for 416 Hz even at MTU 23
  Bluefruit.Periph.setConnectCallback(onConnect);
  Bluefruit.Periph.setDisconnectCallback(onDisconnect);

  bledis.setManufacturer("Seeed Studio / hipsense");
  bledis.setModel(MODEL);
  bledis.setFirmwareRev(FIRMWARE_REVISION);
  bledis.begin();
  blebas.begin();

  hipsenseService.begin();
  imuChr.setProperties(CHR_PROPS_NOTIFY);
  imuChr.setPermission(SECMODE_OPEN, SECMODE_NO_ACCESS);
  imuChr.setMaxLen(244);
  imuChr.begin();
  infoChr.setProperties(CHR_PROPS_READ);
  infoChr.setPermission(SECMODE_OPEN, SECMODE_NO_ACCESS);
  infoChr.setMaxLen(HSP_INFO_MAX_SIZE);
  infoChr.begin();
  controlChr.setProperties(CHR_PROPS_WRITE);
  controlChr.setPermission(SECMODE_NO_ACCESS, SECMODE_OPEN);
  controlChr.setMaxLen(8);
  controlChr.setWriteAuthorizeCallback(onControlWrite);
  controlChr.begin();
  publishInfo();
}

// ---------------------------------------------------------------- battery

static void updateBattery() {
  // 1 MΩ / 510 kΩ divider on P0.31, enabled by driving VBAT_ENABLE low. Keep it low:
  // left high, the pin would see the full battery voltage.
  uint32_t raw = analogRead(PIN_VBAT);                  // 12 bit, 3.6 V reference
  float volts = raw * 3.6f / 4095.0f * 1510.0f / 510.0f;
  int pct = (int)((volts - 3.3f) / (4.2f - 3.3f) * 100.0f);  // rough LiPo curve
  uint8_t level = (uint8_t)constrain(pct, 0, 100);
  if (level != lastBatteryPct) {
    lastBatteryPct = level;
    blebas.write(level);
    blebas.notify(level);
  }
}

// ---------------------------------------------------------------- streaming

static void flushBatch() {
  if (batchCount == 0) return;
  uint8_t buf[HSP_HEADER_SIZE + HSP_MAX_COUNT * HSP_SAMPLE_SIZE];
  uint16_t firstSeq = (uint16_t)(seq - batchCount);  // seq is already past the last sample
  int n = hsp_encode_imu_packet(buf, sizeof buf, firstSeq, batchT0Us, batch, batchCount, 0);
  if (n > 0) imuChr.notify(buf, (uint16_t)n);  // a full TX queue drops it: the host sees a gap
  batchCount = 0;
}

static size_t samplesPerPacket() {
  if (connHandle == BLE_CONN_HANDLE_INVALID) return 1;
  size_t n = hsp_max_samples_per_packet(Bluefruit.Connection(connHandle)->getMtu(), 0);
  return n == 0 ? 1 : n;
}

static bool readSample(hsp_sample_t *sample) {
  uint8_t status = 0;
  uint8_t raw[12];
  imu.readRegister(&status, LSM6DS3_STATUS_REG);
  if (!(status & 0x02)) return false;
  imu.readRegisterRegion(raw, LSM6DS3_OUTX_L_G, sizeof raw);
  for (int axis = 0; axis < 3; ++axis) {
    sample->gyr[axis] = (int16_t)(raw[2 * axis] | (raw[2 * axis + 1] << 8));
    sample->acc[axis] = (int16_t)(raw[6 + 2 * axis] | (raw[6 + 2 * axis + 1] << 8));
  }
  return true;
}

static void pollImu() {
  hsp_sample_t sample;
  if (!readSample(&sample)) return;
  uint32_t nowUs = micros();  // wraps after 71.6 min, exactly like t0_us
  seq++;                      // so a pause shows up as a gap consistent with the time gap
  if (!streaming || connHandle == BLE_CONN_HANDLE_INVALID) {
    batchCount = 0;
    return;
  }
  if (batchCount == 0) batchT0Us = nowUs;
  batch[batchCount++] = sample;
  if (batchCount >= samplesPerPacket() || nowUs - batchT0Us >= MAX_BATCH_AGE_US) flushBatch();
}

void setup() {
#ifdef PIN_LSM6DS3TR_C_POWER
  pinMode(PIN_LSM6DS3TR_C_POWER, OUTPUT);  // the IMU's supply is a GPIO on the Sense
  digitalWrite(PIN_LSM6DS3TR_C_POWER, HIGH);
  delay(10);
#endif
  pinMode(VBAT_ENABLE, OUTPUT);
  digitalWrite(VBAT_ENABLE, LOW);
  analogReadResolution(12);
  configureImu();
  setupBle();
  startAdvertising();
}

void loop() {
  static uint32_t lastBatteryMs = 0;
  if (imuConfigDirty) {
    imuConfigDirty = false;
    configureImu();
  }
  pollImu();
  if (millis() - lastBatteryMs >= 60000 || lastBatteryPct == 255) {
    lastBatteryMs = millis();
    updateBattery();
  }
}
