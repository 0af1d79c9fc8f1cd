"""Settlement: a scheme applied to the ledger for a period, as an immutable, reproducible run.

``basis`` reads the ledger (qualifying units, referrals, answers, the outlet registry); ``sizing`` is F5;
``plans``, ``games`` (F10) and ``attribution`` (F11) turn pool families into pots and keys; ``tariffs`` is
F1 and F9; ``constraints`` is F8's water-filling; ``allocate`` rounds everything to minor units exactly
(``outlet_rows``: each outlet's trace row); ``engine`` is the in-memory DuckDB doing the integer arithmetic;
``run`` settles and re-opens runs, ``record`` writes them.
"""

from ledger.settle.basis import Basis, ledger_fingerprint
from ledger.settle.run import Settlement, allocate, load_run, run_id_for, scheme_fingerprint, settle, settle_many

__all__ = [
    "Basis",
    "Settlement",
    "allocate",
    "ledger_fingerprint",
    "load_run",
    "run_id_for",
    "scheme_fingerprint",
    "settle",
    "settle_many",
]
