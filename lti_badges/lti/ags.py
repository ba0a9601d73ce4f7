"""Assignment and Grade Services 2.0: line items and results the tool can see.

AGS 2.0 §3.2 (line item container, paged by ``Link: rel="next"``) and §3.3
(results). Moodle quirks from ../shared/moodle: every URL carries
``?type_id=``, so a sub-path (``/results``) is inserted before the query
string; its results endpoint fails when given ``limit``, so results are never
paged by the tool; its Link headers use typographic quotes (see ``links``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from lti_badges.lti.links import parse_links
from lti_badges.net import FetchError, NetPolicy, request

SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_RESULT_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
LINEITEM_CONTAINER = "application/vnd.ims.lis.v2.lineitemcontainer+json"
RESULT_CONTAINER = "application/vnd.ims.lis.v2.resultcontainer+json"
MAX_PAGES = 1000


class AgsError(Exception):
    pass


def sub_url(item_url: str, segment: str) -> str:
    """``…/lineitem?type_id=1`` + ``results`` → ``…/lineitem/results?type_id=1``."""
    parts = urlsplit(item_url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/" + segment))


def _get_pages(url: str, token: str, media_type: str, policy: NetPolicy,
               what: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    seen: set[str] = set()
    next_url: str | None = url
    while next_url:
        if next_url in seen or len(seen) >= MAX_PAGES:
            break  # Moodle's rel="last" can point past the end; a repeat means we are done
        seen.add(next_url)
        try:
            resp = request("GET", next_url, policy, what=what,
                           headers={"Accept": media_type, "Authorization": "Bearer " + token})
        except FetchError as exc:
            raise AgsError(str(exc)) from exc
        if resp.status_code != 200:
            raise AgsError(f"The {what} answered HTTP {resp.status_code} {resp.reason or ''}"
                           .rstrip())
        try:
            page = resp.json()
        except ValueError as exc:
            raise AgsError(f"The {what} did not answer with JSON.") from exc
        if not isinstance(page, list):
            raise AgsError(f"The {what} did not answer with a JSON array.")
        items.extend(i for i in page if isinstance(i, dict))
        next_url = parse_links(resp.headers.get("Link")).get("next")
        if not page:
            break
    return items


def read_line_items(lineitems_url: str, token: str, policy: NetPolicy) -> list[dict[str, Any]]:
    return _get_pages(lineitems_url, token, LINEITEM_CONTAINER, policy, "line item service")


def read_results(lineitem_url: str, token: str, policy: NetPolicy) -> list[dict[str, Any]]:
    return _get_pages(sub_url(lineitem_url, "results"), token, RESULT_CONTAINER, policy,
                      "result service")
