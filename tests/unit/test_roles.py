"""Launch roles map to capabilities, whatever spelling the platform uses."""

import json

import pytest

from lti_badges.lti.roles import (
    ADMIN,
    AWARD,
    DESIGN,
    LEARN,
    VIEW_COURSE,
    capabilities_for,
    is_learner,
    normalise_role,
)

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"


@pytest.mark.parametrize(("roles", "expected"), [
    ([LIS + "membership#Learner"], [LEARN]),
    (["Learner"], [LEARN]),  # NRPS short names (Moodle)
    ([LIS + "membership#Instructor"], [DESIGN, AWARD, VIEW_COURSE]),
    (["Instructor"], [DESIGN, AWARD, VIEW_COURSE]),
    ([LIS + "membership#ContentDeveloper"], [DESIGN, AWARD, VIEW_COURSE]),
    ([LIS + "membership/Instructor#TeachingAssistant"], [VIEW_COURSE]),
    ([LIS + "membership#Instructor", LIS + "membership/Instructor#TeachingAssistant"],
     [VIEW_COURSE]),
    (["urn:lti:role:ims/lis/Instructor/TeachingAssistant"], [VIEW_COURSE]),
    ([LIS + "institution/person#Administrator"], [DESIGN, AWARD, VIEW_COURSE, ADMIN]),
    ([LIS + "membership#Mentor"], [VIEW_COURSE]),
    ([LIS + "institution/person#Student"], []),  # an institution role is no course role
    ([], []),
    (["", "garbage", 42], []),
])
def test_capabilities(roles, expected):
    assert capabilities_for(roles) == expected


def test_lti11_urns_are_understood():
    assert normalise_role("urn:lti:sysrole:ims/lis/Administrator") == (
        "system", "Administrator", None)
    assert capabilities_for(["urn:lti:role:ims/lis/Learner"]) == [LEARN]


def test_moodle_recorded_roles(shared_dir):
    """Roles exactly as a live Moodle 5.0 sent them in launches and NRPS."""
    launch = shared_dir / "moodle" / "lti-launch"
    roles_claim = "https://purl.imsglobal.org/spec/lti/claim/roles"

    def roles(name):
        return json.loads((launch / name).read_text())["payload"][roles_claim]

    assert capabilities_for(roles("id_token-learner-student1.json")) == [LEARN]
    assert capabilities_for(roles("id_token-instructor-teacher1.json")) == [
        DESIGN, AWARD, VIEW_COURSE]
    # The site admin is not enrolled but gets Instructor plus Administrator roles.
    assert ADMIN in capabilities_for(roles("id_token-admin.json"))
    nrps = json.loads((shared_dir / "moodle/lti-services/nrps/nrps-all-members.json").read_text())
    body = nrps["response"]["body"] if "response" in nrps else nrps
    body = json.loads(body) if isinstance(body, str) else body
    members = body["members"]
    learners = [m for m in members if is_learner(m["roles"])]
    assert {m["name"] for m in learners} >= {"Sam Student"}
    assert all(not is_learner(m["roles"]) for m in members if "Instructor" in m["roles"])
