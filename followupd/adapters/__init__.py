"""Thin adapters to the outside world, each behind a small interface."""
