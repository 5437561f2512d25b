"""The registry's SQL (SQLAlchemy Core on :mod:`..tables`), one module per feature. Functions
take a ``Session`` inside a unit of work opened by a service (``storage.write_session`` /
``read_session``); none commits."""
