"""The quick start's first command: `lti-badges serve` on its embedded default."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.support.servers import free_port


def test_serve_starts_on_sqlite_with_generated_keys_and_prints_admin_urls(tmp_path):
    port = free_port()
    exe = Path(sys.executable).with_name("lti-badges")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("LTI_BADGES_") and k != "DATABASE_URL"}
    # No LTI_BADGES_BASE_URL: the public URL follows --port.
    proc = subprocess.Popen([str(exe), "serve", "--port", str(port)], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        health = None
        while time.monotonic() < deadline:
            try:
                health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        assert health is not None and health.status_code == 200
        jwks = requests.get(f"http://127.0.0.1:{port}/lti/jwks", timeout=5).json()
        assert len(jwks["keys"]) == 1
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=20)
    assert f"http://127.0.0.1:{port}/lti/register" in output
    assert f"http://127.0.0.1:{port}/lti/jwks" in output
    assert "/lti/login" in output and "/lti/launch" in output
    assert (tmp_path / "instance" / "lti-badges.sqlite3").exists()
    assert "https://" in output  # the production note tells how to reach an LMS
    assert (tmp_path / "instance" / "secret_key").exists()
