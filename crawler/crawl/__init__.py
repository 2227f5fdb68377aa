"""The Scrapy side of ``licrawl crawl``: site registry, pipeline, progress, failures."""
