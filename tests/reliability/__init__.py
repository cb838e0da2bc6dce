"""Reliability suite (issue 7): fuzzing, scale, races, leaks, bad input, faults, soak."""
