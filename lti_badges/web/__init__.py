"""Thin blueprints per audience; this module wires them, request ids and error pages."""

from __future__ import annotations

import importlib
import importlib.util

from flask import Flask, g

from lti_badges.web import course, errors, lti, openbadges, public
from lti_badges.web.urls import lurl

AREAS = ("studio", "learner", "admin", "verify", "backpacks", "notices", "moodle_pairing")


def register_web(app: Flask) -> None:
    errors.init_app(app)

    @app.context_processor
    def _launch_context() -> dict[str, object]:
        from lti_badges.web.auth import csrf_token

        token = g.get("launch_token")
        return {"launch": g.get("launch"), "lt": token,
                "csrf_token": csrf_token(token) if token else ""}

    @app.context_processor
    def _language() -> dict[str, object]:
        from flask_babel import format_date, get_locale

        locale = get_locale()
        return {"current_lang": locale.language if locale else "en", "format_date": format_date}

    app.add_template_global(lurl)

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
