"""Where samples come from: live BLE sensors (``ble``), and files (CSV import, replay)."""
