"""The delivery engine: fans published events out to subscriptions, signs, sends,
retries and journals them (SPEC §2). Owns no HTTP routes."""
