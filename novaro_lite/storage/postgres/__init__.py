"""The PostgreSQL engine: several processes, on several machines, share one database."""
