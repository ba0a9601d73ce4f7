"""Names and Role Provisioning Services 2.0: read a course's membership, every page.

NRPS 2.0 §2.4 (paging with ``Link: rel="next"``) and §2.3 (member status).
"""

from __future__ import annotations

from typing import Any

from lti_badges.lti.links import parse_links
from lti_badges.net import FetchError, NetPolicy, request

SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
MEDIA_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
MAX_PAGES = 1000


class NrpsError(Exception):
    pass


def read_members(url: str, access_token: str, policy: NetPolicy) -> list[dict[str, Any]]:
    members: list[dict[str, Any]] = []
    seen: set[str] = set()
    next_url: str | None = url
    while next_url:
        if next_url in seen or len(seen) >= MAX_PAGES:
            raise NrpsError(f"The membership service kept paging ({next_url}); stopped.")
        seen.add(next_url)
        try:
            resp = request("GET", next_url, policy, what="membership service",
                           headers={"Accept": MEDIA_TYPE,
                                    "Authorization": "Bearer " + access_token})
        except FetchError as exc:
            raise NrpsError(str(exc)) from exc
        if resp.status_code != 200:
            raise NrpsError(f"The membership service answered HTTP {resp.status_code} "
                            f"{resp.reason or ''}".rstrip())
        try:
            body = resp.json()
        except ValueError as exc:
            raise NrpsError("The membership service did not answer with JSON.") from exc
        page = body.get("members") if isinstance(body, dict) else None
        if not isinstance(page, list):
            raise NrpsError("The membership service's answer has no members list.")
        members.extend(m for m in page if isinstance(m, dict))
        next_url = parse_links(resp.headers.get("Link")).get("next")
    return members
