"""Making a new tool by test-driven development: spec, test cases, implementation, verification,
repair. One run object per request; the engine keeps nothing between requests. Steps use a
Workbench (model, sandbox, settings, reporter) and the library to register; they never reach the
flow, which decides what happens around a synthesis."""
