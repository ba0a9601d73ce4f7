"""Unit tests for badge image checks, SVG sanitising and baking."""
