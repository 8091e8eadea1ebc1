"""What every handler shares: request helpers, the Operation record, problem responses, server-sent events,
security headers and client disconnects."""
