"""Storage: the only package that holds SQL or imports a database driver.

database.py is the contract the stores are written against; sqlite/ and postgres/ are the engines behind
it (aiosqlite and sqlite3 only in sqlite/, asyncpg only in postgres/); store.py opens the one that
`database_url` names.
"""
