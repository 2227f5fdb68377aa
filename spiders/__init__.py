"""Scrapy spiders of licrawl: they only decide what to fetch."""
