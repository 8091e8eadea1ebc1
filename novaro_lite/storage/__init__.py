"""Storage: the only package that imports aiosqlite or sqlite3, or holds SQL. See database.py."""
