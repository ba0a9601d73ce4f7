"""The test backpack's Flask app: Authlib's OAuth 2 server plus the OB 2.1 (Badge Connect)
and OB 3.0 API endpoints, written from the specifications, not from the tool's code.

OAuth: RFC 7591 open dynamic registration, authorization code with PKCE (S256 only,
required for every client: OB 3.0 §7), refresh tokens rotated on use, RFC 7009
revocation, RFC 8414 metadata naming the revocation endpoint.

The consent step is automatic: ``GET /oauth/authorize`` validates the request and
redirects straight back with a code for ``BackpackServer.consent_account`` (or with
``error=access_denied`` when ``deny_consent`` is set). There is no login page.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from typing import TYPE_CHECKING, Any

import jwt
import requests
from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector, current_token
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7591 import ClientRegistrationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from flask import Flask, Response, jsonify, request

from tests.backpack_server.store import Account, AuthorizationCode, Client, Fault, Token

if TYPE_CHECKING:
    from tests.backpack_server import BackpackServer

OB21 = "https://purl.imsglobal.org/spec/ob/v2p1/scope/"
OB30 = "https://purl.imsglobal.org/spec/ob/v3p0/scope/"
OB21_SCOPES = [OB21 + "assertion.readonly", OB21 + "assertion.create", OB21 + "profile.readonly",
               "offline_access"]
OB30_SCOPES = [OB30 + "credential.readonly", OB30 + "credential.upsert", OB30 + "profile.readonly",
               OB30 + "profile.update"]


class StrictS256(CodeChallenge):
    """PKCE required of every client, S256 only (OB 3.0 §7; RFC 7636 §4.2 and §7.2)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ("S256",)

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send code_challenge (S256).")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("Only code_challenge_method=S256 is accepted.")
        return super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant, result):
        if not grant.request.form.get("code_verifier"):
            raise InvalidRequestError("Missing 'code_verifier'.")
        return super().validate_code_verifier(grant, result)


def _hash_identity(identity: str, salt: str | None) -> str:
    return "sha256$" + hashlib.sha256((identity + (salt or "")).encode()).hexdigest()


def _identity_matches(account: Account, identity: str, hashed: bool, salt: str | None) -> bool:
    for email in account.emails:
        email = email.strip().lower()
        if hashed and identity.lower() == _hash_identity(email, salt):
            return True
        if not hashed and identity.strip().lower() == email:
            return True
    return False


def _b64json(part: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def create_backpack_app(bp: BackpackServer) -> Flask:
    store = bp.store
    app = Flask("test-backpack")
    app.config.update(
        OAUTH2_REFRESH_TOKEN_GENERATOR=True,
        OAUTH2_TOKEN_EXPIRES_IN={"authorization_code": bp.token_lifetime,
                                 "refresh_token": bp.token_lifetime},
    )
    base = bp.base_url

    # -- OAuth 2 (Authlib) -------------------------------------------------------------

    def query_client(client_id):
        with store.lock:
            return store.clients.get(client_id)

    def save_token(token, req):
        with store.lock:
            store.tokens.append(Token(
                client_id=req.client.client_id, account=req.user,
                access_token=token["access_token"], refresh_token=token.get("refresh_token"),
                scope=token.get("scope") or "", expires_in=int(token.get("expires_in") or 3600)))

    server = AuthorizationServer(app, query_client=query_client, save_token=save_token)
    auth_methods = ["client_secret_basic", "client_secret_post"]

    class CodeGrant(grants.AuthorizationCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = auth_methods

        def save_authorization_code(self, code, req):
            data = req.payload.data
            with store.lock:
                store.codes[code] = AuthorizationCode(
                    code=code, client_id=req.client.client_id,
                    redirect_uri=req.payload.redirect_uri, scope=req.scope or "",
                    account=req.user, code_challenge=data.get("code_challenge"),
                    code_challenge_method=data.get("code_challenge_method"))

        def query_authorization_code(self, code, client):
            with store.lock:
                item = store.codes.get(code)
            if item and item.client_id == client.client_id and not item.is_expired():
                return item
            return None

        def delete_authorization_code(self, authorization_code):
            with store.lock:
                store.codes.pop(authorization_code.code, None)

        def authenticate_user(self, authorization_code):
            return authorization_code.account

    class RefreshGrant(grants.RefreshTokenGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = auth_methods
        INCLUDE_NEW_REFRESH_TOKEN = True  # rotation: each refresh token works once

        def authenticate_refresh_token(self, refresh_token):
            token = store.token_by_refresh(refresh_token)
            if token and not token.refresh_revoked:
                return token
            return None

        def authenticate_user(self, refresh_token):
            return refresh_token.account

        def revoke_old_credential(self, refresh_token):
            with store.lock:
                refresh_token.refresh_revoked = True
                refresh_token.access_revoked = True

    class Revocation(RevocationEndpoint):
        CLIENT_AUTH_METHODS = auth_methods

        def query_token(self, token_string, token_type_hint):
            if token_type_hint == "access_token":
                return store.token_by_access(token_string)
            if token_type_hint == "refresh_token":
                return store.token_by_refresh(token_string)
            return store.token_by_access(token_string) or store.token_by_refresh(token_string)

        def revoke_token(self, token, req):
            # RFC 7009 §2.1: revoking a refresh token also invalidates its access tokens.
            with store.lock:
                store.revocations.append(req.form.get("token_type_hint") or "")
                token.access_revoked = True
                if req.form.get("token_type_hint") != "access_token":
                    token.refresh_revoked = True

    class Registration(ClientRegistrationEndpoint):
        def authenticate_token(self, req):
            return True  # open registration, as OB 2.1 and OB 3.0 §7.2 expect

        def get_server_metadata(self):
            return metadata()

        def save_client(self, client_info, client_metadata, req):
            client = Client(client_id=client_info["client_id"],
                            client_secret=client_info["client_secret"],
                            metadata=client_metadata)
            with store.lock:
                store.clients[client.client_id] = client
                store.registrations += 1
            return client

    server.register_grant(CodeGrant, [StrictS256(required=True)])
    server.register_grant(RefreshGrant)
    server.register_endpoint(Revocation)
    server.register_endpoint(Registration)

    class Validator(BearerTokenValidator):
        def authenticate_token(self, token_string):
            return store.token_by_access(token_string)

    require_oauth = ResourceProtector()
    require_oauth.register_token_validator(Validator())

    def metadata() -> dict[str, Any]:
        """RFC 8414 §2 authorization server metadata."""
        meta: dict[str, Any] = {
            "issuer": base,
            "authorization_endpoint": base + "/oauth/authorize",
            "token_endpoint": base + "/oauth/token",
            "registration_endpoint": base + "/oauth/register",
            "scopes_supported": OB21_SCOPES + OB30_SCOPES,
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_methods_supported": auth_methods,
            "code_challenge_methods_supported": ["S256"],
        }
        if bp.offer_revocation:
            meta["revocation_endpoint"] = base + "/oauth/revoke"
            meta["revocation_endpoint_auth_methods_supported"] = auth_methods
        return meta

    @app.get("/.well-known/oauth-authorization-server")
    def oauth_metadata():
        return jsonify(metadata())

    @app.post("/oauth/register")
    def register():
        return server.create_endpoint_response("client_registration")

    @app.get("/oauth/authorize")
    def authorize():
        # No login or consent page: the configured account consents at once.
        user = None if bp.deny_consent else bp.consent_account
        try:
            grant = server.get_consent_grant(end_user=user)
        except OAuth2Error as error:
            return server.handle_error_response(None, error)
        return server.create_authorization_response(grant_user=user, grant=grant)

    @app.post("/oauth/token")
    def token():
        return server.create_token_response()

    @app.post("/oauth/revoke")
    def revoke():
        return server.create_endpoint_response("revocation")

    # -- discovery ---------------------------------------------------------------------

    def malformed(kind: str, doc: dict[str, Any]) -> Response | dict[str, Any]:
        how = (bp.malformed or {}).get(kind)
        if how == "not_json":
            return Response("<html><body>Welcome!</body></html>", 200,
                            {"Content-Type": "text/html"})
        if how == "empty":
            return {}
        if how == "missing_token_url":
            if kind == "ob21":
                doc["badgeConnectAPI"][0].pop("tokenUrl")
            else:
                doc["components"]["securitySchemes"]["OAuth2ACG"]["flows"][
                    "authorizationCode"].pop("tokenUrl")
        if how == "bad_url":
            if kind == "ob21":
                doc["badgeConnectAPI"][0]["authorizationUrl"] = "javascript:alert(1)"
            else:
                doc["components"]["securitySchemes"]["OAuth2ACG"]["flows"][
                    "authorizationCode"]["authorizationUrl"] = "javascript:alert(1)"
        if how == "no_push_scope":
            if kind == "ob21":
                doc["badgeConnectAPI"][0]["scopesOffered"] = [OB21 + "assertion.readonly"]
            else:
                doc["components"]["securitySchemes"]["OAuth2ACG"]["flows"][
                    "authorizationCode"]["scopes"] = {OB30 + "credential.readonly": "Read"}
        return doc

    @app.get("/.well-known/badgeconnect.json")
    def badge_connect_manifest():
        if "ob21" not in bp.apis:
            return jsonify({"error": "not found"}), 404
        # OB 2.1 Badge Connect API §Discovery: the Manifest.
        doc = {
            "@context": "https://w3id.org/openbadges/badgeconnect/v1",
            "id": base + "/.well-known/badgeconnect.json",
            "type": "Manifest",
            "badgeConnectAPI": [{
                "type": "BadgeConnectAPI",
                "id": base + "/.well-known/badgeconnect.json",
                "name": bp.name,
                "image": base + "/logo.png",
                "apiBase": base + "/ims/ob/v2p1",
                "version": "v1p0",
                "termsOfServiceUrl": base + "/terms",
                "privacyPolicyUrl": base + "/privacy",
                "scopesOffered": OB21_SCOPES,
                "registrationUrl": base + "/oauth/register",
                "authorizationUrl": base + "/oauth/authorize",
                "tokenUrl": base + "/oauth/token",
            }],
        }
        out = malformed("ob21", doc)
        return out if isinstance(out, Response) else jsonify(out)

    @app.get("/ims/ob/v3p0/discovery")
    def ob3_discovery():
        if "ob30" not in bp.apis:
            return jsonify(_status_info("failure", "error", "Not found.", "unknownobject")), 404
        # OB 3.0 §6.3.1: the Service Description Document (OpenAPI 3.0).
        scopes = {OB30 + "credential.readonly": "Permission to read credentials.",
                  OB30 + "credential.upsert": "Permission to create or update credentials.",
                  OB30 + "profile.readonly": "Permission to read the profile.",
                  OB30 + "profile.update": "Permission to update the profile."}
        doc = {
            "openapi": "3.0.1",
            "info": {"title": bp.name, "version": "3.0", "termsOfService": base + "/terms",
                     "x-imssf-privacyPolicyUrl": base + "/privacy",
                     "x-imssf-image": base + "/logo.png"},
            "servers": [{"url": base + "/ims/ob/v3p0", "description": "the backpack"}],
            "paths": {"/credentials": {"get": {"operationId": "getCredentials"},
                                       "post": {"operationId": "upsertCredential"}},
                      "/profile": {"get": {"operationId": "getProfile"}},
                      "/discovery": {"get": {"operationId": "getServiceDescription"}}},
            "components": {"securitySchemes": {"OAuth2ACG": {
                "type": "oauth2",
                "description": "OAuth 2.0 Authorization Code Grant authorization",
                "x-imssf-name": bp.name,
                "x-imssf-privacyPolicyUrl": base + "/privacy",
                "x-imssf-registrationUrl": base + "/oauth/register",
                "x-imssf-termsOfServiceUrl": base + "/terms",
                "flows": {"authorizationCode": {
                    "tokenUrl": base + "/oauth/token",
                    "authorizationUrl": base + "/oauth/authorize",
                    "refreshUrl": base + "/oauth/token",
                    "scopes": scopes}}}}},
        }
        out = malformed("ob30", doc)
        return out if isinstance(out, Response) else jsonify(out)

    # -- fault injection ---------------------------------------------------------------

    def fault_before() -> tuple[Fault | None, Response | None]:
        fault = store.next_fault()
        if fault is None:
            return None, None
        if fault.kind == "slow":
            time.sleep(fault.seconds)
            return None, None
        if fault.after_store:
            return fault, None
        return None, _fault_response(fault)

    def _fault_response(fault: Fault) -> Response:
        resp = jsonify({"status": {"error": "Injected failure", "statusCode": fault.status,
                                   "statusText": "Error"}})
        resp.status_code = fault.status
        if fault.retry_after:
            resp.headers["Retry-After"] = fault.retry_after
        return resp

    def account() -> Account:
        with store.lock:
            return store.accounts[current_token.account]

    # -- OB 2.1 Badge Connect API ------------------------------------------------------

    def envelope(code: int, results: list[Any] | None = None, error: str | None = None,
                 text: str = "OK") -> Response:
        body: dict[str, Any] = {"status": {"error": error, "statusCode": code, "statusText": text}}
        if results is not None:
            body["results"] = results
        resp = jsonify(body)
        resp.status_code = code
        return resp

    def fetch_json(url: str) -> dict[str, Any] | None:
        try:
            resp = requests.get(url, headers={"Accept": "application/ld+json, application/json"},
                                timeout=5)
            return resp.json() if resp.status_code == 200 else None
        except (requests.RequestException, ValueError):
            return None

    def recipient_ok(acct: Account, assertion: dict[str, Any]) -> bool:
        recipient = assertion.get("recipient") or {}
        return _identity_matches(acct, str(recipient.get("identity") or ""),
                                 bool(recipient.get("hashed")), recipient.get("salt"))

    @app.get("/ims/ob/v2p1/assertions")
    @require_oauth(OB21 + "assertion.readonly")
    def ob21_list():
        acct = account()
        return envelope(200, list(acct.assertions.values()))

    @app.post("/ims/ob/v2p1/assertions")
    @require_oauth(OB21 + "assertion.create")
    def ob21_post():
        fault, early = fault_before()
        if early is not None:
            return early
        acct = account()
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return envelope(400, error="The request body must be a JSON object.", text="Bad Request")
        store.log.append({"api": "ob21", "keys": sorted(body)})
        if bp.badgr and set(body) != {"id"}:
            return envelope(400, error="Only {\"id\": <assertion URL>} is supported.",
                            text="Bad Request")
        if "id" in body:
            assertion = fetch_json(str(body["id"]))
            if assertion is None or assertion.get("id") != body["id"]:
                return envelope(400, error="The assertion could not be fetched from its id.",
                                text="Bad Request")
        elif "assertion" in body and isinstance(body["assertion"], dict):
            # Hosted verification: what counts is the copy at the assertion's id.
            claimed = body["assertion"]
            assertion = fetch_json(str(claimed.get("id")))
            if assertion is None or assertion.get("badge") != claimed.get("badge"):
                return envelope(400, error="The assertion does not match its hosted copy.",
                                text="Bad Request")
        elif "signedAssertion" in body and isinstance(body["signedAssertion"], str):
            assertion = verify_signed(body["signedAssertion"])
            if assertion is None:
                return envelope(400, error="The signed assertion does not verify.",
                                text="Bad Request")
        else:
            return envelope(400, error="Send one of id, assertion or signedAssertion.",
                            text="Bad Request")
        if assertion.get("revoked"):
            return envelope(400, error="This assertion has been revoked.", text="Bad Request")
        if not recipient_ok(acct, assertion):
            return envelope(403, error="The assertion's recipient does not match a verified "
                            "email address of this account.", text="Forbidden")
        with store.lock:
            exists = assertion["id"] in acct.assertions
            if exists and bp.badgr:
                return envelope(400, error="This badge already exists in your backpack.",
                                text="Bad Request")
            acct.assertions[assertion["id"]] = assertion
        if fault is not None:
            return _fault_response(fault)
        # OpenAPI binding: 200 "updated", 201 "created".
        return envelope(200 if exists else 201, [assertion], text="OK" if exists else "Created")

    def verify_signed(token: str) -> dict[str, Any] | None:
        try:
            payload = _b64json(token.split(".")[1])
            key_doc = fetch_json(payload["verification"]["creator"])
            key = load_pem_public_key(key_doc["publicKeyPem"].encode())
            return json.loads(jwt.api_jws.decode(token, key, algorithms=["RS256"]))
        except Exception:
            return None

    @app.get("/ims/ob/v2p1/profile")
    @require_oauth(OB21 + "profile.readonly")
    def ob21_profile():
        acct = account()
        return envelope(200, [{"id": f"{base}/profiles/{acct.name}", "type": "Profile",
                               "name": acct.name, "email": acct.emails[0]}])

    # -- OB 3.0 API --------------------------------------------------------------------

    @app.get("/ims/ob/v3p0/credentials")
    @require_oauth(OB30 + "credential.readonly")
    def ob30_list():
        acct = account()
        creds = list(acct.credentials.values())
        resp = jsonify({"credential": [c["json"] for c in creds if "json" in c],
                        "compactJwsString": [c["jwt"] for c in creds if "jwt" in c]})
        resp.headers["X-Total-Count"] = str(len(creds))
        return resp

    @app.post("/ims/ob/v3p0/credentials")
    @require_oauth(OB30 + "credential.upsert")
    def ob30_upsert():
        fault, early = fault_before()
        if early is not None:
            return early
        acct = account()
        ctype = (request.content_type or "").split(";")[0].strip()
        raw = request.get_data(as_text=True)
        if ctype == "text/plain":
            parts = raw.strip().split(".")
            try:
                header, payload = _b64json(parts[0]), _b64json(parts[1])
            except Exception:
                return _imsx(400, "The body is not a compact JWS.")
            if len(parts) != 3 or not header.get("alg"):
                return _imsx(400, "The body is not a compact JWS.")
            credential = payload.get("vc") if isinstance(payload.get("vc"), dict) else payload
            stored = {"jwt": raw.strip()}
        elif ctype in ("application/json", "application/vc+ld+json", "application/ld+json"):
            try:
                credential = json.loads(raw)
            except ValueError:
                return _imsx(400, "The body is not JSON.")
            if not isinstance(credential, dict) or not credential.get("proof"):
                return _imsx(400, "A credential sent as JSON must carry its proof.")
            stored = {"json": credential}
        else:
            return _imsx(415, f"Unsupported content type {ctype!r}.", "unsupported")
        store.log.append({"api": "ob30", "content_type": ctype})
        types = credential.get("type") or []
        if not credential.get("id") or not {"OpenBadgeCredential", "AchievementCredential"} & set(
                types if isinstance(types, list) else [types]):
            return _imsx(400, "Not an OpenBadgeCredential.")
        subject = credential.get("credentialSubject") or {}
        identifiers = subject.get("identifier") or []
        emails = [i for i in identifiers if isinstance(i, dict)
                  and i.get("identityType") == "emailAddress"]
        if emails and not any(_identity_matches(acct, str(i.get("identityHash") or ""),
                                                bool(i.get("hashed")), i.get("salt"))
                              for i in emails):
            return _imsx(403, "The credential's recipient (credentialSubject identifier) does "
                         "not match a verified email address of this account.", "forbidden")
        with store.lock:
            exists = credential["id"] in acct.credentials
            acct.credentials[credential["id"]] = stored  # upsert by id (§6.2.3)
        if fault is not None:
            return _fault_response(fault)
        code = 200 if exists else 201
        if "jwt" in stored:
            return Response(stored["jwt"], code, {"Content-Type": "text/plain"})
        resp = jsonify(credential)
        resp.status_code = code
        return resp

    @app.get("/ims/ob/v3p0/profile")
    @require_oauth(OB30 + "profile.readonly")
    def ob30_profile():
        acct = account()
        return jsonify({"@context": ["https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
                        "type": "Profile", "id": f"{base}/profiles/{acct.name}",
                        "name": acct.name, "email": acct.emails[0]})

    return app


def _status_info(major: str, severity: str, description: str, minor: str) -> dict[str, Any]:
    """OB 3.0 Imsx_StatusInfo."""
    return {"imsx_codeMajor": major, "imsx_severity": severity, "imsx_description": description,
            "imsx_codeMinor": {"imsx_codeMinorField": [
                {"imsx_codeMinorFieldName": "TargetEndSystem",
                 "imsx_codeMinorFieldValue": minor}]}}


def _imsx(status: int, description: str, minor: str = "invalid_data") -> Response:
    resp = jsonify(_status_info("failure", "error", description, minor))
    resp.status_code = status
    return resp
