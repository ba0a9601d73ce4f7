"""A badge that follows Moodle activities: sync through the Moodle Web Services connector,
replaying the answers recorded from a live Moodle 5.0 (../shared/moodle/webservices)."""

from __future__ import annotations

from lti_badges.crypto import fernet
from lti_badges.extensions import db
from lti_badges.models import Award, Badge, Course, Deployment, MoodleConnector, Platform
from tests.support.cli import cli_json
from tests.unit.sources.replay import WS_TOKEN, MoodleWsReplay


def test_badges_follow_moodle_grades_and_course_completion(app, runner):
    with MoodleWsReplay() as moodle:
        with app.app_context():
            platform = Platform(issuer="http://127.0.0.1:8080", client_id="kgDDY3FUnq3wN3I",
                                status="active", auth_login_url="http://127.0.0.1:8080/a",
                                token_url="http://127.0.0.1:8080/t",
                                jwks_url="http://127.0.0.1:8080/j")
            platform.deployments.append(Deployment(deployment_id="1"))
            db.session.add(platform)
            db.session.flush()
            # The course as a launch would have created it (Moodle course id 2), no LTI services.
            course = Course(platform_id=platform.id, deployment_id=platform.deployments[0].id,
                            context_id="2", title="Open Badges Pilot", settings={}, services={})
            db.session.add(course)
            db.session.add(MoodleConnector(
                platform_id=platform.id, url=moodle.site_url,
                token_encrypted=fernet(app.config["SECRET_KEY"], "moodle-token")
                .encrypt(WS_TOKEN.encode()).decode()))
            db.session.commit()
            cid = course.id
        issuer = cli_json(runner.invoke(args=["issuers", "add", "--name", "Pilot", "--url",
                                           "https://pilot.example", "--email",
                                           "b@pilot.example", "--json"]))
        essay = cli_json(runner.invoke(args=[
            "badges", "add", "--issuer", issuer["id"], "--name", "Essay 1 ≥ 80 %",
            "--description", "d", "--criteria-text", "c", "--course", str(cid),
            "--rule", '{"grade": {"item": "moodle:cm:1", "min_percent": 80}}', "--json"]))
        done = cli_json(runner.invoke(args=[
            "badges", "add", "--issuer", issuer["id"], "--name", "Course completed",
            "--description", "d", "--criteria-text", "c", "--course", f"{1}:2",
            "--rule", '{"course_completed": {}}', "--json"]))
        result = cli_json(runner.invoke(args=["sync", str(cid), "--json"]))
    assert result["errors"] == [] and result["status"] == "done"
    got = sorted((a["badge"], a["recipient"]) for a in result["awarded"])
    assert got == sorted([(essay["id"], "student1@example.invalid"),
                          (done["id"], "student1@example.invalid")])
    with app.app_context():
        award = db.session.scalar(db.select(Award).join(Badge).where(
            Badge.public_id == essay["id"]))
        assert award.person.sub == "4"  # Moodle user id = LTI sub
        assert "85" in award.evidence["summary"]
