"""Benchmarks of akbot (see README.md); what they share with the tests is in ``tests.kit``."""

PASSWORD = "bench-passwort-123"  # every account a benchmark registers
