"""The crawler (scrapy): robots.txt snapshots, sitemap article inventory, operators' IP-list refresh.

Not built yet: it is the subject of the crawler issue. Nothing in the product imports this package today;
it exists so the layout is the design card's and the layering test covers it from the start.
"""
