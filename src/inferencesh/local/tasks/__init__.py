"""Tasks: the store and its streams, the service that validates runs, the runner, routes."""
