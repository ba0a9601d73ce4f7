"""Pytest-side access to the independent Open Badges 2.0 validator.

The validator (IMS ``openbadges`` 1.1.2) lives in its own virtualenv,
``.venv-obv`` at the repo root, made by ``tests/verifiers/install-ob2-validator.sh``
(CI runs it). We call ``ob2_validator_runner.py`` in that venv as a
subprocess; it serves the OB 2.0 JSON-LD context from the shared standards
directory, lets loopback URLs through and refuses every other URL.

Use::

    from tests.verifiers.ob2_validator import ob2_validator  # the fixture

    def test_x(ob2_validator):
        report = ob2_validator.validate("http://127.0.0.1:5000/ob/assertions/1",
                                        "learner@example.org")
        assert report["valid"], report["messages"]

or the plain function :func:`validate_ob2`. Inputs may be a URL, a JSON string
or mapping, a compact JWS, a path, or the bytes of a baked PNG/SVG. Several
inputs in one :func:`validate_ob2_many` call share one interpreter start-up.

If the venv is missing the fixture FAILS (it does not skip): run
``bash tests/verifiers/install-ob2-validator.sh``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
RUNNER = Path(__file__).resolve().with_name("ob2_validator_runner.py")
INSTALL_SCRIPT = "tests/verifiers/install-ob2-validator.sh"

BadgeInput = str | bytes | Path | Mapping[str, Any]


class OB2ValidatorMissing(RuntimeError):
    pass


def venv_dir() -> Path:
    return Path(os.environ.get("OBV_VENV") or REPO_ROOT / ".venv-obv")


def venv_python() -> Path:
    return venv_dir() / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def contexts_dir() -> Path:
    env = os.environ.get("LTI_BADGES_CONTEXTS_DIR")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "standards" / "contexts"


def ensure_available() -> Path:
    """The validator venv's python, or raise with what to do about it."""
    python = venv_python()
    if not python.exists():
        raise OB2ValidatorMissing(
            f"The Open Badges 2.0 validator venv is missing ({venv_dir()}). Run: bash {INSTALL_SCRIPT}"
        )
    if not (contexts_dir() / "index.json").is_file():
        raise OB2ValidatorMissing(
            f"No JSON-LD contexts at {contexts_dir()} (index.json). Set "
            "LTI_BADGES_CONTEXTS_DIR to the shared standards/contexts directory."
        )
    return python


def validate_ob2_many(
    items: Iterable[tuple[BadgeInput, str | None]], *, timeout: float = 120
) -> list[dict[str, Any]]:
    """Validate several (input, recipient_email) pairs in one validator run."""
    python = ensure_available()
    with tempfile.TemporaryDirectory(prefix="ob2-") as tmp:
        batch = []
        for n, (badge_input, email) in enumerate(items):
            batch.append({"input": _as_text(badge_input, Path(tmp), n), "recipient_email": email})
        if not batch:
            return []
        proc = subprocess.run(
            [str(python), str(RUNNER), "--contexts-dir", str(contexts_dir()), "--batch"],
            input=json.dumps(batch),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=REPO_ROOT,
            check=False,
        )
    if proc.returncode != 0:
        raise RuntimeError(f"ob2 validator runner failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    try:
        reports = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise RuntimeError(
            f"ob2 validator runner printed no JSON:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
        ) from exc
    return reports


def validate_ob2(badge_input: BadgeInput, recipient_email: str | None = None) -> dict[str, Any]:
    """Validate one OB 2.0 badge; the report has ``valid``, ``revoked``,
    ``messages`` (the validator's), ``blocked_urls`` and the full ``report``."""
    return validate_ob2_many([(badge_input, recipient_email)])[0]


def _as_text(badge_input: BadgeInput, tmp: Path, n: int) -> str:
    if isinstance(badge_input, Path):
        return str(badge_input.resolve())
    if isinstance(badge_input, bytes):
        suffix = ".png" if badge_input.startswith(b"\x89PNG") else ".svg"
        path = tmp / f"baked-{n}{suffix}"
        path.write_bytes(badge_input)
        return str(path)
    if isinstance(badge_input, Mapping):
        return json.dumps(badge_input)
    return badge_input


def describe(report: Mapping[str, Any]) -> str:
    """A short failure description for assertion messages."""
    lines = [f"valid={report.get('valid')} revoked={report.get('revoked')}"]
    if report.get("error"):
        lines.append(f"runner error: {report['error']}")
    for m in report.get("messages", []):
        lines.append(f"  {m.get('messageLevel')} {m.get('name')}: {m.get('result')}")
    if report.get("blocked_urls"):
        lines.append(f"  blocked URLs: {report['blocked_urls']}")
    return "\n".join(lines)


class OB2Validator:
    """What the fixture hands out."""

    def validate(self, badge_input: BadgeInput, recipient_email: str | None = None) -> dict[str, Any]:
        return validate_ob2(badge_input, recipient_email)

    def validate_many(self, items: Iterable[tuple[BadgeInput, str | None]]) -> list[dict[str, Any]]:
        return validate_ob2_many(items)

    describe = staticmethod(describe)


@pytest.fixture(scope="session")
def ob2_validator() -> OB2Validator:
    """The independent OB 2.0 validator; fails (never skips) when not installed."""
    problem = None
    try:
        ensure_available()
    except OB2ValidatorMissing as exc:
        problem = str(exc)
    if problem:
        pytest.fail(problem, pytrace=False)  # outside the except: no chained traceback
    return OB2Validator()
