"""An independent LTI 1.3 platform peer for testing the tool over real HTTP.

Built on ``lti1p3platform`` (id_token building and signing, OIDC initiation, deep-linking
response and client-assertion checks, access tokens) with the stricter checks that library
leaves out; nothing here imports the tool under test.

Wiring a tool to a peer (both sides must know each other, as in a real LMS):

* tool side (e.g. ``lti-badges platforms add``): issuer ``peer.issuer``, client_id of your
  choice, OIDC auth URL ``peer.auth_login_url``, token URL ``peer.token_url`` (also the
  expected client-assertion ``aud``), JWKS ``peer.jwks_url``, deployment id(s);
* platform side: ``peer.register_tool(client_id, deployment_ids, login_url, launch_url,
  jwks_url, redirect_uris=None, deep_link_url=None, scopes=None)`` with the tool's URLs;
  or let the tool register itself with ``peer.dynamic_register(browser, register_url)``.

Then::

    with PlatformPeer(name="A") as peer:
        peer.register_tool("cid", ["d1"], tool_login, tool_launch, tool_jwks)
        peer.add_course("c1", title="Course"); peer.add_user("u1", name="Ann")
        peer.enroll("c1", "u1", roles=["Learner"])
        response = peer.launch(peer.new_browser(), "u1", "c1")

Use lower-case context ids when a pylti1p3 client pages NRPS/AGS: pylti1p3 lower-cases the
URL it reads from the ``Link`` header.
"""

from .platform import AccessToken, PendingLaunch, PlatformPeer, ToolRegistration
from .vocab import role_uri, short_role

__all__ = [
    "AccessToken",
    "PendingLaunch",
    "PlatformPeer",
    "ToolRegistration",
    "role_uri",
    "short_role",
]
