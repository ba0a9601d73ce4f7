"""The layers hold: the pure cores import no framework, database or upper layer, and every
refusal a person can act on is one kind of error (lti_badges.errors.UserError)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "lti_badges"
# What criteria/ and openbadges/ may import from the project: each other and the base
# modules every layer shares.
PURE_ALLOWED = ("lti_badges.criteria", "lti_badges.openbadges", "lti_badges.clock")
FORBIDDEN_THIRD_PARTY = ("flask", "flask_sqlalchemy", "flask_babel", "sqlalchemy", "requests")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's package
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                found.append(".".join(base + ([node.module] if node.module else [])))
            else:
                found.append(node.module or "")
    return found


@pytest.mark.parametrize("core", ["criteria", "openbadges"])
def test_pure_cores_import_no_framework_database_or_upper_layer(core):
    bad = []
    for path in sorted((PACKAGE / core).rglob("*.py")):
        for name in _imports(path):
            top = name.split(".")[0]
            if top in FORBIDDEN_THIRD_PARTY:
                bad.append((path.name, name))
            elif top == "lti_badges" and not name.startswith(PURE_ALLOWED):
                bad.append((path.name, name))
    assert not bad, bad


def test_refusals_are_user_errors():
    from lti_badges.connectors import ConnectorError
    from lti_badges.errors import UserError
    from lti_badges.issuing import AlreadyAwarded, IssuingError
    from lti_badges.lti.dynamic_registration import RegistrationError
    from lti_badges.lti.launch import LaunchError
    from lti_badges.lti.notices import NoticeError
    from lti_badges.services.moodle_pairing import PairingError
    from lti_badges.web.errors import ApiError

    for kind in (ConnectorError, IssuingError, AlreadyAwarded, RegistrationError, LaunchError,
                 NoticeError, PairingError, ApiError):
        assert issubclass(kind, UserError), kind
    assert (NoticeError("x").status, NoticeError("x").code) == (401, "invalid_notice")
    assert RegistrationError("x", 403).code == "registration_failed"
    e = PairingError("gone", 410, "expired")
    assert (e.message, e.status, e.code) == ("gone", 410, "expired")
