"""Tests of mock_semble webhooks."""
