"""The crawler (scrapy): robots.txt snapshots, the sitemap article inventory, operators' IP-list refresh.

Spiders only parse (``crawler.spiders``, with the pure parsers in ``crawler.sitemap`` and ``crawler.page``);
pipelines (``crawler.pipelines``) write through the ledger's public API (``ledger.robots``,
``ledger.articles``, ``ledger.iplist_refresh``). ``crawler.run`` is what the CLI calls: it builds the
settings in code (no scrapy project directory, no scrapy.cfg) and runs each crawl in-process on a Twisted
reactor kept in a background thread (``crawler.reactor``), so one process can run many crawls.
"""
