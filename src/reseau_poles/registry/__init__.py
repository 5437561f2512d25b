"""The registry (BREG): who is on the network, their URLs, roles, domains, regions, keys and
status. ``create_app(settings)`` gives the FastAPI application; ``cli.app`` the commands."""
