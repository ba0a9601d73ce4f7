"""The LTI-native fact source: NRPS roster and AGS line items and results.

Works on every LTI Advantage platform (DESIGN.md, "Where criteria facts come
from", kind 1).  What it reads:

- the roster from Names and Role Provisioning Services 2.0, every page
  (NRPS 2.0 §2.4: follow ``Link: rel="next"``); a member's ``status`` is
  ``Active`` when absent, and anything else means the member left (§2.3);
- every line item the tool can see (AGS 2.0 §3.2, paged the same way) and
  every result of each (§3.3).  Results are never asked for with ``limit``:
  Moodle 5.0 answers ``…/results?limit=`` with an HTML 404 (recorded in
  ../shared/moodle/lti-services/ags/ags-results-limit1-page1); a platform
  that pages results by itself still gets its ``next`` links followed.

Each result becomes a :class:`~lti_badges.criteria.facts.GradeFact`:
``item_id`` = the line item's id URL, ``label``/``tag`` from the line item,
its ``resourceId`` as an alias, ``score`` = ``resultScore`` and ``maximum`` =
``resultMaximum`` (Moodle rescales scores to the line item's
``scoreMaximum``: 7/10 on a /100 item reads back 70/100), ``time`` from the
result's ``timestamp``.  A result without ``resultScore`` is no grade.

Access tokens come from the caller, ``token_for(scopes)``, so the caller can
cache them (lti_badges.lti.service_token.TokenCache).  It may return the
token string, or an object with ``value`` and ``scopes`` (the scopes the
platform granted: Moodle silently drops unpermitted ones), which are checked
before every call.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import requests

from lti_badges.criteria.facts import AGS, Facts, GradeFact
from lti_badges.lti import ags, nrps
from lti_badges.lti.links import parse_links
from lti_badges.net import NetPolicy
from lti_badges.sources.base import (
    ACTIVE,
    CourseFacts,
    ItemSeen,
    Member,
    ProgressCallback,
    SourceError,
    build_course_facts,
    number,
)
from lti_badges.sources.http import Retry, send

MAX_PAGES = 1000


class GrantedToken(Protocol):
    """An access token with the scopes the platform granted (service_token.AccessToken)."""

    value: str
    scopes: frozenset[str]


TokenFor = Callable[[Sequence[str]], "GrantedToken | str"]


class LtiSource:
    """NRPS + AGS for one course (one context), behind the :class:`FactSource` interface.

    ``nrps_url`` is the claim's ``context_memberships_url``; ``lineitems_url``
    the AGS claim's ``lineitems``; ``ags_scopes`` the AGS claim's ``scope``
    list (the scopes the platform offers for this context), used to ask only
    for what is offered.  Either URL may be None when the platform did not
    offer the service: no NRPS means no roster (the result is incomplete
    unless merged with a source that has one); no AGS means no ``ags`` facts.
    """

    name = "lti"

    def __init__(
        self,
        *,
        token_for: TokenFor,
        policy: NetPolicy,
        nrps_url: str | None = None,
        lineitems_url: str | None = None,
        ags_scopes: Collection[str] | None = None,
        retry: Retry | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.token_for = token_for
        self.policy = policy
        self.nrps_url = nrps_url
        self.lineitems_url = lineitems_url
        self.ags_scopes = set(ags_scopes) if ags_scopes is not None else None
        self.retry = retry or Retry()
        self.session = session

    # ------------------------------------------------------------------ tokens
    def _token(self, wanted: Sequence[str], needs_any: Collection[str], what: str) -> str:
        """Get a token for ``wanted`` and check the platform granted one of ``needs_any``."""
        try:
            token = self.token_for(list(wanted))
        except SourceError:
            raise
        except Exception as exc:  # the caller's token client (e.g. ServiceTokenError): report it
            raise SourceError(f"No access token for the {what}: {exc}") from exc
        if isinstance(token, str):
            return token  # the caller vouches for its scopes
        if not set(needs_any) & set(token.scopes):
            raise SourceError(
                f"The platform did not grant the tool the {what} scope "
                f"({' or '.join(sorted(needs_any))}); enable that service for the tool "
                "in the LMS's tool settings.")
        return token.value

    def _line_item_scopes(self) -> list[str]:
        offered = self.ags_scopes
        if offered is None or ags.SCOPE_LINEITEM_READONLY in offered:
            return [ags.SCOPE_LINEITEM_READONLY]
        if ags.SCOPE_LINEITEM in offered:
            return [ags.SCOPE_LINEITEM]
        raise SourceError("The platform does not offer the AGS line item scopes for this course.")

    # ------------------------------------------------------------------ paging
    def _pages(self, url: str, media_type: str, scopes: Sequence[str],
               needs_any: Collection[str], what: str) -> list[Any]:
        """GET ``url`` and every ``rel="next"`` page; return the parsed bodies in order."""
        bodies: list[Any] = []
        seen: set[str] = set()
        next_url: str | None = url
        while next_url:
            if next_url in seen:
                break  # a platform pointing back at a page already read: nothing new
            if len(seen) >= MAX_PAGES:
                raise SourceError(f"The {what} kept paging past {MAX_PAGES} pages; stopped.")
            seen.add(next_url)
            token = self._token(scopes, needs_any, what)
            resp = send("GET", next_url, self.policy, what=what, retry=self.retry,
                        session=self.session,
                        headers={"Accept": media_type, "Authorization": "Bearer " + token})
            if resp.status_code != 200:
                raise SourceError(_status_message(what, resp))
            try:
                body = json.loads(resp.content)
            except ValueError as exc:
                raise SourceError(f"The {what} did not answer with JSON "
                                  f"(HTTP {resp.status_code}, {resp.headers.get('Content-Type')}).") from exc
            bodies.append(body)
            # Only "next": Moodle's rel="last" points one page past the end (README, AGS).
            next_url = parse_links(_link_header(resp)).get("next")
        return bodies

    # ------------------------------------------------------------------ reads
    def read_roster(self) -> tuple[Member, ...]:
        """Every member of the course, every page (raises SourceError)."""
        if not self.nrps_url:
            raise SourceError("The platform did not offer the membership service (NRPS) for this "
                              "course; enable it in the LMS's tool settings.")
        members: list[Member] = []
        for body in self._pages(self.nrps_url, nrps.MEDIA_TYPE, [nrps.SCOPE], [nrps.SCOPE],
                                "membership service"):
            page = body.get("members") if isinstance(body, dict) else None
            if not isinstance(page, list):
                raise SourceError("The membership service's answer has no members list.")
            members.extend(_member(m) for m in page if isinstance(m, dict) and m.get("user_id"))
        # A member may appear on two pages if the roster changed while paging: keep the last.
        return tuple({m.user_id: m for m in members}.values())

    def read_line_items(self) -> list[dict[str, Any]]:
        """Every line item the tool can see (raises SourceError)."""
        if not self.lineitems_url:
            raise SourceError("The platform did not offer the grade service (AGS) for this course.")
        items: list[dict[str, Any]] = []
        for body in self._pages(self.lineitems_url, ags.LINEITEM_CONTAINER,
                                self._line_item_scopes(),
                                [ags.SCOPE_LINEITEM_READONLY, ags.SCOPE_LINEITEM],
                                "line item service"):
            if not isinstance(body, list):
                raise SourceError("The line item service did not answer with a JSON array.")
            items.extend(i for i in body if isinstance(i, dict) and isinstance(i.get("id"), str))
        return list({i["id"]: i for i in items}.values())

    def read_results(self, lineitem_url: str) -> list[dict[str, Any]]:
        """Every result of one line item (AGS 2.0 §3.3; never with ``limit``)."""
        results: list[dict[str, Any]] = []
        for body in self._pages(ags.sub_url(lineitem_url, "results"), ags.RESULT_CONTAINER,
                                [ags.SCOPE_RESULT_READONLY], [ags.SCOPE_RESULT_READONLY],
                                "result service"):
            if not isinstance(body, list):
                raise SourceError("The result service did not answer with a JSON array.")
            results.extend(r for r in body if isinstance(r, dict))
        return results

    def read(self, progress: ProgressCallback | None = None) -> CourseFacts:
        """Roster, line items and every result; failures are reported, not raised."""
        errors: list[str] = []
        warnings: list[str] = []
        roster: tuple[Member, ...] | None = None
        if self.nrps_url:
            try:
                roster = self.read_roster()
            except SourceError as exc:
                errors.append(f"Roster (NRPS): {exc}")
        else:
            warnings.append("The platform did not offer the membership service (NRPS); "
                            "the roster must come from another source.")

        grades: dict[str, list[GradeFact]] = {}
        seen: list[ItemSeen] = []
        sources_read: set[str] = set()
        if self.lineitems_url:
            ags_ok = True
            try:
                line_items = self.read_line_items()
            except SourceError as exc:
                errors.append(f"Line items (AGS): {exc}")
                line_items, ags_ok = [], False
            total = len(line_items)
            seen.extend(_item_seen(item) for item in line_items)
            for done, item in enumerate(line_items, start=1):
                try:
                    results = self.read_results(item["id"])
                except SourceError as exc:
                    errors.append(f"Results of {item.get('label') or item['id']} (AGS): {exc}")
                    if total - done:
                        # The result is incomplete already; do not spend retries on the rest.
                        errors.append(f"The results of {total - done} other line item(s) "
                                      "were not read.")
                    ags_ok = False
                    break
                for result in results:
                    fact = _grade_fact(item, result)
                    if fact is not None:
                        grades.setdefault(str(result["userId"]), []).append(fact)
                if progress:
                    progress(done, total)
            if ags_ok:
                sources_read.add(AGS)
        else:
            warnings.append("The platform did not offer the grade service (AGS) for this course.")

        facts = {uid: Facts(grades=tuple(fs)) for uid, fs in grades.items()}
        return build_course_facts(self.name, roster=roster, facts=facts,
                                  sources_read=sources_read, items=seen,
                                  errors=errors, warnings=warnings)

    read_course = read


# ---------------------------------------------------------------------- mapping
def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _member(raw: dict[str, Any]) -> Member:
    given, family = _text(raw.get("given_name")), _text(raw.get("family_name"))
    name = _text(raw.get("name")) or (" ".join(p for p in (given, family) if p) or None)
    roles = raw.get("roles")
    status = _text(raw.get("status")) or ACTIVE
    return Member(
        user_id=str(raw["user_id"]),
        name=name,
        email=_text(raw.get("email")),
        roles=tuple(r for r in roles if isinstance(r, str)) if isinstance(roles, list) else (),
        status=status,
        given_name=given,
        family_name=family,
        sourcedid=_text(raw.get("lis_person_sourcedid")),
        username=_text(raw.get("ext_user_username")),
        source="nrps",
    )




def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 timestamp as an aware datetime (naive read as UTC), else None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _item_seen(item: dict[str, Any]) -> ItemSeen:
    resource_id = _text(item.get("resourceId"))
    return ItemSeen(
        item_id=item["id"],
        label=_text(item.get("label")),
        tag=_text(item.get("tag")),
        score_maximum=number(item.get("scoreMaximum")),
        kind="grade",
        source=AGS,
        aliases=(resource_id,) if resource_id else (),
        resource_link_id=_text(item.get("resourceLinkId")),
    )


def _grade_fact(item: dict[str, Any], result: dict[str, Any]) -> GradeFact | None:
    score = number(result.get("resultScore"))
    if score is None or result.get("userId") in (None, ""):
        return None  # AGS 2.0 §3.3: a result without resultScore has no grade yet
    maximum = number(result.get("resultMaximum"))
    if maximum is None or maximum <= 0:
        maximum = 1.0  # AGS 2.0 §3.3: "if no value is specified, a default maximum of 1"
    resource_id = _text(item.get("resourceId"))
    return GradeFact(
        item_id=item["id"],
        score=score,
        maximum=maximum,
        time=parse_time(result.get("timestamp")),
        label=_text(item.get("label")),
        tag=_text(item.get("tag")),
        aliases=(resource_id,) if resource_id else (),
        source=AGS,
    )


def _link_header(resp: requests.Response) -> str | None:
    """The Link header as the platform wrote it.

    Moodle's AGS writes typographic quotes (``rel=“next”``) as UTF-8 bytes; HTTP
    clients decode header bytes as Latin-1 (RFC 9110 §5.5), so they arrive as
    mojibake (``rel=â\x80\x9cnextâ\x80\x9d``) that no rel test matches.
    Undo that when the bytes are valid UTF-8.
    """
    value = resp.headers.get("Link")
    if value:
        try:
            return value.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            return value
    return value


def _status_message(what: str, resp: requests.Response) -> str:
    reason = (resp.reason or "").strip()
    detail = f"HTTP {resp.status_code}{' ' + reason[:200] if reason else ''}"
    if resp.status_code == 401:
        return (f"The {what} refused the tool's access token ({detail}); the token may have "
                "expired or the tool's registration changed.")
    if resp.status_code == 403:
        return f"The {what} refused access ({detail}); check the service is enabled for the tool."
    if resp.status_code == 404:
        return f"The {what} answered {detail}: the URL from the launch no longer exists."
    return f"The {what} answered {detail}."
