"""Benchmarks of stallapp: a synthetic year of history and a load generator."""
