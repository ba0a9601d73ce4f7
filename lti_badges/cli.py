"""The ``lti-badges`` command: serve, init, platforms, keys (DESIGN.md CLI contract).

Every command takes ``--json``; errors go to stderr with a non-zero exit.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from lti_badges.extensions import db


def _create_app() -> Flask:
    from lti_badges import create_app

    return create_app()


def _out(as_json: bool, data: Any, text: str) -> None:
    click.echo(json.dumps(data, indent=2, default=str) if as_json else text)


json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")


def init_database() -> None:
    """Create or upgrade the schema with the migrations, then make sure a signing key exists."""
    from flask_migrate import upgrade

    from lti_badges import MIGRATIONS_DIR
    from lti_badges.lti import keys

    upgrade(directory=MIGRATIONS_DIR)
    keys.ensure_key(current_app.config["SECRET_KEY"])
    db.session.commit()


def admin_urls() -> dict[str, str]:
    base = current_app.config["BASE_URL"]
    return {
        "registration_url": base + "/lti/register",
        "jwks_url": base + "/lti/jwks",
        "login_url": base + "/lti/login",
        "launch_url": base + "/lti/launch",
        "config_url": base + "/lti/config.json",
    }


@click.command("init")
@json_option
@with_appcontext
def init_command(as_json: bool) -> None:
    """Create the database and keys without serving."""
    init_database()
    _out(as_json, {"database": "ready", **admin_urls()},
         "Database ready, signing key present.\n" + _urls_text())


def _urls_text() -> str:
    urls = admin_urls()
    return (
        f"  Registration URL (paste into your LMS): {urls['registration_url']}\n"
        f"  JWKS URL:   {urls['jwks_url']}\n"
        f"  Login URL:  {urls['login_url']}\n"
        f"  Launch URL: {urls['launch_url']}\n"
        f"  Manual set-up: {urls['config_url']}\n"
        "  For a registration that is active at once: lti-badges platforms invite"
    )


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@with_appcontext
def serve_command(host: str, port: int, threads: int) -> None:
    """Run the tool (SQLite under instance/ unless DATABASE_URL is set; jobs in-process)."""
    from waitress import serve

    init_database()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    click.echo(f"lti-badges listening on http://{host}:{port} (public base URL "
               f"{app.config['BASE_URL']}, environment {app.config['ENV']})")
    click.echo(_urls_text())
    serve(app, host=host, port=port, threads=threads, ident="lti-badges")


@click.group("platforms")
def platforms_group() -> None:
    """LTI platform registrations."""


def _platform(platform_id: int) -> Any:
    from lti_badges.models import Platform

    platform = db.session.get(Platform, platform_id)
    if platform is None:
        raise click.ClickException(f"No platform with id {platform_id} (see `platforms list`).")
    return platform


@platforms_group.command("invite")
@click.option("--days", default=7, show_default=True, type=click.IntRange(1, 90))
@json_option
@with_appcontext
def platforms_invite(days: int, as_json: bool) -> None:
    """Print a dynamic-registration URL carrying a one-time code."""
    from lti_badges.lti.dynamic_registration import create_invite

    code = create_invite(days)
    url = current_app.config["BASE_URL"] + "/lti/register?invite=" + code
    _out(as_json, {"registration_url": url, "expires_in_days": days},
         f"{url}\nPaste it into the LMS's tool registration page; it works once, for {days} days.")


@platforms_group.command("add")
@click.option("--issuer", required=True)
@click.option("--client-id", required=True)
@click.option("--login-url", required=True)
@click.option("--token-url", required=True)
@click.option("--jwks-url", required=True)
@click.option("--deployment", "deployments", multiple=True, required=True,
              help="A deployment id; repeat for several.")
@click.option("--name")
@click.option("--audience", help="Token endpoint audience if it differs from the token URL.")
@json_option
@with_appcontext
def platforms_add(issuer: str, client_id: str, login_url: str, token_url: str, jwks_url: str,
                  deployments: tuple[str, ...], name: str | None, audience: str | None,
                  as_json: bool) -> None:
    """Manual registration (active at once); adds deployments to an existing one."""
    from lti_badges.models import Deployment, Platform, PlatformStatus
    from lti_badges.net import FetchError, NetPolicy, check_url

    policy = NetPolicy.from_config(current_app.config)
    for label, url in (("issuer", issuer), ("login URL", login_url), ("token URL", token_url),
                       ("JWKS URL", jwks_url)):
        try:
            check_url(url, policy, label)
        except FetchError as exc:
            raise click.ClickException(str(exc)) from exc
    platform = db.session.scalar(db.select(Platform).filter_by(issuer=issuer, client_id=client_id))
    if platform is None:
        platform = Platform(issuer=issuer, client_id=client_id, registered_via="manual")
        db.session.add(platform)
    platform.auth_login_url, platform.token_url, platform.jwks_url = login_url, token_url, jwks_url
    platform.name = name or platform.name or issuer
    platform.auth_audience = audience
    platform.status = PlatformStatus.ACTIVE
    db.session.flush()
    known = {d.deployment_id for d in platform.deployments}
    for dep in deployments:
        if dep not in known:
            platform.deployments.append(Deployment(deployment_id=dep))
    db.session.commit()
    _out(as_json, platform.to_dict(), f"Platform {platform.id} ({issuer}, client id {client_id}) "
         f"is active with deployments {', '.join(d.deployment_id for d in platform.deployments)}.")


@platforms_group.command("list")
@json_option
@with_appcontext
def platforms_list(as_json: bool) -> None:
    """Registrations, pending ones first."""
    from lti_badges.models import Platform

    rows = db.session.scalars(db.select(Platform).order_by(Platform.id)).all()
    data = [p.to_dict() for p in rows]
    if as_json:
        _out(True, data, "")
        return
    if not rows:
        click.echo("No platform registered yet. Paste the registration URL into your LMS, or "
                   "use `lti-badges platforms add`.")
        return
    for p in sorted(rows, key=lambda p: (p.status != "pending", p.id)):
        deps = ",".join(d.deployment_id for d in p.deployments) or "-"
        click.echo(f"{p.id:>4}  {p.status:<8}  {p.issuer}  client_id={p.client_id}  "
                   f"deployments={deps}  via={p.registered_via}")


def _set_status(platform_id: int, status: str, as_json: bool) -> None:
    platform = _platform(platform_id)
    platform.status = status
    db.session.commit()
    _out(as_json, platform.to_dict(), f"Platform {platform.id} ({platform.issuer}) is now {status}.")


@platforms_group.command("approve")
@click.argument("platform_id", type=int)
@json_option
@with_appcontext
def platforms_approve(platform_id: int, as_json: bool) -> None:
    """Activate a pending (or disabled) registration."""
    _set_status(platform_id, "active", as_json)


@platforms_group.command("disable")
@click.argument("platform_id", type=int)
@json_option
@with_appcontext
def platforms_disable(platform_id: int, as_json: bool) -> None:
    """Refuse launches and end sessions from a platform, keeping its data."""
    _set_status(platform_id, "disabled", as_json)


@platforms_group.command("remove")
@click.argument("platform_id", type=int)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@json_option
@with_appcontext
def platforms_remove(platform_id: int, yes: bool, as_json: bool) -> None:
    """Delete a registration and everything recorded under it."""
    platform = _platform(platform_id)
    if not yes and sys.stdin.isatty():
        click.confirm(f"Delete platform {platform.id} ({platform.issuer}) and its courses?",
                      abort=True)
    data = platform.to_dict()
    db.session.delete(platform)
    db.session.commit()
    _out(as_json, {"removed": data}, f"Platform {platform_id} removed.")


@click.group("keys")
def keys_group() -> None:
    """The tool's signing keys."""


@keys_group.command("rotate")
@json_option
@with_appcontext
def keys_rotate(as_json: bool) -> None:
    """Add a new LTI signing key; the old one stays published in the JWKS."""
    from lti_badges.lti import keys

    key = keys.create_key(current_app.config["SECRET_KEY"])
    db.session.commit()
    published = [k["kid"] for k in keys.public_jwks()["keys"]]
    _out(as_json, {"active_kid": key.kid, "published_kids": published},
         f"New signing key {key.kid} is active; published keys: {', '.join(published)}.")


def register_cli(app: Flask) -> None:
    for command in (init_command, serve_command, platforms_group, keys_group):
        app.cli.add_command(command)


cli = FlaskGroup(create_app=_create_app, add_default_commands=True,
                 help="lti-badges: an LTI 1.3 tool that awards Open Badges.")


def main() -> None:
    cli.main(prog_name="lti-badges")
