"""licrawl's Scrapy downloader middlewares, one concern per module."""
