"""The Moodle plugin local_ltibadges (moodle-dev/local_ltibadges), tested without a Moodle.

``php -l`` on every PHP file of moodle-dev/ and of these tests; the plugin's Moodle-free classes
by the tiny PHP runner in ``php/run_tests.php``, which also runs the plugin's whole-course SQL
(``course_facts``) on SQLite through ``php/moodle_dml_shim.php`` (Moodle's DML rules, real SQL);
a notice signed by the plugin's PHP verified by PyJWT; the structure ``execute_returns()`` builds
(dumped with stand-ins of Moodle's external description classes) checked against the contract
and against every fixture in ``tests/fixtures/moodle_plugin/``; and moodle-dev/compose.yaml.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = Path(__file__).resolve().parents[2]
MOODLE_DEV = ROOT / "moodle-dev"
PLUGIN = MOODLE_DEV / "local_ltibadges"
PHP_TESTS = Path(__file__).resolve().parent / "php"
FIXTURES = ROOT / "tests" / "fixtures" / "moodle_plugin"
PHP = shutil.which("php")

needs_php = pytest.mark.skipif(
    PHP is None,
    reason="php is not installed (scripts/test installs Debian's php-cli): the plugin's PHP is not checked")

# The contract's structure of local_ltibadges_get_course_facts, as the tool side reads it.
CONTRACT: dict[str, Any] = {
    "courseid": "int", "since": "int", "servertime": "int", "page": "int", "perpage": "int",
    "totalusers": "int", "hasmore": "bool",
    "users": [{"id": "int", "idnumber": "string", "email": "string", "firstname": "string",
               "lastname": "string", "fullname": "string", "roles": ["string"], "status": "string",
               "timemodified": "int"}],
    "gradeitems": [{"id": "int", "itemname": "string", "itemtype": "string", "itemmodule": "string",
                    "iteminstance": "int", "cmid": "int", "grademax": "float", "grademin": "float",
                    "gradepass": "float", "hidden": "bool"}],
    "grades": [{"itemid": "int", "userid": "int", "finalgrade": "float|null", "grademax": "float",
                "timemodified": "int"}],
    "completions": [{"cmid": "int", "userid": "int", "state": "int", "timemodified": "int"}],
    "activities": [{"cmid": "int", "modname": "string", "name": "string", "completion": "int"}],
    "coursecompletions": [{"userid": "int", "timecompleted": "int"}],
}


def php(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    assert PHP is not None
    return subprocess.run([PHP, *args], input=stdin, capture_output=True, text=True, timeout=120)


def php_files() -> list[Path]:
    return sorted([*MOODLE_DEV.rglob("*.php"), *PHP_TESTS.rglob("*.php")])


@needs_php
def test_php_lint_every_file() -> None:
    files = php_files()
    assert len(files) >= 30, files
    failures = []
    for path in files:
        done = php("-l", str(path))
        if done.returncode != 0:
            failures.append(f"{path.relative_to(ROOT)}: {done.stdout}{done.stderr}")
    assert not failures, "\n".join(failures)


@needs_php
def test_php_lint_fails_on_a_syntax_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.php"
    bad.write_text("<?php\nfunction (\n")
    assert php("-l", str(bad)).returncode != 0


@needs_php
def test_php_unit_tests_of_the_plugin() -> None:
    done = php(str(PHP_TESTS / "run_tests.php"))
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1].endswith("tests, 0 failed"), lines[-1]
    assert int(lines[-1].split()[0]) >= 25, lines[-1]
    assert not [line for line in lines if line.startswith("FAIL")]


def _rsa_pem() -> tuple[str, Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return pem, key.public_key()


@needs_php
def test_notice_signed_by_the_plugin_verifies_with_pyjwt() -> None:
    pem, public = _rsa_pem()
    now = int(time.time())
    request = {
        "change": {"event": "\\core\\event\\course_module_completion_updated", "courseid": 2, "userid": 4,
                   "cmid": 3, "itemid": None, "time": now - 5},
        "issuer": "http://127.0.0.1:8080", "clientid": "kgDDY3FUnq3wN3I", "deploymentid": "1",
        "now": now, "pem": pem, "kid": "2c4c53d165f8345339ee",
    }
    done = php(str(PHP_TESTS / "sign_notice.php"), stdin=json.dumps(request))
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert list(body) == ["jwt"]
    token = body["jwt"]
    assert jwt.get_unverified_header(token) == {"typ": "JWT", "alg": "RS256", "kid": "2c4c53d165f8345339ee"}
    claims = jwt.decode(token, public, algorithms=["RS256"], audience="kgDDY3FUnq3wN3I",
                        issuer="http://127.0.0.1:8080", options={"require": ["exp", "iat", "jti", "sub"]})
    assert claims["exp"] - claims["iat"] == 300
    assert claims["sub"] == "4"
    assert claims["https://purl.imsglobal.org/spec/lti/claim/deployment_id"] == "1"
    assert claims["https://purl.imsglobal.org/spec/lti/claim/context"] == {"id": "2"}
    notice = claims["https://purl.imsglobal.org/spec/lti/claim/notice"]
    assert notice["id"] == claims["jti"]
    assert notice["type"] == "LtiBadgesActivityCompletionNotice"
    assert notice["timestamp"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 5))
    assert claims["https://lti-badges.org/claim/change"] == {
        "event": "\\core\\event\\course_module_completion_updated", "cmid": 3, "itemid": None,
        "time": now - 5}
    # Another key does not verify it.
    _, other = _rsa_pem()
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, other, algorithms=["RS256"], audience="kgDDY3FUnq3wN3I")


@pytest.fixture(scope="module")
def structure() -> dict[str, Any]:
    if PHP is None:
        pytest.skip("php is not installed (scripts/test installs Debian's php-cli)")
    done = php(str(PHP_TESTS / "dump_external.php"))
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def _as_contract(node: dict[str, Any]) -> Any:
    if node["type"] == "object":
        return {key: _as_contract(child) for key, child in node["keys"].items()}
    if node["type"] == "list":
        return [_as_contract(node["content"])]
    return node["type"] + ("|null" if node["nullable"] else "")


def test_execute_returns_is_the_contract(structure: dict[str, Any]) -> None:
    returns = structure["returns"]
    assert _as_contract(returns) == CONTRACT
    assert list(returns["keys"]) == list(CONTRACT), "same keys, same order"
    assert list(returns["keys"]["users"]["content"]["keys"]) == list(CONTRACT["users"][0])


def test_execute_parameters(structure: dict[str, Any]) -> None:
    params = structure["parameters"]["keys"]
    assert list(params) == ["courseid", "since", "page", "perpage", "userid"]
    assert params["courseid"]["required"] is True and "default" not in params["courseid"]
    assert {name: params[name]["default"] for name in ("since", "page", "perpage", "userid")} == {
        "since": 0, "page": 0, "perpage": 500, "userid": 0}
    assert all(p["type"] == "int" for p in params.values())


def conformance_errors(node: dict[str, Any], value: Any, path: str = "$") -> list[str]:
    """Where a value departs from a dumped external structure (keys, types, required, null)."""
    kind = node["type"]
    if value is None:
        return [] if node.get("nullable") and kind not in ("object", "list") else [f"{path}: null"]
    if kind == "object":
        if not isinstance(value, dict):
            return [f"{path}: not an object"]
        errors = [f"{path}.{key}: not in execute_returns()" for key in value if key not in node["keys"]]
        for key, child in node["keys"].items():
            if key in value:
                errors += conformance_errors(child, value[key], f"{path}.{key}")
            elif child["required"]:
                errors.append(f"{path}.{key}: missing")
        return errors
    if kind == "list":
        if not isinstance(value, list):
            return [f"{path}: not a list"]
        return [error for i, item in enumerate(value)
                for error in conformance_errors(node["content"], item, f"{path}[{i}]")]
    ok = {
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, (int, float)) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
        "string": isinstance(value, str),
    }[kind]
    return [] if ok else [f"{path}: {value!r} is not {kind}"]


def contract_errors(doc: dict[str, Any]) -> list[str]:
    """What the types alone cannot say: the contract's values and its paging rules."""
    errors = []
    ids = [u["id"] for u in doc["users"]]
    if ids != sorted(ids):
        errors.append("users are not ordered by id")
    if len(ids) > doc["perpage"] or doc["perpage"] > 2000:
        errors.append("more users than perpage, or perpage above 2000")
    if doc["hasmore"] != ((doc["page"] + 1) * doc["perpage"] < doc["totalusers"]):
        errors.append("hasmore does not follow page, perpage and totalusers")
    page_users = set(ids)
    for part in ("grades", "completions", "coursecompletions"):
        strangers = {row["userid"] for row in doc[part]} - page_users
        if strangers:
            errors.append(f"{part} of users not on the page: {sorted(strangers)}")
    errors += [f"status {u['status']!r}" for u in doc["users"] if u["status"] not in ("active", "suspended")]
    errors += [f"completion state {c['state']}" for c in doc["completions"] if c["state"] not in (0, 1, 2, 3)]
    errors += [f"tracking {a['completion']}" for a in doc["activities"] if a["completion"] not in (0, 1, 2)]
    return errors


def fixture_files() -> list[Path]:
    return sorted(FIXTURES.glob("*.json"))


def test_there_are_fixtures() -> None:
    assert fixture_files(), f"no fixture in {FIXTURES}"


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: p.name)
def test_fixture_conforms_to_execute_returns(structure: dict[str, Any], path: Path) -> None:
    doc = json.loads(path.read_text())
    assert conformance_errors(structure["returns"], doc) == []
    assert contract_errors(doc) == []


@pytest.mark.parametrize("mutate, expected", [
    (lambda d: d["users"][0].pop("email"), "$.users[0].email: missing"),
    (lambda d: d["grades"][0].update(finalgrade="85"), "$.grades[0].finalgrade: '85' is not float"),
    (lambda d: d["gradeitems"][0].update(hidden=0), "$.gradeitems[0].hidden: 0 is not bool"),
    (lambda d: d.update(hasmore=None), "$.hasmore: null"),
    (lambda d: d["activities"][0].update(section=1), "$.activities[0].section: not in execute_returns()"),
    (lambda d: d.update(users={}), "$.users: not a list"),
])
def test_a_fixture_that_departs_is_caught(structure: dict[str, Any], mutate: Any, expected: str) -> None:
    doc = json.loads((FIXTURES / "get_course_facts-page0.json").read_text())
    broken = copy.deepcopy(doc)
    mutate(broken)
    assert expected in conformance_errors(structure["returns"], broken)


def test_contract_rules_catch_a_page_that_breaks_them() -> None:
    doc = json.loads((FIXTURES / "get_course_facts-page0.json").read_text())
    broken = copy.deepcopy(doc)
    broken["grades"].append(dict(broken["grades"][0], userid=999))
    broken["hasmore"] = True
    assert contract_errors(broken) == [
        "hasmore does not follow page, perpage and totalusers", "grades of users not on the page: [999]"]


# --- moodle-dev/compose.yaml -------------------------------------------------------------

def _docker_compose_available() -> bool:
    docker = shutil.which("docker")
    if docker is None:
        return False
    return subprocess.run([docker, "compose", "version"], capture_output=True, timeout=30).returncode == 0


def test_compose_file_config_by_docker(tmp_path: Path) -> None:
    if not _docker_compose_available():
        pytest.skip("the docker compose CLI is absent: compose.yaml is only parsed by PyYAML "
                    "(test_compose_file_services), not checked by `docker compose config`")
    env = {"MOODLE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin:/usr/local/bin"}
    done = subprocess.run(["docker", "compose", "-f", str(MOODLE_DEV / "compose.yaml"), "config", "-q"],
                          capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr


def _volume(spec: str) -> tuple[str, str]:
    """(source, target) of a short-syntax volume; the source may be ${VAR:?message}."""
    for mode in (":ro", ":rw"):
        spec = spec.removesuffix(mode)
    source, target = spec.rsplit(":", 1)
    return source, target


def test_compose_file_services() -> None:
    compose = yaml.safe_load((MOODLE_DEV / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) >= {"db", "moodle", "cron", "tool"}
    assert services["moodle"]["image"].startswith("moodlehq/moodle-php-apache:")
    assert services["db"]["image"].startswith("postgres:")
    mounts = dict(_volume(v)[::-1] for v in services["moodle"]["volumes"])
    assert mounts["/var/www/html/local/ltibadges"] == "./local_ltibadges"
    assert mounts["/var/www/html"].startswith("${MOODLE_DIR:?"), "Moodle's code is the developer's own clone"
    assert (MOODLE_DEV / mounts["/var/www/html/config.php"]).is_file()
    assert (MOODLE_DEV / mounts["/seed"]).is_dir()
    for name in ("moodle", "tool"):
        for port in services[name]["ports"]:
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"
    build = services["tool"]["build"]
    assert (MOODLE_DEV / build["context"] / build["dockerfile"]).is_file()
    named = {_volume(v)[0] for s in services.values() for v in s.get("volumes", [])
             if not v.startswith((".", "$"))}
    assert named <= set(compose["volumes"]), "every named volume is declared"


def test_no_moodle_code_is_committed() -> None:
    # Only our plugin, our seed scripts and our dev config: nothing of Moodle's own tree.
    for marker in ("lib/setup.php", "version.php", "admin/cli/install.php", "lib/moodlelib.php"):
        assert not (MOODLE_DEV / marker).exists(), marker
    assert not (MOODLE_DEV / "lib").exists() and not (MOODLE_DEV / "moodle").exists()
