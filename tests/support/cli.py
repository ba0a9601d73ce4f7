"""Helpers for tests that drive the CLI through Flask's runner."""

from __future__ import annotations

import json
from typing import Any


def cli_json(result: Any) -> Any:
    """The JSON a successful ``--json`` command printed (the command must have exited 0)."""
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)
