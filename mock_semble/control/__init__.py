"""The control plane: every ``/__mock`` route (SPEC §4)."""
