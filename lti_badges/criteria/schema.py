"""The rule language's JSON Schema (draft 2020-12), built from the registry.

``rule.schema.json`` beside this module is the published copy, for designers
and other systems; a test checks it equals :func:`build_schema`.  After
adding or changing a rule type, regenerate it::

    python -m lti_badges.criteria > lti_badges/criteria/rule.schema.json

The schema describes the shape; :func:`lti_badges.criteria.validate` also
checks what JSON Schema cannot say: real calendar dates, ``from`` before
``until``, ``at_least`` N not above the number of rules, the nesting depth.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from . import rules  # noqa: F401  (registers every type)
from .base import MAX_DEPTH, RULE_TYPES
from .checks import MAX_NAME_LENGTH, MOODLE_ACTIVITY_PATTERN, MOODLE_ITEM_PATTERN
from .windows import INSTANT_PATTERN

SCHEMA_FILE = "rule.schema.json"


def build_schema() -> dict[str, Any]:
    """The JSON Schema of a rule, assembled from each type's own fragment."""
    defs: dict[str, Any] = {
        "rule": {"oneOf": [{"$ref": f"#/$defs/{key}"} for key in sorted(RULE_TYPES)]},
    }
    for key in sorted(RULE_TYPES):
        cls = RULE_TYPES[key]
        properties = {
            key: cls.value_schema,
            **cls.extra_schema,
            "from": {"$ref": "#/$defs/instant"},
            "until": {"$ref": "#/$defs/instant"},
        }
        defs[key] = {
            "title": cls.title,
            "type": "object",
            "properties": properties,
            "required": [key, *cls.extra_keys],
            "additionalProperties": False,
        }
    defs["instant"] = {
        "description": "ISO 8601 date (a UTC day) or date-time with an offset; "
        "the fact counts only if its time falls inside from..until (both inclusive).",
        "type": "string",
        "pattern": INSTANT_PATTERN,
    }
    defs["name"] = {
        "type": "string", "minLength": 1, "maxLength": MAX_NAME_LENGTH, "pattern": "\\S",
    }
    defs["item"] = {
        "description": "An AGS line item id, its label or its tag (matched exactly, in that "
        "order), or moodle:cm:<cmid> / moodle:gradeitem:<id>.",
        "$ref": "#/$defs/name",
        "if": {"type": "string", "pattern": "^moodle:"},
        "then": {"pattern": MOODLE_ITEM_PATTERN},
    }
    defs["activity"] = {
        "description": "An activity: moodle:cm:<cmid>, or its name or idnumber (exactly).",
        "$ref": "#/$defs/name",
        "if": {"type": "string", "pattern": "^moodle:"},
        "then": {"pattern": MOODLE_ACTIVITY_PATTERN},
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:lti-badges:criteria:rule",
        "title": "lti-badges badge criteria rule",
        "description": "A badge's criteria as a tree of rules. Also checked by the tool, beyond "
        "this schema: dates are real, from is not after until, at_least N is not above "
        f"the number of rules in of, and rules nest at most {MAX_DEPTH} levels.",
        "$ref": "#/$defs/rule",
        "$defs": defs,
    }


def dumps_schema() -> str:
    return json.dumps(build_schema(), indent=2, ensure_ascii=False) + "\n"


def load_schema() -> dict[str, Any]:
    """The published schema file shipped in the package."""
    text = resources.files(__package__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    return json.loads(text)
