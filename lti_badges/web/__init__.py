"""Thin blueprints per audience; this module wires them, request ids and error pages."""

from __future__ import annotations

import importlib
import importlib.util

from flask import Flask, g

from lti_badges.web import auth, course, errors, lti, openbadges, public

AREAS = ("studio", "learner", "admin", "verify", "backpacks", "notices", "moodle_pairing")


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

    app.register_blueprint(lti.bp)
    app.register_blueprint(course.bp)
    app.register_blueprint(public.bp)
    app.register_blueprint(openbadges.bp)
    # Areas built in their own modules: each exposes ``bp``.
    for area in AREAS:
        if importlib.util.find_spec(f"lti_badges.web.{area}") is not None:
            app.register_blueprint(importlib.import_module(f"lti_badges.web.{area}").bp)
    from lti_badges.web import limits

    limits.init_app(app)
