"""Test support shared by the whole test tree (and benchmarks): real local servers."""
