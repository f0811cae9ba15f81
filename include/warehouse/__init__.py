"""The PostgreSQL side of the platform: the embedded server, connections and bootstrap."""
