"""The spiders: they turn responses into items (ledger dataclasses and ``CrawlFailure``) and write nothing."""
