"""A new user's install: `python3 -m venv v && v/bin/pip install -r requirements.txt`, with the pip
that Python 3.11 bundles (no upgrade), imports every module of every function and scrapes a page
(trafilatura once failed to import that way: justext's lxml[html_clean] extra was missed)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.slow

CHECK = r"""
import importlib, pkgutil, runpy, sys
import shared
for module in pkgutil.walk_packages(shared.__path__, "shared."):
    importlib.import_module(module.name)
for name in sys.argv[1:]:
    runpy.run_path(f"functions/{name}/main.py")
from shared.discovery import summary as summaries
summary = summaries.page_summary(
    "<html><head><title>Sunrise Yoga</title></head><body><article><p>"
    + "Vinyasa and prenatal yoga by the ocean in Miami Beach. " * 20
    + "</p></article></body></html>", "https://sunrise.example/")
assert summary["title"] == "Sunrise Yoga" and "prenatal yoga" in summary["text"], summary
print("ok", len(list(pkgutil.walk_packages(shared.__path__))))
"""


def test_a_plain_install_of_requirements_txt_runs_every_function(tmp_path):
    from local.run import FUNCTIONS

    venv = tmp_path / "v"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = subprocess.run([venv / "bin" / "pip", "--version"], capture_output=True, text=True, check=True)
    bundled = subprocess.run(
        [sys.executable, "-c", "import ensurepip; print(ensurepip.version())"], capture_output=True, text=True
    ).stdout.strip()
    assert pip.stdout.startswith(f"pip {bundled} "), pip.stdout  # the bundled pip, not upgraded
    install = subprocess.run(
        [venv / "bin" / "pip", "install", "--quiet", "--disable-pip-version-check", "-r", "requirements.txt"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "DATA_DIR": str(tmp_path / "data"),
        "WEBHOOK_SECRET": "w" * 32,
        "UNSUBSCRIBE_SECRET": "u" * 32,
    }
    result = subprocess.run(
        [venv / "bin" / "python", "-c", CHECK, *FUNCTIONS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith("ok ")
