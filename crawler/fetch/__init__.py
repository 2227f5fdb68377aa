"""The Scrapy side of ``licrawl crawl``: settings, middlewares, the crawl pipeline, site
registry, progress and failure records."""
