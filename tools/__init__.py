"""Maintenance scripts run from the repository (not shipped in the package)."""
