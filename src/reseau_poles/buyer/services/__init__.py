"""The buyer node's business logic, one module per feature (no FastAPI, no HTTP request):
the routes of :mod:`..api` call these services; their SQL is in :mod:`..repositories`."""
