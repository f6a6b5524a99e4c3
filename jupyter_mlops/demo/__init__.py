"""A seeded demo environment: a workspace with a demo notebook, for `make demo` and binder."""
