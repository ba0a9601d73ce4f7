"""The ``lti-badges`` command: serve, init, platforms, keys (DESIGN.md CLI contract).

Every command takes ``--json``; errors go to stderr with a non-zero exit.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from lti_badges import urls
from lti_badges.extensions import db
from lti_badges.services import catalogue

if TYPE_CHECKING:
    from lti_badges.services.award_csv import AwardRow


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
    """What ``init`` prints for an LMS admin (the URL contract's LTI endpoints)."""
    every = urls.tool_endpoints()
    return {k: every[k] for k in ("registration_url", "jwks_url", "login_url", "launch_url",
                                  "config_url")}


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

    app = current_app._get_current_object()  # type: ignore[attr-defined]  # noqa: SLF001
    if not app.config.get("BASE_URL_EXPLICIT"):
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
        app.config["BASE_URL"] = f"http://{shown}:{port}"
    init_database()
    click.echo(f"lti-badges listening on http://{host}:{port} (public base URL "
               f"{app.config['BASE_URL']}, environment {app.config['ENV']})")
    click.echo(_urls_text())
    if app.config["ENV"] == "production" and not app.config["BASE_URL"].startswith("https://"):
        click.echo("  Note: in production LMSs reach the tool over HTTPS; set "
                   "LTI_BADGES_BASE_URL to its public https:// address (behind a proxy), or "
                   "LTI_BADGES_ENV=development to try it with a local LMS over http.")
    minutes = int(app.config.get("SYNC_INTERVAL_MINUTES") or 0)
    if minutes and not app.config.get("BROKER_URL"):
        from lti_badges.jobs import Scheduler

        Scheduler(app, minutes).start()
        click.echo(f"  Courses are re-checked every {minutes} minutes (in-process).")
    outbox = int(app.config.get("OUTBOX_INTERVAL_SECONDS") or 0)
    if outbox and not app.config.get("BROKER_URL"):
        from lti_badges.jobs import OutboxWorker

        OutboxWorker(app, outbox).start()
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
    url = urls.tool_endpoints()["registration_url"] + "?invite=" + code
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
    from lti_badges import issuing
    from lti_badges.lti import keys
    from lti_badges.models import Issuer

    key = keys.create_key(current_app.config["SECRET_KEY"])
    rotated = {}
    for issuer in db.session.scalars(db.select(Issuer)):
        rotated[issuer.public_id] = [k.kid for k in issuing.rotate_issuer_keys(issuer)]
    db.session.commit()
    published = [k["kid"] for k in keys.public_jwks()["keys"]]
    _out(as_json, {"active_kid": key.kid, "published_kids": published, "issuers": rotated},
         f"New LTI signing key {key.kid} is active; published keys: {', '.join(published)}. "
         f"New issuer keys for {len(rotated)} issuer(s); old keys stay published.")


def _issuing_errors(fn: Any) -> Any:
    """Turn refused input into a CLI error (stderr, non-zero exit), nothing half-written."""
    import functools

    from lti_badges.issuing import IssuingError

    @functools.wraps(fn)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except IssuingError as exc:
            db.session.rollback()
            raise click.ClickException(exc.message) from exc

    return wrapped


def _by_public_id(model: Any, public_id: str, what: str) -> Any:
    row = db.session.scalar(db.select(model).filter_by(public_id=public_id))
    if row is None and public_id.isdigit():
        row = db.session.get(model, int(public_id))
    if row is None:
        raise click.ClickException(f"No {what} with id {public_id!r}.")
    return row


@click.group("issuers")
def issuers_group() -> None:
    """Issuer profiles (the institution named on badges)."""


@issuers_group.command("add")
@click.option("--name", required=True)
@click.option("--url", required=True)
@click.option("--email", required=True)
@click.option("--platform", "platform_id", type=int, help="The platform (institution) it serves.")
@click.option("--description")
@click.option("--image", type=click.Path(exists=True, dir_okay=False))
@click.option("--signed", is_flag=True, help="Sign OB 2.0 assertions (JWS) instead of hosting.")
@json_option
@with_appcontext
@_issuing_errors
def issuers_add(name: str, url: str, email: str, platform_id: int | None,
                description: str | None, image: str | None, signed: bool, as_json: bool) -> None:
    from lti_badges import issuing

    platform = _platform(platform_id) if platform_id else None
    asset = None
    if image:
        with open(image, "rb") as fh:
            asset = issuing.store_image(fh.read(), filename=image)
    issuer = catalogue.create_issuer(name, url, email, platform=platform, description=description,
                                     image=asset, ob2_verification="signed" if signed else "hosted")
    db.session.commit()
    data = {**issuer.to_dict(), "profile_url": urls.issuer_url(issuer),
            "did": urls.issuer_did(issuer)}
    _out(as_json, data, f"Issuer {issuer.public_id} ({issuer.name}): {data['profile_url']}")


@issuers_group.command("list")
@json_option
@with_appcontext
def issuers_list(as_json: bool) -> None:
    from lti_badges.models import Issuer

    rows = db.session.scalars(db.select(Issuer).order_by(Issuer.id)).all()
    _out(as_json, [r.to_dict() for r in rows],
         "\n".join(f"{r.public_id}  {r.name}  {r.url}" for r in rows) or "No issuer yet.")


def _course_ref(ref: str) -> Any:
    """COURSE is the tool's course id or PLATFORM_ID:CONTEXT_ID (DESIGN.md CLI contract)."""
    from lti_badges.models import Course

    if ref.isdigit():
        course = db.session.get(Course, int(ref))
    elif ":" in ref and ref.split(":", 1)[0].isdigit():
        pid, context = ref.split(":", 1)
        rows = db.session.scalars(db.select(Course).filter_by(platform_id=int(pid),
                                                              context_id=context)).all()
        if len(rows) > 1:
            raise click.ClickException(f"{ref} matches courses in several deployments; use the "
                                       "tool's course id.")
        course = rows[0] if rows else None
    else:
        raise click.ClickException(f"COURSE is a course id or PLATFORM_ID:CONTEXT_ID, not {ref!r}.")
    if course is None:
        raise click.ClickException(f"No course {ref!r} (a course appears after its first launch).")
    return course


@click.group("badges")
def badges_group() -> None:
    """Badges (badge classes / achievements)."""


@badges_group.command("add")
@click.option("--issuer", "issuer_id", required=True)
@click.option("--name", required=True)
@click.option("--description", required=True)
@click.option("--criteria-text", required=True)
@click.option("--image", type=click.Path(exists=True, dir_okay=False))
@click.option("--course")
@click.option("--rule", help="Rule JSON, or @FILE.")
@click.option("--expires-after", "expires_after", type=int, help="Days of validity.")
@click.option("--tag", "tags", multiple=True)
@click.option("--language")
@click.option("--repeatable", is_flag=True)
@json_option
@with_appcontext
@_issuing_errors
def badges_add(issuer_id: str, name: str, description: str, criteria_text: str,
               image: str | None, course: str | None, rule: str | None,
               expires_after: int | None, tags: tuple[str, ...], language: str | None,
               repeatable: bool, as_json: bool) -> None:
    from lti_badges import issuing
    from lti_badges.models import Issuer

    issuer = _by_public_id(Issuer, issuer_id, "issuer")
    rule_json = None
    if rule:
        text = rule
        if rule.startswith("@"):
            try:
                with open(rule[1:], encoding="utf-8") as fh:
                    text = fh.read()
            except OSError as exc:
                raise click.ClickException(f"Cannot read the rule file {rule[1:]}: {exc}") from exc
        try:
            rule_json = json.loads(text)
        except ValueError as exc:
            raise click.ClickException(f"The rule is not valid JSON: {exc}") from exc
    asset = None
    if image:
        with open(image, "rb") as fh:
            asset = issuing.store_image(fh.read(), filename=image)
    badge = catalogue.create_badge(
        issuer, name, description, criteria_text, image=asset,
        course=_course_ref(course) if course else None, rule=rule_json,
        expires_after_days=expires_after, tags=list(tags), language=language,
        repeatable=repeatable)
    db.session.commit()
    data = {**badge.to_dict(), "url": urls.badge_url(badge)}
    _out(as_json, data, f"Badge {badge.public_id} ({badge.name}): {data['url']}")


@click.command("award")
@click.option("--badge", "badge_id", required=True)
@click.option("--email")
@click.option("--name")
@click.option("--evidence", "evidence_url", help="A URL showing the work.")
@click.option("--csv", "csv_path", type=click.Path(exists=True, dir_okay=False),
              help="Bulk award: a CSV whose first line names the columns email (courriel) and "
                   "optionally name (nom), evidence (preuve), narrative (commentaire); "
                   "separated by , ; or tab. Checked whole before anything is awarded.")
@json_option
@with_appcontext
def award_command(badge_id: str, email: str | None, name: str | None,
                  evidence_url: str | None, csv_path: str | None, as_json: bool) -> None:
    """Award a badge by hand (one person, or every row of a CSV file)."""
    from lti_badges import issuing
    from lti_badges.models import Badge

    badge = _by_public_id(Badge, badge_id, "badge")
    if csv_path:
        from lti_badges.services.award_csv import award_rows

        done = award_rows(badge, _read_award_csv(csv_path), awarded_by="cli")
        awarded = [issuing.award_summary(award) for _, award in done.awarded]
        errors = [{"line": row.line, "email": row.email, "error": message}
                  for row, message in done.skipped + done.failed]
        errors.sort(key=lambda e: e["line"])
        if as_json:
            click.echo(json.dumps(awarded, indent=2))
        else:
            for a in awarded:
                click.echo(f"{a['recipient']}: {a['assertion_url']}")
        for err in errors:
            click.echo(f"line {err['line']} ({err['email']}): {err['error']}", err=True)
        if errors:
            raise SystemExit(1)
        return
    if not email:
        raise click.ClickException("Give --email (or --csv FILE for several people).")
    try:
        award = issuing.award(badge, email=email, name=name, evidence_url=evidence_url,
                              source="manual", awarded_by="cli")
    except issuing.IssuingError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from exc
    data = issuing.award_summary(award)
    _out(as_json, data, f"Awarded {badge.name} to {email}.\n  Assertion:  "
         f"{data['assertion_url']}\n  Credential: {data['credential_url']}")


def _read_award_csv(path: str) -> list[AwardRow]:
    """The rows of an award CSV, read by the studio's reader (services.award_csv); every
    problem is reported, by line, before anything is awarded."""
    from lti_badges.services.award_csv import parse_award_csv

    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise click.ClickException(f"Cannot read {path}: {exc.strerror or exc}") from exc
    rows, problems = parse_award_csv(data)
    if problems:
        # Validate every row before issuing anything: a typo on line 40 should not leave 39 awards.
        raise click.ClickException(f"Nothing was awarded from {path}. Fix these first:\n  "
                                   + "\n  ".join(problems))
    return rows


@click.group("awards")
def awards_group() -> None:
    """Awards already issued."""


@awards_group.command("list")
@click.option("--badge", "badge_id", help="Only this badge's awards.")
@click.option("--course", "course_ref", help="Only the awards of this course's badges "
              "(the tool's course id or PLATFORM_ID:CONTEXT_ID).")
@json_option
@with_appcontext
def awards_list(badge_id: str | None, course_ref: str | None, as_json: bool) -> None:
    """Awards with their status: active, revoked or expired (--json: award objects)."""
    from lti_badges import issuing
    from lti_badges.models import Award, Badge

    query = db.select(Award).join(Badge).order_by(Award.id)
    if badge_id:
        query = query.where(Award.badge_id == _by_public_id(Badge, badge_id, "badge").id)
    if course_ref:
        query = query.where(Badge.course_id == _course_ref(course_ref).id)
    statuses = {"valid": "active"}  # the contract's words for a badge that still holds
    data = [{**summary, "status": statuses.get(summary["status"], summary["status"])}
            for summary in map(issuing.award_summary, db.session.scalars(query))]
    _out(as_json, data, "\n".join(
        f"{a['id']}  {a['badge']}  {a['recipient']}  {a['status']}  {a['issued_on']}"
        for a in data) or "No award yet.")


@click.command("revoke")
@click.argument("award_id")
@click.option("--reason", required=True)
@json_option
@with_appcontext
@_issuing_errors
def revoke_command(award_id: str, reason: str, as_json: bool) -> None:
    """Revoke an award; the revocation and status lists say so from now on."""
    from lti_badges import issuing
    from lti_badges.models import Award

    award = issuing.revoke(_by_public_id(Award, award_id, "award"), reason)
    _out(as_json, issuing.award_summary(award), f"Award {award.public_id} revoked: {reason}")


@click.command("sync")
@click.argument("course", required=False)
@click.option("--all", "all_courses", is_flag=True, help="Every course with rule-bound badges.")
@json_option
@with_appcontext
def sync_command(course: str | None, all_courses: bool, as_json: bool) -> None:
    """Evaluate the badges' rules and award now (COURSE: id or PLATFORM_ID:CONTEXT_ID)."""
    from lti_badges import awarding
    from lti_badges.models import Badge, Course, Platform

    if bool(course) == all_courses:
        raise click.ClickException("Give one COURSE, or --all.")
    if all_courses:
        ids = db.session.scalars(
            db.select(Course.id).join(Platform).where(Platform.status == "active")
            .where(Course.id.in_(db.select(Badge.course_id).where(Badge.rule.is_not(None))))
            .order_by(Course.id)).all()
    else:
        ids = [_course_ref(course).id]
    results = []
    for cid in ids:
        try:
            results.append(awarding.sync_course(cid, trigger="cli").to_json())
        except Exception as exc:  # the run says failed; a person reads one line, no traceback
            db.session.rollback()
            results.append({"course": cid, "status": "failed", "run": None, "awarded": [],
                            "errors": [{"error": awarding.failure_reason(exc)}],
                            "unchanged": False})
    if as_json:
        click.echo(json.dumps(results if all_courses else results[0], indent=2))
    else:
        for r in results:
            state = "unchanged" if r["unchanged"] else r["status"]
            click.echo(f"course {r['course']}: {state}, {len(r['awarded'])} awarded")
            for a in r["awarded"]:
                click.echo(f"  {a['recipient']}: {a['assertion_url']}")
    failed = [r for r in results if r["status"] != "done"]
    for r in failed:
        for err in r["errors"]:
            click.echo(f"course {r['course']}: {err.get('error')}", err=True)
    if failed:
        raise SystemExit(1)


@click.command("worker")
@click.option("--concurrency", default=2, show_default=True, type=int)
@click.option("--beat", is_flag=True, help="Also run the schedule (every SYNC_INTERVAL_MINUTES).")
@with_appcontext
def worker_command(concurrency: int, beat: bool) -> None:
    """A Celery worker for syncs (needs LTI_BADGES_BROKER_URL, e.g. redis://127.0.0.1:6379/0)."""
    from lti_badges.jobs import make_celery

    broker = current_app.config.get("BROKER_URL")
    if not broker:
        raise click.ClickException("Set LTI_BADGES_BROKER_URL (e.g. redis://127.0.0.1:6379/0) "
                                   "to run workers; without it jobs run inside `serve`.")
    celery = make_celery(current_app._get_current_object(), broker)  # type: ignore[attr-defined]  # noqa: SLF001
    argv = ["worker", "--loglevel=INFO", f"--concurrency={concurrency}", "--pool=threads"]
    if beat:
        argv.append("--beat")
    celery.worker_main(argv)


def register_cli(app: Flask) -> None:
    from lti_badges.cli_connectors import connectors_group

    for command in (init_command, serve_command, platforms_group, keys_group, issuers_group,
                    badges_group, award_command, revoke_command, sync_command, worker_command,
                    connectors_group, awards_group):
        app.cli.add_command(command)


cli = FlaskGroup(create_app=_create_app, add_default_commands=True,
                 help="lti-badges: an LTI 1.3 tool that awards Open Badges.")


def main() -> None:
    cli.main(prog_name="lti-badges")
