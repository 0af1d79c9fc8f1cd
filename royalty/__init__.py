"""The thin application shell of royalty-ledger: the `royalty` command line. Holds no logic."""

from ledger import __version__

__all__ = ["__version__"]
