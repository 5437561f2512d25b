"""Alembic migrations of the network tables (outbox, transcript)."""
