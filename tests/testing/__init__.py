"""Tests of mock_semble testing."""
