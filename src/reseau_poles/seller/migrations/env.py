"""Alembic environment of the seller node; the work is done by the shared storage runner."""

from reseau_poles.seller.tables import metadata
from reseau_poles.storage.migrations import run_env

run_env(metadata)
