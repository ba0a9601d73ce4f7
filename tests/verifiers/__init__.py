"""Glue around independent verifiers (implementations nobody on the team wrote)."""
