"""Making a new tool by test-driven development: spec, test cases, implementation, verification,
repair. One run object per request; the engine keeps nothing between requests."""
