"""Tests of the install."""
