"""Files: upload URLs, stored bytes, downloads, and their routes."""
