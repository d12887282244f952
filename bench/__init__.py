"""`make bench`: Handoff's benchmarks. Never part of `make test`; writes BENCHMARKS.md."""
