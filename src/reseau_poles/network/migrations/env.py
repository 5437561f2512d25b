"""Alembic environment of the network tables; the work is done by the shared storage runner."""

from reseau_poles.network.tables import metadata
from reseau_poles.storage.migrations import run_env

run_env(metadata)
