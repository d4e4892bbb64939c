"""Rasa's own checks: the training data validates and the test stories pass."""

import subprocess
from pathlib import Path

import pytest

from stack import BOT_DIR, RASA_BIN, base_env, ensure_model

pytestmark = [pytest.mark.integration, pytest.mark.rasa, pytest.mark.slow]


def rasa(*args: str, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(RASA_BIN), *args],
        cwd=BOT_DIR, env=base_env(), capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def test_rasa_data_validate_is_clean() -> None:
    result = rasa("data", "validate", "--domain", "domain", "--data", "data",
                  "--config", "config.yml")  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "conflict" not in result.stdout.lower().replace("no story structure conflicts", "")


def test_every_flow_passes_its_test_stories(tmp_path: Path) -> None:
    model = ensure_model()
    stories = sorted((BOT_DIR / "tests").glob("test_stories_*.yml"))
    assert {p.stem for p in stories} >= {"test_stories_en", "test_stories_hr"}
    result = rasa(
        "test", "core", "--model", str(model), "--stories", "tests",
        "--fail-on-prediction-errors", "--out", str(tmp_path),
    )  # fmt: skip
    failed = tmp_path / "failed_test_stories.yml"
    details = failed.read_text("utf-8")[:4000] if failed.exists() else result.stdout[-4000:]
    assert result.returncode == 0, details
