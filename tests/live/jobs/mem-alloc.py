#!/usr/bin/env python3
"""Allocate and touch ~1 GB, hold it until DURATION seconds (default 15) have passed."""
import os
import time

start = time.monotonic()
block = bytearray(1 << 30)
for i in range(0, len(block), 4096):  # touch every page so it is resident
    block[i] = 1
time.sleep(max(0.0, float(os.environ.get("DURATION", 15)) - (time.monotonic() - start)))
