"""The GraphQL documents the test tooling sends, in one place."""

from __future__ import annotations

CREATE_WEBHOOK = """
mutation CreateWebhook($input: CreateWebhookInput!) {
  createWebhook(input: $input) {
    data { id secret url label eventTypes headers { key value } createdAt updatedAt
           deleted deliveryPaused version }
    error
  }
}
"""
