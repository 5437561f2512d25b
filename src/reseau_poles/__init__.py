"""Réseau Pôles: an open Beckn 1.1 network for Québec's agri-food logistics hubs."""

__version__ = "0.1.0"
