"""Synthetic data generators shared by the tests."""
