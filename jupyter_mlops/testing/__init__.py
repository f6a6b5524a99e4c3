"""Wire-level emulators and fixtures that tests, benchmarks and the demo run against."""
