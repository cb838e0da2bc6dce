"""Tests of mock_semble api."""
