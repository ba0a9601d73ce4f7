"""Public Open Badges documents (DESIGN.md URL contract): JSON-LD for machines, pages for people.

The same URL answers both, by content negotiation on ``Accept``; the URL of a signed OB 2.0
assertion (an issuer made with ``--signed``) also answers ``Accept: application/jose`` with
its JWS, where a verifier given the URL finds the signed form (the JSON alone proves nothing).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, render_template, request

from lti_badges import issuing
from lti_badges.extensions import db
from lti_badges.models import Award, Badge, ImageAsset, Issuer, IssuerKey, StatusList
from lti_badges.web.errors import ApiError

bp = Blueprint("ob", __name__, url_prefix="/ob")

JSONLD = "application/ld+json"
JOSE = "application/jose"  # RFC 7515 §9.2.1: a JWS in compact serialization


def wants_html() -> bool:
    best = request.accept_mimetypes.best_match(["application/ld+json", "application/json",
                                                "text/html"])
    return best == "text/html" and request.accept_mimetypes["text/html"] > max(
        request.accept_mimetypes["application/json"], request.accept_mimetypes[JSONLD])


def jsonld(doc: Any, mimetype: str = JSONLD) -> Response:
    resp = Response(json.dumps(doc, ensure_ascii=False, indent=2), mimetype=mimetype)
    resp.headers["Access-Control-Allow-Origin"] = "*"  # verifiers and backpacks fetch these
    resp.headers["Cache-Control"] = "no-cache"
    resp.headers["Vary"] = "Accept"
    return resp


def _one(model: type, public_id: str, what: str) -> Any:
    row = db.session.scalar(db.select(model).filter_by(public_id=public_id))
    if row is None:
        raise ApiError(f"No {what} with the id {public_id!r} is published here.", 404, "not_found")
    return row


@bp.get("/issuers/<public_id>")
def issuer(public_id: str) -> Response:
    row = _one(Issuer, public_id, "issuer")
    if wants_html():
        badges = db.session.scalars(db.select(Badge).filter_by(issuer_id=row.id, archived=False)
                                    .order_by(Badge.name)).all()
        return Response(render_template("public/issuer.html", issuer=row, badges=badges))
    doc = issuing.issuer_ob2_document(row)
    db.session.commit()  # a first key may have been made for an old issuer
    return jsonld(doc)


@bp.get("/issuers/<public_id>/did.json")
def issuer_did(public_id: str) -> Response:
    return jsonld(issuing.issuer_did_document(_one(Issuer, public_id, "issuer")),
                  "application/did+ld+json")


@bp.get("/issuers/<public_id>/keys/<kid>")
def issuer_key(public_id: str, kid: str) -> Response:
    row = _one(Issuer, public_id, "issuer")
    key = db.session.scalar(db.select(IssuerKey).filter_by(issuer_id=row.id, kid=kid))
    if key is None:
        raise ApiError(f"The issuer has no key {kid!r}.", 404, "not_found")
    return jsonld(issuing.issuer_key_document(row, key))


@bp.get("/badges/<public_id>")
def badge(public_id: str) -> Response:
    row = _one(Badge, public_id, "badge")
    if wants_html():
        return Response(render_template("public/badge.html", badge=row))
    if request.args.get("v") == "3":
        return jsonld(issuing.badge_ob3_document(row))
    return jsonld(issuing.badge_ob2_document(row))


def wants_jose() -> bool:
    """``application/jose`` asked for, and preferred to JSON(-LD) and HTML."""
    accept = request.accept_mimetypes
    return accept[JOSE] > 0 and accept.best_match(
        [JOSE, JSONLD, "application/json", "text/html"]) == JOSE and accept[JOSE] >= max(
        accept[JSONLD], accept["application/json"], accept["text/html"])


@bp.get("/assertions/<public_id>")
def assertion(public_id: str) -> Response:
    row = _one(Award, public_id, "assertion")
    if row.signed_assertion and wants_jose():
        # Served even once revoked: the issuer's revocation list says so (OB 2.0 § SignedBadge
        # verification, step 7), and the signed form stays what was issued.
        resp = Response(row.signed_assertion, mimetype=JOSE)
        resp.headers["Access-Control-Allow-Origin"] = "*"
        resp.headers["Cache-Control"] = "no-cache"
        resp.headers["Vary"] = "Accept"
        return resp
    if wants_html():
        issuing.record_event(row, "view")
        return Response(render_template("public/award.html", award=row,
                                        status=row.status()))
    resp = jsonld(issuing.assertion_document(row))
    if row.revoked_at:
        # Hosted revocation (OB 1.x/2.0 practice): 410 Gone with {"revoked": true}.
        resp.status_code = 410
    return resp


@bp.get("/assertions/<public_id>.<any(png, svg):ext>")
def assertion_image(public_id: str, ext: str) -> Response:
    return _baked(_one(Award, public_id, "assertion"), ext, "ob2")


@bp.get("/credentials/<public_id>")
def credential(public_id: str) -> Response:
    row = _one(Award, public_id, "credential")
    if wants_html():
        return Response(render_template("public/award.html", award=row, status=row.status()))
    return jsonld(row.credential, "application/vc+ld+json")


@bp.get("/credentials/<public_id>.jwt")
def credential_jwt(public_id: str) -> Response:
    row = _one(Award, public_id, "credential")
    issuing.record_event(row, "download", "ob3.jwt")
    resp = Response(row.credential_jwt, mimetype="application/vc+jwt")
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


@bp.get("/credentials/<public_id>.<any(png, svg):ext>")
def credential_image(public_id: str, ext: str) -> Response:
    return _baked(_one(Award, public_id, "credential"), ext, "ob3")


def _baked(row: Award, ext: str, flavour: str) -> Response:
    data = issuing.baked_image(row, ext, flavour)
    issuing.record_event(row, "download", f"{flavour}.{ext}")
    resp = Response(data, mimetype="image/svg+xml" if ext == "svg" else "image/png")
    name = "".join(c if c.isalnum() else "-" for c in row.badge.name)[:60].strip("-") or "badge"
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}.{ext}"'
    return resp


@bp.get("/revocations/<public_id>")
def revocations(public_id: str) -> Response:
    return jsonld(issuing.revocation_list_document(_one(Issuer, public_id, "issuer")))


@bp.get("/status/<public_id>")
def status(public_id: str) -> Response:
    row = _one(StatusList, public_id, "status list")
    return jsonld(row.credential, "application/vc+ld+json")


@bp.get("/images/<public_id>.<any(png, svg):ext>")
def image(public_id: str, ext: str) -> Response:
    row = _one(ImageAsset, public_id, "image")
    if row.extension != ext:
        raise ApiError(f"This image is a .{row.extension}.", 404, "not_found")
    resp = Response(row.data, mimetype=row.mime_type)
    resp.headers["Cache-Control"] = "public, max-age=86400, immutable"
    if ext == "svg":
        resp.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return resp
