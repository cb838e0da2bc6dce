"""How much each phase measures: the full run (~10 min on 2 cores) and the smoke run."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Plan:
    smoke: bool
    tool: str  # "wrk" or "httpx"
    startup_runs: int = 7
    seq_requests: int = 1000  # per operation per round
    seq_rounds: int = 5
    list_size: int = 10
    tp_seconds: float = 5.0
    tp_rounds: int = 3
    connections: int = 16
    scale_levels: tuple[int, ...] = (100, 1_000, 10_000, 100_000)
    scale_practices: int = 100
    scale_ops: int = 300  # per operation per level per round
    scale_rounds: int = 3
    reset_subs: int = 10_000
    reset_runs: int = 5
    fanout: int = 2_000
    events: int = 300
    event_subs: int = 10
    delivery_rounds: int = 3
    plugin_runs: int = 1000  # fixture resets and calls per process mode

    @classmethod
    def full(cls, tool: str) -> Plan:
        return cls(smoke=False, tool=tool)

    @classmethod
    def smoke_plan(cls, tool: str) -> Plan:
        return replace(
            cls(smoke=True, tool=tool),
            startup_runs=1,
            seq_requests=20,
            seq_rounds=1,
            tp_seconds=1.0,
            tp_rounds=1,
            scale_levels=(100, 1_000),
            scale_practices=10,
            scale_ops=5,
            scale_rounds=1,
            reset_subs=200,
            reset_runs=2,
            fanout=20,
            events=5,
            event_subs=4,
            delivery_rounds=1,
            plugin_runs=30,
        )
