"""Thin blueprints per audience; this module wires them, request ids and error pages."""

from __future__ import annotations

from flask import Flask, g

from lti_badges.web import (
    admin,
    auth,
    backpacks,
    course,
    errors,
    learner,
    lti,
    moodle_pairing,
    notices,
    openbadges,
    public,
    studio,
    verify,
)

BLUEPRINTS = (lti, course, public, openbadges, studio, learner, admin, verify, backpacks,
              notices, moodle_pairing)


def register_web(app: Flask) -> None:
    errors.init_app(app)
    auth.init_app(app)

    @app.context_processor
    def _launch_context() -> dict[str, object]:
        launch = g.get("launch")
        return {"launch": launch, "csrf_token": auth.csrf_token(launch) if launch else ""}

    @app.context_processor
    def _language() -> dict[str, object]:
        from flask_babel import format_date, get_locale

        locale = get_locale()
        return {"current_lang": locale.language if locale else "en", "format_date": format_date}

    for module in BLUEPRINTS:
        app.register_blueprint(module.bp)
    from lti_badges.web import limits

    limits.init_app(app)
