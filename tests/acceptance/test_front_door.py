"""The front door as a new user meets it: a venv made by `python3 -m venv` (the pip that Python
ships, never upgraded by hand), then the Makefile's own install step, in a folder holding only what
that step reads. Python 3.11's bundled pip (23.2) cannot install the hash-checked lock by itself."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.slow

INSTALL_INPUTS = ("Makefile", "requirements-bootstrap.lock", "requirements-dev.lock")


def system_python() -> Path:
    """The interpreter this venv was made from: what `python3` is on a new user's machine."""
    return Path(sys.base_prefix) / "bin" / "python3"


def test_the_makefile_installs_the_lock_into_a_venv_made_by_python(tmp_path):
    for name in INSTALL_INPUTS:
        shutil.copy(ROOT / name, tmp_path / name)
    made = subprocess.run(
        ["make", ".venv/.installed", f"PYTHON={system_python()}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert made.returncode == 0, made.stdout[-2000:] + made.stderr[-2000:]

    python = tmp_path / ".venv" / "bin" / "python"
    imports = "import functions_framework, psycopg, trafilatura, justext, lxml_html_clean, pgserver, pytest"
    checked = subprocess.run([python, "-c", imports], capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stderr
    # Every package the lock names, at the version it names (pip's own check of the result).
    consistent = subprocess.run([python, "-m", "pip", "check"], capture_output=True, text=True, timeout=120)
    assert consistent.returncode == 0, consistent.stdout


def test_what_a_deploy_ships_installs_and_every_function_imports(tmp_path):
    """deploy.sh ships requirements.lock as each function's requirements.txt; Cloud Functions'
    builder installs it with its own pip, which must be 23.3 or later. Here: the pinned bootstrap
    pip in a venv made by Python, then only that file, then each function's entry point imported."""
    venv = tmp_path / "venv"
    subprocess.run([system_python(), "-m", "venv", venv], check=True, timeout=120)
    pip = [venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run(
        [*pip, "--require-hashes", "-r", ROOT / "requirements-bootstrap.lock"], check=True, timeout=300
    )
    shipped = subprocess.run(
        [*pip, "-r", ROOT / "requirements.lock"], capture_output=True, text=True, timeout=600
    )
    assert shipped.returncode == 0, shipped.stderr[-2000:]

    functions = sorted(p.parent.name for p in (ROOT / "functions").glob("*/main.py"))
    program = (
        "import importlib.util, sys\n"
        "for name in sys.argv[1:]:\n"
        "    spec = importlib.util.spec_from_file_location(name, f'functions/{name}/main.py')\n"
        "    spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "WEBHOOK_SECRET": "x" * 32,
        "UNSUBSCRIBE_SECRET": "y" * 32,
    }
    imported = subprocess.run(
        [venv / "bin" / "python", "-c", program, *functions],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert imported.returncode == 0, imported.stderr[-2000:]
