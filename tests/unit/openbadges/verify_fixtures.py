"""A published world for the verifier tests: OB 2.0 and OB 3.0 documents built
with the project's builders, served by an in-memory ``fetch`` (URL -> JSON),
as the web layer will publish them (DESIGN "URL contract")."""

from __future__ import annotations

import copy
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from PIL import Image

from lti_badges.openbadges import keys, ob2, ob3, proofs, status_list

HOST = "badges.example.edu:8443"  # a port, so did:web percent-encoding is exercised
BASE = f"https://{HOST}"
DID1 = keys.did_web(HOST, "ob/issuers/1")
DID2 = keys.did_web(HOST, "ob/issuers/2")
STATUS_URL = f"{BASE}/ob/status/1"
VALID_FROM = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
VALID_UNTIL = datetime(2030, 1, 1, tzinfo=UTC)
NOW = datetime(2025, 6, 1, tzinfo=UTC)
CREATED = "2024-05-01T12:00:00Z"
EMAIL = "learner@example.org"
SALT = "pepper"

OB2_ISSUER = f"{BASE}/ob/issuers/1"
OB2_ISSUER_B = f"{BASE}/ob/issuers/2"
OB2_KEY = f"{OB2_ISSUER}/keys/1"
OB2_KEY_B = f"{OB2_ISSUER_B}/keys/1"
OB2_REVOCATIONS = f"{BASE}/ob/revocations/1"
OB2_BADGE = f"{BASE}/ob/badges/7"
HOSTED_URL = f"{BASE}/ob/assertions/1"
SIGNED_ID = f"{BASE}/ob/assertions/2"


class NotFound(LookupError):
    status = 404


class Gone(LookupError):
    status = 410


@dataclass
class Site:
    """The tool's publication: URL -> document; did:web resolved as the web layer does."""

    docs: dict[str, Any] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    gone: set[str] = field(default_factory=set)
    variants: dict[tuple[str, str], Any] = field(default_factory=dict)

    def publish(self, url: str, doc: Any, accept: str | None = None) -> Site:
        if accept is None:
            self.docs[url] = doc
        else:
            self.variants[(accept, url)] = doc
        return self

    def clone(self) -> Site:
        return Site(copy.deepcopy(self.docs), [], set(self.gone), dict(self.variants))

    def fetch(self, url: str, accept: str | None = None) -> Any:
        """The document at ``url``; with ``accept``, the one published for that media type
        (``publish(url, jws, accept=JOSE)``), as content negotiation would answer."""
        self.requests.append(url)
        if accept is not None and (accept, url) in self.variants:
            return self.variants[(accept, url)]
        if url.startswith("did:web:"):
            url = keys.did_web_url(url)
        if url in self.gone:
            raise Gone(f"410 Gone: {url}")
        if url not in self.docs:
            raise NotFound(f"404 Not Found: {url}")
        return copy.deepcopy(self.docs[url])


@dataclass
class World:
    site: Site
    ed_key: Any
    other_ed_key: Any
    rsa_key: Any
    other_rsa_key: Any
    loader: Any
    vm1: str
    issuer: ob3.Profile
    achievement: ob3.Achievement
    unsigned: dict[str, Any]
    credential: dict[str, Any]  # Data Integrity
    jwt: str
    status_list_clear: dict[str, Any]
    status_list_revoked: dict[str, Any]
    hosted: dict[str, Any]
    signed_doc: dict[str, Any]
    signed: str

    def sign_di(self, doc: dict[str, Any], key: Any = None, vm: str | None = None) -> dict[str, Any]:
        return proofs.sign_data_integrity(
            doc, key or self.ed_key, vm or self.vm1, self.loader, created=CREATED
        )

    def credential_with(self, **kwargs: Any) -> dict[str, Any]:
        """An unsigned credential like the main one, with builder arguments changed."""
        args: dict[str, Any] = {
            "credential_id": f"{BASE}/ob/credentials/1",
            "issuer": self.issuer,
            "achievement": self.achievement,
            "valid_from": VALID_FROM,
            "valid_until": VALID_UNTIL,
            "recipient_email": EMAIL,
            "salt": SALT,
            "credential_status": status_list.status_list_entry(STATUS_URL, 5),
        }
        args.update(kwargs)
        return ob3.build_credential(**args)

    def ob2_assertion(self, **kwargs: Any) -> dict[str, Any]:
        args: dict[str, Any] = {
            "assertion_id": HOSTED_URL,
            "badge_id": OB2_BADGE,
            "recipient": ob2.recipient_email(EMAIL, SALT),
            "issued_on": VALID_FROM,
            "expires": VALID_UNTIL,
        }
        args.update(kwargs)
        return ob2.assertion(**args)


def status_list_doc(world_key: Any, vm: str, loader: Any, revoked: tuple[int, ...] = ()) -> dict[str, Any]:
    bits = status_list.BitstringStatusList()
    for i in revoked:
        bits.set(i)
    slc = status_list.status_list_credential(STATUS_URL, DID1, bits.encode(), valid_from=VALID_FROM)
    return proofs.sign_data_integrity(slc, world_key, vm, loader, created=CREATED)


def build_world(ed_key: Any, other_ed_key: Any, rsa_key: Any, loader: Any) -> World:
    site = Site()
    other_rsa = keys.generate_rsa()
    vm1 = keys.key_id(DID1, ed_key)

    # -- OB 3.0: issuer did:web documents, credential (DI + JWT), status list --
    issuer = ob3.Profile(id=DID1, name="Example University", url="https://example.edu")
    achievement = ob3.Achievement(
        id=f"{BASE}/ob/badges/7",
        name="Quiz master",
        description="Scored at least 80 % in every quiz of Algebra 101.",
        criteria_narrative="Score **80 %** or more in *Quiz 1* and *Quiz 2*.",
        image=f"{BASE}/img/badge-7.png",
    )
    site.publish(keys.did_web_url(DID1), keys.did_web_document(DID1, [(ed_key, None)]))
    site.publish(keys.did_web_url(DID2), keys.did_web_document(DID2, [(other_ed_key, None)]))
    world = World(
        site=site,
        ed_key=ed_key,
        other_ed_key=other_ed_key,
        rsa_key=rsa_key,
        other_rsa_key=other_rsa,
        loader=loader,
        vm1=vm1,
        issuer=issuer,
        achievement=achievement,
        unsigned={},
        credential={},
        jwt="",
        status_list_clear=status_list_doc(ed_key, vm1, loader),
        status_list_revoked=status_list_doc(ed_key, vm1, loader, revoked=(5,)),
        hosted={},
        signed_doc={},
        signed="",
    )
    world.unsigned = world.credential_with()
    world.credential = world.sign_di(world.unsigned)
    world.jwt = proofs.sign_vc_jwt(world.unsigned, ed_key, vm1)
    site.publish(STATUS_URL, world.status_list_clear)
    site.publish(f"{BASE}/ob/credentials/1", world.credential)
    site.publish(f"{BASE}/ob/credentials/1.jwt", world.jwt)

    # -- OB 2.0: issuers, keys, badge class, hosted and signed assertions --
    profile = ob2.Issuer2(
        id=OB2_ISSUER,
        name="Example University",
        url="https://example.edu",
        email="badges@example.edu",
        public_key_url=OB2_KEY,
        revocation_list_url=OB2_REVOCATIONS,
    )
    site.publish(OB2_ISSUER, ob2.issuer_profile(profile))
    site.publish(OB2_KEY, ob2.cryptographic_key(OB2_KEY, OB2_ISSUER, rsa_key.public_key()))
    site.publish(OB2_REVOCATIONS, ob2.revocation_list(OB2_REVOCATIONS, OB2_ISSUER, []))
    profile_b = ob2.Issuer2(
        id=OB2_ISSUER_B, name="Other School", url="https://other.example", public_key_url=OB2_KEY_B
    )
    site.publish(OB2_ISSUER_B, ob2.issuer_profile(profile_b))
    site.publish(OB2_KEY_B, ob2.cryptographic_key(OB2_KEY_B, OB2_ISSUER_B, other_rsa.public_key()))
    badge = ob2.BadgeClass2(
        id=OB2_BADGE,
        issuer_id=OB2_ISSUER,
        name="Quiz master",
        description="Scored at least 80 % in every quiz of Algebra 101.",
        image=f"{BASE}/img/badge-7.png",
        criteria_narrative="Score 80 % or more in Quiz 1 and Quiz 2.",
    )
    site.publish(OB2_BADGE, ob2.badge_class(badge))
    world.hosted = world.ob2_assertion()
    site.publish(HOSTED_URL, world.hosted)
    world.signed_doc = world.ob2_assertion(assertion_id=SIGNED_ID, signing_key_url=OB2_KEY)
    world.signed = ob2.sign_assertion(world.signed_doc, rsa_key)
    return world


def png_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGBA", (8, 8), (200, 160, 0, 255)).save(buf, format="PNG")
    return buf.getvalue()


SVG = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8" viewBox="0 0 8 8">'
    b'<circle cx="4" cy="4" r="3" fill="gold"/></svg>'
)
