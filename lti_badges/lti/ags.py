"""Assignment and Grade Services 2.0: scopes, media types and service URLs.

Reading is done by ``lti_badges.sources.lti`` (every page, retries). Moodle quirk from
../shared/moodle: every URL carries ``?type_id=``, so a sub-path (``/results``) is
inserted before the query string.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_RESULT_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
LINEITEM_CONTAINER = "application/vnd.ims.lis.v2.lineitemcontainer+json"
RESULT_CONTAINER = "application/vnd.ims.lis.v2.resultcontainer+json"


def sub_url(item_url: str, segment: str) -> str:
    """``…/lineitem?type_id=1`` + ``results`` → ``…/lineitem/results?type_id=1``."""
    parts = urlsplit(item_url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/" + segment))
