"""Public pages that need no launch: the tool's front page and its health check."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, render_template
from sqlalchemy import text

from lti_badges.extensions import db

bp = Blueprint("public", __name__)


@bp.get("/")
def index() -> Response:
    base = current_app.config["BASE_URL"]
    return Response(render_template("index.html", base=base))


@bp.get("/healthz")
def healthz() -> Response:
    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # reported, not raised: this is the health page
        checks["database"] = f"error: {exc.__class__.__name__}"
        db.session.rollback()
    broker = current_app.config.get("BROKER_URL")
    if broker:
        try:
            import redis

            redis.Redis.from_url(broker, socket_timeout=1, socket_connect_timeout=1).ping()
            checks["broker"] = "ok"
        except Exception as exc:  # reported, not raised
            checks["broker"] = f"error: {exc.__class__.__name__}"
    else:
        checks["broker"] = "in-process"
    ok = checks["database"] == "ok" and checks["broker"] in ("ok", "in-process")
    resp = jsonify({"status": "ok" if ok else "degraded", "checks": checks})
    resp.status_code = 200 if ok else 503
    return resp
