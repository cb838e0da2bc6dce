"""What a run measured: rows (mock vs bare), budgets (met / missed and why), notes."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Row:
    """One figure; ``bare`` is the reference app's figure where a bare equivalent exists."""

    section: str
    name: str
    mock: float | None
    unit: str
    bare: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.mock is None or not self.bare:
            return None
        return self.mock / self.bare


@dataclass(frozen=True)
class Budget:
    name: str
    limit: str
    measured: str
    met: bool | None  # None: not measured in this run
    why: str = ""


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)
    budgets: list[Budget] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(
        self,
        section: str,
        name: str,
        mock: float | None,
        unit: str,
        bare: float | None = None,
        note: str = "",
    ) -> Row:
        row = Row(section, name, mock, unit, bare, note)
        self.rows.append(row)
        return row

    def budget(self, name: str, limit: str, measured: str, met: bool | None, why: str = "") -> None:
        self.budgets.append(Budget(name, limit, measured, met, why))

    def unjudged(self, reason: str) -> None:
        """Smoke runs are too small to judge: every budget becomes "not measured"."""
        self.budgets = [
            Budget(b.name, b.limit, b.measured, None, "; ".join(filter(None, (reason, b.why))))
            for b in self.budgets
        ]


def fmt(value: float | None, unit: str = "") -> str:
    """Three significant figures, thousands separated; ``-`` for nothing."""
    if value is None:
        return "-"
    if unit == "x":
        return f"{value:.2f}x"
    magnitude = abs(value)
    if not unit and float(value).is_integer():
        return f"{value:,.0f}"
    if magnitude >= 1000:
        text = f"{value:,.0f}"
    elif magnitude >= 100:
        text = f"{value:.0f}"
    elif magnitude >= 10:
        text = f"{value:.1f}"
    elif magnitude >= 1:
        text = f"{value:.2f}"
    else:
        text = f"{value:.3f}"
    return f"{text} {unit}".rstrip() if unit else text


def ms(seconds: float) -> float:
    return seconds * 1000.0
