"""Load generation and loopback peers for measuring a running server: `novaro-lite bench` and bench/ use them."""
