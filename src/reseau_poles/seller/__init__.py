"""Seller node (BPP): one or many pôles' catalogs, stock and orders on the network.

Layout (ARCHITECTURE.md): ``settings`` (configuration), ``tables`` (SQLAlchemy Core tables,
migrated by ``migrations/``), ``repository`` and ``search`` (the SQL), ``catalog`` and
``quotes`` (Beckn documents built from rows, no I/O), ``service`` (the logic of each action),
``app`` and ``routes`` (FastAPI, thin), ``cli`` (``reseau-poles seller …``).
"""
