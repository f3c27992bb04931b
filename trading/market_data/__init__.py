"""Simulated market data: tick sum types, a validated JSON config, and seeded numpy
generators. Needs the ``trading`` extra (numpy, msgspec)."""
