"""Map LTI roles to what a person may do in the tool (pure code).

Platforms send roles in several spellings: full LIS v2 URIs in launches
(``http://purl.imsglobal.org/vocab/lis/v2/membership#Learner``), short names in
NRPS (Moodle: ``Learner``), and LTI 1.1 URNs in some custom fields. All map to
one vocabulary here (LTI 1.3 Core §A.2).
"""

from __future__ import annotations

from collections.abc import Iterable

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"

# Capabilities the web layer checks.
DESIGN = "design"  # create and edit badges and rules
AWARD = "award"  # award, revoke, sync
VIEW_COURSE = "view_course"  # see the course's badges and earners
LEARN = "learn"  # see one's own progress and badges
ADMIN = "admin"  # platform administration console for this platform

CAPABILITIES = (DESIGN, AWARD, VIEW_COURSE, LEARN, ADMIN)


def normalise_role(role: str) -> tuple[str, str, str | None]:
    """Return (kind, principal, sub_role) for any spelling of a role.

    kind is ``membership``, ``institution`` or ``system``; a short name such
    as ``Learner`` is a context (membership) role per LTI 1.3 §A.2.3.1.
    """
    role = role.strip()
    if role.startswith(LIS):
        rest = role[len(LIS):]
        if "#" not in rest:
            return ("unknown", rest, None)
        path, name = rest.split("#", 1)
        parts = path.split("/")
        kind = _kind(parts[0])
        if kind == "membership" and len(parts) > 1:  # membership/Instructor#TeachingAssistant
            return (kind, parts[1], name)
        return (kind, name, None)  # institution/person#Administrator, system/person#SysAdmin
    if role.startswith("urn:lti:"):
        # LTI 1.1: urn:lti:role:ims/lis/Instructor, urn:lti:instrole:ims/lis/Administrator,
        # urn:lti:sysrole:ims/lis/Administrator, urn:lti:role:ims/lis/Instructor/TeachingAssistant
        head, _, tail = role.partition("ims/lis/")
        kind = {"urn:lti:role:": "membership", "urn:lti:instrole:": "institution",
                "urn:lti:sysrole:": "system"}.get(head, "unknown")
        principal, _, sub = tail.partition("/")
        return (kind, principal, sub or None)
    if "#" in role:
        return ("unknown", role.split("#", 1)[1], None)
    return ("membership", role, None)


def _kind(kind: str) -> str:
    return {"membership": "membership", "institution": "institution", "system": "system"}.get(
        kind, "unknown"
    )


def capabilities_for(roles: Iterable[str]) -> list[str]:
    """What a launch with these roles may do, in a stable order."""
    caps: set[str] = set()
    parsed = [normalise_role(r) for r in roles if isinstance(r, str) and r.strip()]
    context = {(p, s) for k, p, s in parsed if k == "membership"}
    principals = {p for p, s in context if s is None}
    subs = {(p, s) for p, s in context if s is not None}
    admin_anywhere = any(
        p in ("Administrator", "SysAdmin") and k in ("institution", "system", "membership")
        for k, p, _ in parsed
    )

    teaching_assistant = ("Instructor", "TeachingAssistant") in subs or any(
        s and s.startswith("TeachingAssistant") for _, s in subs
    )
    if ("ContentDeveloper" in principals) or ("Administrator" in principals) or admin_anywhere:
        caps |= {DESIGN, AWARD, VIEW_COURSE}
    elif "Instructor" in principals and not teaching_assistant:
        caps |= {DESIGN, AWARD, VIEW_COURSE}
    elif teaching_assistant or "Instructor" in principals or "Mentor" in principals:
        caps |= {VIEW_COURSE}
    if "Learner" in principals or ("Learner", "Learner") in subs:
        caps.add(LEARN)
    if admin_anywhere:
        caps.add(ADMIN)
    return [c for c in CAPABILITIES if c in caps]


def is_learner(roles: Iterable[str]) -> bool:
    """True for a learner role in any spelling (NRPS short names included)."""
    return any(
        k == "membership" and p == "Learner" for k, p, _ in (normalise_role(r) for r in roles)
    )
