"""Fixtures for the Open Badges document layer: pinned contexts from
shared/standards, keys, sample profiles and achievements, every credential
shape the builders produce, and the independent node verifier."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft201909Validator, FormatChecker

from lti_badges.openbadges import keys, ob3, status_list
from lti_badges.openbadges.contexts import ContextLoader

REPO = Path(__file__).resolve().parents[3]
STANDARDS = Path(os.environ.get("LTI_BADGES_STANDARDS_DIR", REPO.parent / "shared" / "standards"))
CONTEXTS_DIR = Path(os.environ.get("LTI_BADGES_CONTEXTS_DIR", STANDARDS / "contexts"))
SCHEMA_DIR = STANDARDS / "schema"
NODE_DIR = REPO / "tests" / "verifiers" / "node"
INSTALL_NODE = REPO / "tests" / "verifiers" / "install-node.sh"

BASE = "https://badges.example.edu"
ISSUER_ID = f"{BASE}/ob/issuers/1"
STATUS_URL = f"{BASE}/ob/status/1"
VALID_FROM = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
CREATED = "2024-05-01T12:00:00Z"
NOW = "2025-06-01T00:00:00Z"  # fixed "now" for verifiers, inside every validity window


@pytest.fixture(scope="session")
def contexts_dir() -> Path:
    if not (CONTEXTS_DIR / "index.json").is_file():
        pytest.fail(f"contexts not found at {CONTEXTS_DIR} (set LTI_BADGES_CONTEXTS_DIR)")
    return CONTEXTS_DIR


@pytest.fixture(scope="session")
def loader(contexts_dir: Path) -> ContextLoader:
    return ContextLoader(contexts_dir, allow_fetch=False).preload()


@pytest.fixture(scope="session")
def ed_key():
    return keys.generate_ed25519()


@pytest.fixture(scope="session")
def other_ed_key():
    return keys.generate_ed25519()


@pytest.fixture(scope="session")
def rsa_key():
    return keys.generate_rsa()


@pytest.fixture(scope="session")
def issuer() -> ob3.Profile:
    return ob3.Profile(
        id=ISSUER_ID,
        name="Example University",
        url="https://example.edu",
        email="badges@example.edu",
        description="Badges from Example University's courses",
        image=f"{BASE}/img/issuer-1.png",
    )


@pytest.fixture(scope="session")
def vm(ed_key) -> str:
    return keys.key_id(ISSUER_ID, ed_key)


@pytest.fixture(scope="session")
def achievement(issuer: ob3.Profile) -> ob3.Achievement:
    return ob3.Achievement(
        id=f"{BASE}/ob/badges/7",
        name="Quiz master",
        description="Scored at least 80 % in every quiz of Algebra 101.",
        criteria_narrative="Score **80 %** or more in *Quiz 1* and *Quiz 2*.",
        criteria_url=f"{BASE}/ob/badges/7#criteria",
        image=f"{BASE}/img/badge-7.png",
        image_caption="A golden star",
        alignments=[
            ob3.Alignment(
                "Linear equations",
                "https://frameworks.example.org/math/LE1",
                target_description="Solve linear equations",
                target_framework="Example math framework",
                target_code="LE1",
                target_type="CFItem",
            )
        ],
        tags=["algebra", "quiz"],
        language="en",
        version="1.0",
        creator=issuer,
        human_code="ALG-QM",
        field_of_study="Mathematics",
    )


def credential_shapes(issuer: ob3.Profile, achievement: ob3.Achievement) -> dict[str, dict[str, Any]]:
    """Every credential shape ob3.build_credential can produce, by name."""
    minimal_achievement = ob3.Achievement(
        id=f"{BASE}/ob/badges/8", name="Attended", description="Came.", criteria_narrative="Come."
    )
    common = {"issuer": issuer, "valid_from": VALID_FROM}
    return {
        "minimal-email": ob3.build_credential(
            credential_id=f"{BASE}/ob/credentials/1",
            achievement=minimal_achievement,
            recipient_email="learner@example.org",
            salt="pepper",
            credential_schema=False,
            **common,
        ),
        "subject-id": ob3.build_credential(
            credential_id=f"{BASE}/ob/credentials/2",
            achievement=achievement,
            subject_id="did:example:learner-2",
            **common,
        ),
        "full": ob3.build_credential(
            credential_id=f"{BASE}/ob/credentials/3",
            achievement=achievement,
            recipient_email="Alice.Smith@Example.org ",
            salt="c0ffee",
            subject_id="mailto:alice@example.org",
            valid_until=datetime(2030, 1, 1, tzinfo=UTC),
            evidence=[
                ob3.Evidence(
                    id="https://lms.example.edu/mod/quiz/review.php?attempt=9",
                    name="Quiz 2",
                    description="Quiz attempt",
                    narrative="Scored 92 %",
                    genre="Assessment",
                    audience="Teachers",
                ),
                ob3.Evidence(narrative="Rule: grade >= 80 % in Quiz 1 and Quiz 2"),
            ],
            credential_status=status_list.status_list_entry(STATUS_URL, 5),
            name="Quiz master — Algebra 101",
            description="Awarded by Example University",
            image=f"{BASE}/img/badge-7.png",
            awarded_date=VALID_FROM,
            narrative="Earned in the spring term",
            **common,
        ),
        "achievement-credential": ob3.build_credential(
            credential_id=f"{BASE}/ob/credentials/4",
            achievement=achievement,
            recipient_email="bob@example.org",
            salt="s",
            credential_status=status_list.status_list_entry(STATUS_URL, 6),
            credential_type="AchievementCredential",
            **common,
        ),
    }


@pytest.fixture(scope="session")
def shapes(issuer: ob3.Profile, achievement: ob3.Achievement) -> dict[str, dict[str, Any]]:
    return credential_shapes(issuer, achievement)


@pytest.fixture(scope="session")
def achievement_schema() -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / "ob_v3p0_achievementcredential.json").read_text())


@pytest.fixture(scope="session")
def profile_schema() -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / "ob_v3p0_profile.json").read_text())


_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def format_checker() -> FormatChecker:
    """jsonschema's FormatChecker; ``date-time`` needs rfc3339-validator
    (jsonschema[format-nongpl]). Without it jsonschema silently skips the
    format, so fall back to an RFC 3339 pattern rather than check nothing."""
    checker = FormatChecker()
    if "date-time" not in checker.checkers:
        checker.checks("date-time")(lambda v: not isinstance(v, str) or bool(_RFC3339.match(v)))
    return checker


def validate_schema(schema: dict[str, Any], doc: Any) -> None:
    """Assert ``doc`` is valid under ``schema`` (draft 2019-09, formats checked)."""
    validator = Draft201909Validator(schema, format_checker=format_checker())
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


class NodeVerifier:
    """Runs tests/verifiers/node/verify.mjs: one node process per batch."""

    def __init__(self, contexts_dir: Path) -> None:
        self.contexts_dir = contexts_dir

    def batch(
        self,
        jobs: list[dict[str, Any]],
        *,
        documents: dict[str, Any] | None = None,
        jwks: dict[str, Any] | None = None,
        now: str = NOW,
    ) -> dict[str, dict[str, Any]]:
        request = {
            "contextsDir": str(self.contexts_dir),
            "documents": documents or {},
            "jwks": jwks or {"keys": []},
            "now": now,
            "jobs": jobs,
        }
        proc = subprocess.run(
            ["node", str(NODE_DIR / "verify.mjs"), "--batch"],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if proc.returncode != 0:
            raise AssertionError(f"node verifier failed: {proc.stderr}\n{proc.stdout}")
        return {r["id"]: r for r in json.loads(proc.stdout)["results"]}


@pytest.fixture(scope="session")
def node_verifier(contexts_dir: Path) -> NodeVerifier:
    if shutil.which("node") is None:
        pytest.skip("node is not installed; the independent OB 3.0 verifier needs node >= 20")
    if not (NODE_DIR / "node_modules" / "@digitalbazaar" / "vc").is_dir():
        subprocess.run(["bash", str(INSTALL_NODE)], check=True, timeout=600)
    return NodeVerifier(contexts_dir)
