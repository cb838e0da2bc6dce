"""Tests of the core package: the event catalogue and event input."""
