"""Alembic environment of the buyer node; the work is done by the shared storage runner."""

from reseau_poles.buyer.tables import metadata
from reseau_poles.storage.migrations import run_env

run_env(metadata)
