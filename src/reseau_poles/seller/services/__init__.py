"""The seller node's business logic, one module per feature; no HTTP here (the routes of
:mod:`..api` call these services, which run their own transactions on the node's session
factory and call :mod:`..repositories` for the SQL)."""
