"""Testing workflows written in Python: see WorkflowTester."""

from engine.core.testing import TestRun, WorkflowTester

__all__ = ["TestRun", "WorkflowTester"]
