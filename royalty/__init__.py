"""The thin application shell of royalty-ledger: the `royalty` command line. Holds no logic."""

import os

# numpy's OpenBLAS starts a thread per core that spins while idle, and nothing here does linear algebra:
# 1% of an ingest's CPU (set before numpy is first imported, which the line below does).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from ledger import __version__

__all__ = ["__version__"]
