"""Helpers that start real services for the test suite."""
