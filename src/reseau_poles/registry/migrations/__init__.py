"""Alembic migrations of the registry (version table ``alembic_version_registry``)."""
