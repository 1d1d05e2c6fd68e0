"""Sessions: warm workers pinned to a session id, idle expiry, and their routes."""
