"""Tests of mock_semble delivery."""
