"""The console's vendored npm files are exactly the ones recorded in shared/console/vendor.json
(package, version, the registry's tarball integrity, and each file's own digest)."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from tests.helpers import ROOT

MANIFEST = json.loads((ROOT / "shared" / "console" / "vendor.json").read_text())


@pytest.mark.parametrize("entry", MANIFEST["files"], ids=lambda e: e["package"])
def test_vendored_file_matches_its_recorded_digest(entry):
    data = (ROOT / entry["file"]).read_bytes()
    digest = "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()
    assert digest == entry["sha384"], f"{entry['file']} is not {entry['package']}@{entry['version']}'s"
    assert entry["tarball_integrity"].startswith("sha512-")


def test_every_vendored_file_is_in_the_manifest():
    listed = {entry["file"] for entry in MANIFEST["files"]}
    vendored = {p.relative_to(ROOT).as_posix() for p in (ROOT / "shared/console/static/vendor").iterdir()}
    assert vendored <= listed


def test_axe_is_never_served():
    from shared.console import routes

    assert not any("axe" in name for name in routes.FILES)
