"""Thin blueprints per audience; this module wires them, request ids and error pages."""

from __future__ import annotations

from flask import Flask, g, url_for

from lti_badges.web import course, errors, lti, openbadges, public


def register_web(app: Flask) -> None:
    errors.init_app(app)

    @app.context_processor
    def _language() -> dict[str, object]:
        from flask_babel import format_date, get_locale

        locale = get_locale()
        return {"current_lang": locale.language if locale else "en", "format_date": format_date}

    @app.template_global()
    def lurl(endpoint: str, **values: object) -> str:
        """url_for that carries the launch token, for pages in a cookieless iframe."""
        token = g.get("launch_token")
        if token:
            values.setdefault("lt", token)
        return url_for(endpoint, **values)

    app.register_blueprint(lti.bp)
    app.register_blueprint(course.bp)
    app.register_blueprint(public.bp)
    app.register_blueprint(openbadges.bp)
