"""Benchmarks (`make bench`): each bench_<name>.py module measures one thing on PostgreSQL."""
