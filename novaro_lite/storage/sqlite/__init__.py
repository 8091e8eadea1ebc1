"""The SQLite engine, the embedded default: one file in data_dir."""
