"""Operating the server: request ids and logs, Prometheus metrics, readiness."""
