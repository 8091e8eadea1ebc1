"""`serve --workers N`: what the parent hands its worker processes (handoff.py) and what they share
(rate_limits.py; the metrics files are prometheus_client's). cli/serving.py runs the processes."""
