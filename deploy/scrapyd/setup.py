"""The egg ``scrapyd-deploy`` builds in this folder and uploads to Scrapyd.

It holds no code: it names licrawl's settings module (the ``scrapy`` entry point Scrapyd's
runner reads), and through its ``SPIDER_MODULES`` Scrapyd finds the spiders. Scrapyd runs
the licrawl installed in its environment (``pip install 'licrawl[scrapyd]'``), which it
needs anyway for licrawl's dependencies.
"""

from setuptools import setup

setup(
    name="licrawl-scrapyd",
    version="1.0",
    py_modules=[],
    entry_points={"scrapy": ["settings = crawler.fetch.settings"]},
)
