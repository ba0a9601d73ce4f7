"""Use-case helpers shared by the web pages and the CLI (no routes, no templates)."""
