"""The buyer node's SQL, one module per feature (SQLAlchemy Core on a typed ``Session``;
functions never commit: the services own the transactions)."""
