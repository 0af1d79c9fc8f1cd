"""royalty-ledger's library: parse logs, detect and verify AI bots, keep the DuckDB ledger, settle schemes.

Dependencies point one way (royalty -> reports, crawler -> ledger); this package never imports the CLI,
scrapy, rich or a chart library (tests/test_layering.py checks it).
"""

__version__ = "0.1.0"
