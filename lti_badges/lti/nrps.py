"""Names and Role Provisioning Services 2.0: the scope and media type.

Reading every page of a membership (NRPS 2.0 §2.4, ``Link: rel="next"``) is done by
``lti_badges.sources.lti``.
"""

SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
MEDIA_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
