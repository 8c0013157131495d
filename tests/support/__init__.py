"""Helpers shared by the test suites, in one place: harnesses that run the real daemon
against the sandbox, in-memory worlds for the engine, scenarios for composition.

Conftests hold only fixtures and import what they need from here; test modules never
import from a sibling test module or a conftest.
"""
