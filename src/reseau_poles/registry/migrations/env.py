"""Alembic environment of the registry; the work is done by the shared storage runner."""

from reseau_poles.registry.tables import metadata
from reseau_poles.storage.migrations import run_env

run_env(metadata)
