"""The riskiest tests as CI's first run on a fresh machine sees them: pytest's temp folders under a path full
of digits (``0`` included, as ``pytest-0`` is there), no cache provider. Tests that write temp paths into
text that a checker then reads once passed only where pytest had run before."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RISKY = [
    "plugins/verikit-math/tests/test_math_checker.py",
    "plugins/verikit-math/tests/test_gsm8k_checker.py",
    "tests/test_cli_errors.py",
    "tests/test_jsonl.py",
]


@pytest.mark.slow
def test_the_riskiest_tests_pass_under_a_temp_folder_full_of_digits(tmp_path):
    base = tmp_path / "0" / "00-1-0" / "pytest-0"
    base.parent.mkdir(parents=True)  # pytest makes only the last folder
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--basetemp={base}", *RISKY],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout.splitlines()[-1]
