"""Sample data generators for demos, tests and benchmarks."""
