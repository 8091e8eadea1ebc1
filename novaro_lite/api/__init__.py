"""HTTP layer: routes, request parsing, schemas, OpenAPI. The only package that builds responses."""
