"""criteria.refs: prerequisites from the parsed rule objects, their order and tiers."""

from __future__ import annotations

from lti_badges.criteria.base import Rule
from lti_badges.criteria.engine import parse
from lti_badges.criteria.refs import badge_refs, prerequisite_order, tiers


def test_refs_come_from_the_rule_tree_in_order_once():
    rule = {"all": [{"badge": "b1"}, {"any": [{"grade": {"item": "Quiz", "min_percent": 50}},
                                              {"badge": 7}, {"badge": "b1"}]}]}
    assert badge_refs(rule) == ["b1", "7"]
    assert badge_refs({"grade": {"item": "Quiz", "min_percent": 50}}) == []
    assert badge_refs(None) == []


def test_only_what_the_rule_language_calls_a_badge_counts():
    # A key named "badge" inside another rule's value is not a prerequisite, and a rule that
    # does not parse names none (the old JSON walkers counted both; one took True for a badge).
    assert badge_refs({"badge": True}) == []
    assert badge_refs({"all": [{"badge": "b1"}, {"nonsense": 1}]}) == []
    assert badge_refs({"manual": {}}) == []


def test_walk_visits_every_rule_depth_first():
    rule = parse({"all": [{"badge": "a"}, {"any": [{"badge": "b"}, {"badge": "c"}]}]})
    kinds = [type(r).__name__ for r in rule.walk()]
    assert kinds[0] != "Badge" and kinds.count("Badge") == 3
    assert all(isinstance(r, Rule) for r in rule.walk())


def test_prerequisites_come_first_and_cycles_end():
    rules = {"adv": {"badge": "app"}, "app": {"badge": "fun"}, "fun": None,
             "x": {"badge": "y"}, "y": {"badge": "x"}, "other": {"badge": "not-here"}}
    order = prerequisite_order(rules, ["adv", "x", "other", "app", "fun", "y"])
    assert order.index("fun") < order.index("app") < order.index("adv")
    assert sorted(order) == sorted(rules)  # every badge once, the cycle included


def test_tiers():
    level = tiers({"fun": [], "app": ["fun"], "adv": ["app", "fun"], "solo": [],
                   "x": ["y"], "y": ["x"]})
    assert (level["fun"], level["app"], level["adv"], level["solo"]) == (0, 1, 2, 0)
    assert max(level["x"], level["y"]) <= 2  # a cycle ends (the studio shows it to fix)
