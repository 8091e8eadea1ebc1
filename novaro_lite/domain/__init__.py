"""Domain: frozen dataclasses and pure rules. Imports none of starlette, httpx, aiosqlite, apscheduler or click."""
