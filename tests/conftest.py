"""Shared fixtures. Rasa telemetry is off for every process the tests start."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

os.environ["RASA_TELEMETRY_ENABLED"] = "false"
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
# No gateway started by a test imports calls from the internet (channels/refresh.py).
os.environ.setdefault("APP_REFRESH_ENABLED", "false")
