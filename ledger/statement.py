"""A stored settlement run re-opened as a statement: every amount traced to the parameters, pots, keys and
counted fetches that produced it.

The statement reads only what the run stored (settlement, pots, shares, outlets, payouts, facts) and, for
one outlet, re-derives the evidence from the ledger: the qualifying fetches of that outlet in the uploads
the run read, by operator, purpose, verification and robots.txt verdict. It then recounts the outlet's
units per operator and says whether they still match what the run counted (they do unless facts the run
read, such as robots verdicts, were added since).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pyarrow as pa

from ledger.errors import NotFoundError
from ledger.outlets import require_outlet
from ledger.period import Period
from ledger.schemes import scheme_from_canonical
from ledger.schemes.explain import explain
from ledger.settle import Basis
from ledger.settle.basis import compose
from ledger.settle.plans import cap_counted, cell_usage
from ledger.store.db import Ledger, named_query


@dataclass(frozen=True)
class Statement:
    run_id: str
    outlet: str | None
    header: pa.Table  # name, value
    outlets: pa.Table  # outlet, status, basis_units, fetches, exact_amount, amount, author_amount, share, ...
    shares: pa.Table  # pot, payer, key, outlet, key_value, key_total, key_share, pot_amount, amount
    lines: pa.Table  # outlet, operator, basis_units, fetches, amount, currency
    evidence: pa.Table | None  # operator, purpose, verification, robots, fetches, weighted (one outlet only)
    verified: bool | None  # the recount matches the run (one outlet only)

    def tables(self) -> dict[str, pa.Table]:
        found = {"header": self.header, "outlets": self.outlets, "shares": self.shares, "lines": self.lines}
        if self.evidence is not None:
            found["evidence"] = self.evidence
        return found


def statement(ledger: Ledger, run_id: str, outlet: str | None = None) -> Statement:
    head = ledger.rows("SELECT * FROM settlements WHERE run_id = ?", [run_id])
    if not head:
        known = [r["run_id"] for r in ledger.rows("SELECT run_id FROM settlements ORDER BY created_at DESC LIMIT 50")]
        raise NotFoundError("run", run_id, known, "List runs with 'royalty settle' or 'royalty compare'.")
    run = head[0]
    params = {"run_id": run_id, "outlet": outlet}
    if outlet is not None and not ledger.rows(named_query("statement_outlets"), params):
        require_outlet(ledger, outlet)  # unknown outlet: an error with a did-you-mean
    scheme = scheme_from_canonical(run["scheme_name"], run["scheme_toml"])
    header = _header(ledger, run, explain(scheme))
    outlets = ledger.arrow(named_query("statement_outlets"), params)
    shares = ledger.arrow(named_query("statement_shares"), params)
    lines = ledger.arrow(named_query("statement_lines"), params)
    if outlet is None:
        return Statement(run_id, None, header, outlets, shares, lines, None, None)
    period = Period(run["period"], run["period_start"], run["period_end"])
    stored = ledger.rows("SELECT upload_ids FROM settlement_uploads WHERE run_id = ?", [run_id])
    uploads = list(stored[0]["upload_ids"]) if stored else []
    basis = Basis(ledger, period, outlet=outlet, uploads=uploads)
    evidence = _evidence(basis, scheme)
    verified = _recount(basis, scheme, lines)
    extra = [("evidence", "recounted from the ledger: " + ("matches the run" if verified else "DIFFERS from the run"))]
    header = _append(header, extra)
    return Statement(run_id, outlet, header, outlets, shares, lines, evidence, verified)


def _header(ledger: Ledger, run: dict[str, Any], formula: str) -> pa.Table:
    quantum = Decimal(1).scaleb(-int(run["minor_units"]))
    rows = [
        ("run_id", run["run_id"]),
        ("scheme", run["scheme_name"]),
        ("family", run["family"]),
        (
            "period",
            f"{run['period']} ({run['period_start'].isoformat()} to {run['period_end'].isoformat()}, end excluded)",
        ),
        ("currency", run["currency"]),
        ("total", str(run["total"].quantize(quantum))),
        ("retained", str(run["retained"].quantize(quantum))),
        ("qualifying_fetches", str(run["qualifying_fetches"])),
        ("scheme_hash", run["scheme_hash"]),
        ("ledger_fingerprint", run["ledger_fingerprint"]),
        ("created_at", run["created_at"].isoformat()),
        ("formula", formula),
        ("parameters", json.dumps(json.loads(run["scheme_toml"]), sort_keys=True, ensure_ascii=False)),
    ]
    facts = ledger.rows("SELECT name, value FROM settlement_facts WHERE run_id = ? ORDER BY name", [run["run_id"]])
    rows += [(f"fact.{f['name']}", f["value"]) for f in facts]
    pots = ledger.rows("SELECT * FROM settlement_pots WHERE run_id = ? ORDER BY pot", [run["run_id"]])
    for pot in pots:
        rows.append(
            (
                f"pot.{pot['pot']}",
                f"{pot['detail']}; paid {pot['amount']}, retained {pot['retained']}; split by {pot['key']}"
                f" (key total {pot['key_total'].normalize():f})",
            )
        )
    return pa.table({"name": [r[0] for r in rows], "value": [str(r[1]) for r in rows]})


def _append(table: pa.Table, rows: list[tuple[str, str]]) -> pa.Table:
    more = pa.table({"name": [r[0] for r in rows], "value": [r[1] for r in rows]})
    return pa.concat_tables([table, more])


def _evidence(basis: Basis, scheme: Any) -> pa.Table:
    weighting = scheme.weighting if scheme.family == "pool_weighted" else None
    needs = basis.needs(scheme, weighting)
    params = basis.params(scheme, weighting or _neutral(), needs)
    basis.define_views(needs)
    sql = compose(named_query("qualifying_fetches"), named_query("statement_evidence"))
    used = {k: v for k, v in params.items() if k not in ("refetch", "cap", "damping", "damping_k")}
    return basis.ledger.arrow(sql, used)


def _neutral() -> Any:
    from ledger.settle.basis import NEUTRAL

    return NEUTRAL


def _recount(basis: Basis, scheme: Any, lines: pa.Table) -> bool:
    """The outlet's units per operator, counted again, equal the run's basis units."""
    if scheme.family == "attribution_share":
        table = basis.answers(scheme, scheme.params.burst_window_seconds, scheme.params.burst_by == "operator_ip")
        table = table.select(["outlet", "operator", "units_e6", "fetches"])
    else:
        weighting = scheme.weighting if scheme.family == "pool_weighted" else None
        table = basis.units(scheme, weighting)
    usage = cap_counted(cell_usage(table), scheme) if scheme.constraints is not None else cell_usage(table)
    counted = {op: Decimal(u).scaleb(-6) for op, u in usage.select("operator", "units_e6").rows()}
    stored = {
        op: units
        for op, units in zip(lines["operator"].to_pylist(), lines["basis_units"].to_pylist(), strict=True)
        if units
    }
    return {k: v for k, v in counted.items() if v} == stored
