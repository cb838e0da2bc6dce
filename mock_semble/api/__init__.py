"""The GraphQL wire: schema assembly from the domains, HTTP, errors, limits, the fast path
and GraphiQL. Knows no domain by name."""
