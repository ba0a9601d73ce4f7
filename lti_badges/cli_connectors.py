"""Platform connectors: the Moodle Web Services connector, from the CLI and the admin console.

``lti-badges connectors moodle add --platform ID --url URL --token TOKEN [--check] [--json]``
(DESIGN.md CLI contract) and its companions ``list``, ``test`` and ``remove`` (both say
which mode the connector reads in: "plugin" or "core web services"), and ``pair
--platform ID``: a one-time URL for the companion plugin (``services/moodle_pairing``). The
connector service (``lti_badges/connectors.py``, shared with the admin console and the
sync) keeps the token is stored only Fernet-encrypted with a
key derived from the application secret (purpose ``moodle-token``), is never shown
back (four last characters at most), and the site URL passes the same network policy
as every outbound fetch (HTTPS and public addresses in production).
"""

from __future__ import annotations

import json
from typing import Any

import click
from flask.cli import with_appcontext

from lti_badges.clock import utcnow
from lti_badges.connectors import (
    ConnectorError,
    check_connection,
    check_moodle_connector,
    clean_site_url,
    clean_token,
    connector_for,
    connector_summary,
    mode_label,
    save_moodle_connector,
)
from lti_badges.extensions import db
from lti_badges.models import MoodleConnector, Platform


def _out(as_json: bool, data: Any, text: str) -> None:
    click.echo(json.dumps(data, indent=2, default=str) if as_json else text)


json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")


def _platform(platform_id: int) -> Platform:
    platform = db.session.get(Platform, platform_id)
    if platform is None:
        raise click.ClickException(f"No platform with id {platform_id} (see `platforms list`).")
    return platform


@click.group("connectors")
def connectors_group() -> None:
    """Platform connectors (facts LTI does not share: every grade, completion)."""


@connectors_group.group("moodle")
def moodle_group() -> None:
    """The Moodle Web Services connector (see lti_badges/sources/MOODLE_SETUP.md)."""


@moodle_group.command("add")
@click.option("--platform", "platform_id", required=True, type=int,
              help="The platform (a Moodle registration) it reads for.")
@click.option("--url", required=True, help="The Moodle site's address (front page).")
@click.option("--token", required=True, help="The web-service token of the connector user.")
@click.option("--check", is_flag=True,
              help="Test the connection first; nothing is saved if it fails.")
@json_option
@with_appcontext
def moodle_add(platform_id: int, url: str, token: str, check: bool, as_json: bool) -> None:
    """Set the platform's Moodle connector (replaces an existing one)."""
    platform = _platform(platform_id)
    try:
        site, clean = clean_site_url(url), clean_token(token)
    except ConnectorError as exc:
        raise click.ClickException(exc.message) from exc
    result = None
    if check:
        result = check_connection(site, clean)
        if not result.ok:
            raise click.ClickException("Nothing was saved. " + result.message)
    try:
        connector = save_moodle_connector(platform, site, clean)
    except ConnectorError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from exc
    if result is not None:
        connector.last_checked_at = utcnow()
        connector.site_name = (result.site_name or "")[:255] or None
    db.session.commit()
    data = {**connector_summary(connector), "check": result.to_dict() if result else None}
    text = (f"Moodle connector for platform {platform.id} ({platform.issuer}) saved: "
            f"{connector.url}, token {data['token_hint']} (stored encrypted).")
    if result is not None:
        text += "\n" + result.message
    else:
        text += f"\nTest it with: lti-badges connectors moodle test --platform {platform.id}"
    _out(as_json, data, text)


@moodle_group.command("test")
@click.option("--platform", "platform_id", required=True, type=int)
@json_option
@with_appcontext
def moodle_test(platform_id: int, as_json: bool) -> None:
    """Test the platform's stored connector (exit 1 when Moodle refuses)."""
    platform = _platform(platform_id)
    connector = connector_for(platform.id)
    if connector is None:
        raise click.ClickException(f"Platform {platform.id} has no Moodle connector yet.")
    result = check_moodle_connector(connector)
    db.session.commit()
    if not result.ok:
        if as_json:
            click.echo(json.dumps(result.to_dict(), indent=2))
        raise click.ClickException(result.message)
    _out(as_json, result.to_dict(), f"{result.message}\nMode: {mode_label(result.mode)}.")


@moodle_group.command("pair")
@click.option("--platform", "platform_id", required=True, type=int,
              help="The platform (a Moodle registration) to pair with its plugin.")
@json_option
@with_appcontext
def moodle_pair(platform_id: int, as_json: bool) -> None:
    """A one-time pairing URL for the Moodle companion plugin (valid 24 h)."""
    from lti_badges.services.moodle_pairing import create_pairing

    pairing = create_pairing(_platform(platform_id))
    _out(as_json, pairing.to_dict(), (
        f"{pairing.url}\nPaste this URL into the pairing page of the LTI Badges plugin "
        "(local_ltibadges) in Moodle; it works once and expires in 24 hours."))


@moodle_group.command("list")
@json_option
@with_appcontext
def moodle_list(as_json: bool) -> None:
    """Every Moodle connector (tokens are never shown)."""
    rows = db.session.scalars(db.select(MoodleConnector).order_by(MoodleConnector.platform_id))
    data = [connector_summary(c) for c in rows]
    _out(as_json, data, "\n".join(
        f"platform {d['platform']}  {d['url']}  token {d['token_hint'] or '(unreadable)'}  "
        f"mode {d['mode_label'] or 'not tested yet'}  "
        f"{'last error: ' + d['last_error'] if d['last_error'] else ''}".rstrip()
        for d in data) or "No Moodle connector yet.")


@moodle_group.command("remove")
@click.option("--platform", "platform_id", required=True, type=int)
@json_option
@with_appcontext
def moodle_remove(platform_id: int, as_json: bool) -> None:
    """Delete the platform's connector (its token with it)."""
    connector = connector_for(_platform(platform_id).id)
    if connector is None:
        raise click.ClickException(f"Platform {platform_id} has no Moodle connector.")
    db.session.delete(connector)
    db.session.commit()
    _out(as_json, {"removed": platform_id}, f"Moodle connector of platform {platform_id} removed.")
