"""``python -m lti_badges.criteria``: print the rule JSON Schema (to regenerate the file)."""

from .schema import dumps_schema

print(dumps_schema(), end="")
