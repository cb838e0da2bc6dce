"""The small core every domain builds on: clock, ids, tenancy, events, errors, runtime."""
