"""``python -m bench --compare FILE``: this run's figures beside a saved earlier run's
(and ``python -m bench.compare EARLIER LATER`` for two saved runs; exit code 1 when a
figure is slower).

Absolute requests per second move with whatever else the machine is doing, so the figure
compared for a request-per-second row is its ratio to the baseline measured in the same run
(``ratio``, set by ``report.table``); rows without a baseline compare their own throughput
(events per second) or their latency (p95 for the million-ticket reads). A change is
"slower" when it loses more than ``SLOWER`` (10 %) of the earlier figure: the line a change
to a hot path must not cross without saying so in its closing note.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

SLOWER = 0.10


@dataclasses.dataclass(frozen=True)
class Change:
    row: str  # scenario · endpoint (database)
    metric: str
    before: float
    after: float
    higher_is_better: bool

    @property
    def change(self) -> float:
        """The relative change, positive when better."""
        if self.before == 0:
            return 0.0
        delta = (self.after - self.before) / self.before
        return (delta if self.higher_is_better else -delta) + 0.0  # never "-0%"

    @property
    def slower(self) -> bool:
        return self.change < -SLOWER


def _key(row: dict) -> tuple[str, str, str]:
    return (row["scenario"], row["endpoint"], row["database"])


def _metric(row: dict) -> tuple[str, float, bool] | None:
    """The figure a row is judged by: (name, value, higher is better); none for a baseline
    (the yardstick: its own speed is the machine's)."""
    if row.get("scenario") == "baseline":
        return None
    if row.get("ratio") is not None:
        return ("x baseline", float(row["ratio"]), True)
    if row.get("events_per_second") is not None:
        return ("events/s", float(row["events_per_second"]), True)
    if row.get("invoice_seconds") is not None:
        return ("s", float(row["invoice_seconds"]), False)
    if row.get("scenario") == "a million" and row.get("p95_ms") is not None:
        return ("p95 ms", float(row["p95_ms"]), False)
    if row.get("rps") and row.get("ratio_to") is None:
        return ("req/s", float(row["rps"]), True)
    return None


def compare(rows: list[dict], earlier: list[dict]) -> list[Change]:
    """One change per row measured in both runs by the same figure, in this run's order."""
    before = {_key(r): r for r in earlier}
    changes = []
    for row in rows:
        old = before.get(_key(row))
        now, then = _metric(row), _metric(old) if old else None
        if now is None or then is None or now[0] != then[0]:
            continue
        scenario, endpoint, database = _key(row)
        changes.append(
            Change(f"{scenario} · {endpoint} ({database})", now[0], then[1], now[1], now[2])
        )
    return changes


def load_rows(path: Path) -> list[dict]:
    """The rows of a run saved by ``report.save``."""
    data = json.loads(path.read_text())
    rows = data.get("rows") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise ValueError(f"{path} is not a saved benchmark run (no 'rows')")
    return rows


def render(changes: list[Change], earlier: Path) -> str:
    if not changes:
        return f"Nothing in this run was measured in {earlier} too."
    lines = [
        f"Against {earlier}:",
        "",
        "| row | figure | before | now | change | |",
        "| --- | --- | ---: | ---: | ---: | --- |",
    ]
    for c in changes:
        flag = f"slower by more than {SLOWER:.0%}" if c.slower else ""
        lines.append(
            f"| {c.row} | {c.metric} | {c.before:,.2f} | {c.after:,.2f} | "
            f"{c.change:+.0%} | {flag} |"
        )
    slower = sum(c.slower for c in changes)
    lines += ["", f"{slower} of {len(changes)} figures slower by more than {SLOWER:.0%}."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.compare EARLIER LATER``: two saved runs, without running anything."""
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=main.__doc__)
    parser.add_argument("earlier", type=Path, help="a saved run (bench/results/*.json)")
    parser.add_argument("later", type=Path, help="a later saved run")
    args = parser.parse_args(argv)
    try:
        earlier, later = load_rows(args.earlier), load_rows(args.later)
    except (OSError, ValueError) as exc:
        parser.error(str(exc))
    changes = compare(later, earlier)
    print(render(changes, args.earlier))
    return 1 if any(c.slower for c in changes) else 0


if __name__ == "__main__":
    raise SystemExit(main())
