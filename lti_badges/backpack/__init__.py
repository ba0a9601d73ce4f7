"""Backpack clients (Badge Connect / OB 3.0 API) and the push outbox."""
