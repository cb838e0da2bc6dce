"""Tests of mock_semble control."""
