"""Criteria rules: a registry of rule types; validation, evaluation and explanation as pure code."""
