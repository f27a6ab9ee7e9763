"""Pure signal processing (numpy/scipy/vqf): orientation, calibration, angles, reps, quality."""
