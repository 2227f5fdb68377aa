"""Every Scrapy default licrawl changes, in one commented place.

Like Scrapy's own ``default_settings.py``: one module-level constant per setting. The crawl
command builds its :class:`scrapy.settings.Settings` from these, then overlays the
command-line options and any ``-s NAME=VALUE``. Settings named ``LICRAWL_*`` are ours.
"""

from __future__ import annotations

from typing import Any

from scrapy.settings import Settings

from crawler.core.version import __version__

# --- Identity -------------------------------------------------------------------------------

BOT_NAME = "licrawl"

# Where site owners can read what the crawler does and how to reach us. Shown in USER_AGENT.
LICRAWL_CONTACT_URL = "https://github.com/licrawl/licrawl"

# The robots.txt product token we obey (``User-agent: licrawl`` groups apply to us).
ROBOTSTXT_USER_AGENT = "licrawl"


def user_agent(contact_url: str) -> str:
    """licrawl's user agent, naming ``contact_url``."""
    return f"licrawl/{__version__} (license research crawler; +{contact_url})"


# Descriptive user agent; rebuilt from LICRAWL_CONTACT_URL when a crawl starts (JobAddon)
# unless USER_AGENT itself is set.
USER_AGENT = user_agent(LICRAWL_CONTACT_URL)

# --- Politeness -----------------------------------------------------------------------------

# Obey robots.txt for our user agent (Scrapy: False). licrawl's SiteSignalsMiddleware does
# this in place of Scrapy's RobotsTxtMiddleware, so robots.txt is fetched once per host and
# also read for AI-crawler rules and Crawl-delay.
ROBOTSTXT_OBEY = True

# AutoThrottle adapts the delay to the server's latency (Scrapy: off).
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0  # Scrapy: 5.0
AUTOTHROTTLE_MAX_DELAY = 30.0  # Scrapy: 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

# A small floor between two requests to one host (Scrapy: 0). AutoThrottle never goes below.
DOWNLOAD_DELAY = 0.25

# Few parallel requests per host (Scrapy: 8), more in total across hosts (Scrapy: 16).
CONCURRENT_REQUESTS = 32
CONCURRENT_REQUESTS_PER_DOMAIN = 2

# Honour robots.txt ``Crawl-delay`` for our user agent (Scrapy ignores it); seconds, capped.
LICRAWL_CRAWL_DELAY_MAX = 60.0

# robots.txt answering 5xx/429, or unreachable, means "disallow all" for the host (RFC 9309
# 2.3.1.4) until a later fetch succeeds: fetched again when a request for the host comes this
# many seconds after the failure (doubling after each further failure), at most N times.
LICRAWL_ROBOTS_REFETCH_DELAY = 60.0
LICRAWL_ROBOTS_REFETCHES = 3

# --- Size and time limits -------------------------------------------------------------------

# Web pages are small: cancel anything over 10 MiB (Scrapy: 1 GiB), warn over 2 MiB (32 MiB).
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024

# Give up on a response after 30 s (Scrapy: 180 s).
DOWNLOAD_TIMEOUT = 30

# Retry 5xx, 408, 429 and network errors/timeouts twice (Scrapy's default list), with
# exponential backoff between attempts (RETRY_BACKOFF_* are ours, see RetryBackoffMiddleware).
RETRY_ENABLED = True
RETRY_TIMES = 2
LICRAWL_RETRY_BACKOFF_BASE = 1.0
LICRAWL_RETRY_BACKOFF_MAX = 30.0

# Follow at most 5 redirects per request (Scrapy: 20, Firefox's default).
REDIRECT_MAX_TIMES = 5

# http(s) only: remove the handlers for file:, data:, ftp: and s3: URLs.
DOWNLOAD_HANDLERS: dict[str, str | None] = {"file": None, "data": None, "ftp": None, "s3": None}

# Every HTTP status reaches the spider so that error pages become error records (and their
# responses are archived) instead of being dropped silently (Scrapy: 2xx only).
HTTPERROR_ALLOW_ALL = True

# No cookies: a licence crawl has no sessions to keep (Scrapy: on).
COOKIES_ENABLED = False

# Scrapy checks every callback for a generator with a return value: it reads and parses
# the callback's source for each response whose callback is a bound generator method (its
# cache holds bound methods weakly, and they die after each call), 0.3 ms a response. Our
# spiders are ours (Scrapy: True).
WARN_ON_GENERATOR_RETURN_VALUE = False

# --- Memory ---------------------------------------------------------------------------------

# While the detection workers are busy, CrawlPipeline.process_item waits (back-pressure) and
# fetched responses wait in Scrapy's scraper until the engine stops fetching. These two bound
# that backlog; with Scrapy's defaults it grew with the crawl (bench/bench_crawl.py: about
# 250 MiB more at 8,000 pages, 140,000 live asyncio tasks).

# Items of one response processed in parallel (Scrapy: 100). Scrapy starts this many asyncio
# tasks for every response it scrapes and keeps them until the response's output is done, so
# each waiting response cost ~100 tasks. A licrawl spider yields at most one item per response
# (its page or an error record); the requests beside it need no parallelism.
CONCURRENT_ITEMS = 1

# Bytes of responses being scraped (at least 1 KiB counted per response) above which the
# engine stops fetching (Scrapy: 5,000,000). 1 MB keeps the workers fed (they hold
# LICRAWL_MAX_PENDING pages) and bounds the responses waiting for them.
SCRAPER_SLOT_MAX_ACTIVE_SIZE = 1_000_000

# --- Components -----------------------------------------------------------------------------

DOWNLOADER_MIDDLEWARES: dict[str, int | None] = {
    # Replaced by SiteSignalsMiddleware (same position): robots.txt once per host, for
    # obeying it and for the AI-crawler rules, plus /.well-known/tdmrep.json.
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.fetch.middlewares.site_signals.SiteSignalsMiddleware": 100,
    "crawler.fetch.middlewares.crawl_delay.CrawlDelayMiddleware": 110,
    # With a crawl state (recrawls): If-None-Match / If-Modified-Since for pages earlier runs
    # kept; a 304 that cannot be trusted is asked again in full.
    "crawler.fetch.recrawl.ConditionalRequestMiddleware": 580,
    # Scrapy's RetryMiddleware position, with backoff.
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.fetch.middlewares.retry.RetryBackoffMiddleware": 550,
    # Closest to the network: every raw response (redirects, retries, errors) goes to WARC.
    "crawler.fetch.middlewares.warc_recorder.WarcRecorderMiddleware": 950,
}

# The crawl's requests live in a frontier on disk (crawler.fetch.frontier), written as each
# request is queued, fetched and done, so that any stop (kill -9 included) can be resumed;
# it is also the seen-set (Scrapy: an in-memory dupefilter and a JOBDIR queue written only
# on a clean stop).
SCHEDULER = "crawler.fetch.scheduler.FrontierScheduler"

SPIDER_MIDDLEWARES: dict[str, int | None] = {
    # Closest to the engine, after the depth and offsite filters: a page's links are
    # scheduled before the page goes to the pipeline, and its WARC record is noted.
    "crawler.fetch.scheduler.FrontierSpiderMiddleware": 10,
}

ITEM_PIPELINES: dict[str, int] = {"crawler.fetch.pipeline.CrawlPipeline": 100}

# Prepares the job (crawl id, frontier ready to resume) when Scrapy runs a spider itself
# (scrapy crawl, a Scrapyd job), as licrawl crawl does before it starts Scrapy; keeps JOBDIR
# in the job folder, the user agent on LICRAWL_CONTACT_URL, and completes the run summary.
ADDONS: dict[str, int] = {"crawler.fetch.job.JobAddon": 0}

# The spiders, by name (site, sitemap, urls), for scrapy crawl and Scrapyd.
SPIDER_MODULES = ["crawler.spiders"]

EXTENSIONS: dict[str, int | None] = {
    # Opens the job's crawl state (LICRAWL_STATE_DIR) for the run, with its lock.
    "crawler.fetch.recrawl.CrawlStateExtension": 100,
    "crawler.fetch.progress.ProgressReporter": 500,
    # No telnet console or remote control listening on local ports during a crawl.
    "scrapy.extensions.telnet.TelnetConsole": None,
    "scrapy.extensions.remote_control.RemoteControl": None,
}

# --- Output ---------------------------------------------------------------------------------

# Output folder: DIR/data (shards), DIR/warc (evidence), DIR/errors (URLs without a row).
LICRAWL_OUT_DIR = "out"
# Folder of the crawl's frontier (the state a crawl resumes from); empty: DIR/job.
LICRAWL_JOB_DIR = ""
# A frontier shared by a fleet of crawl processes (crawler.fetch.fleet): a Redis URL
# (redis://HOST:PORT/DB), empty for the job folder's own frontier; the crawl's name there.
LICRAWL_FRONTIER = ""
LICRAWL_CRAWL_NAME = "licrawl"
# Seconds without a heartbeat after which a fleet process counts as dead and its requests
# go back to the queue (its heartbeat comes every quarter of this).
LICRAWL_LEASE_TTL = 60.0
# Seconds of Redis errors (retried with exponential backoff) after which a fleet process
# stops cleanly, keeping what Redis could not take in a spill file in the job folder.
LICRAWL_FRONTIER_TIMEOUT = 60.0
# Requests in flight per host for the whole fleet when no delay applies (0: the value of
# CONCURRENT_REQUESTS_PER_DOMAIN). With a delay (DOWNLOAD_DELAY or Crawl-delay): one.
LICRAWL_FLEET_HOST_CONCURRENCY = 0
# A scheduled job's crawl state (crawler.state.store): a folder kept across runs, or empty.
# With it every URL an earlier run fetched is requested again, conditionally, and each
# page's license and opt-outs are recorded per run.
LICRAWL_STATE_DIR = ""
# With a crawl state: URLs an earlier run fetched less than this many seconds ago are not
# requested again (0: every known URL is revisited; seeds always are). A sitemap lastmod
# after the last fetch overrides it.
LICRAWL_REVISIT_AFTER = 0.0
# Write the run's summary (rows, errors by reason, outcomes, changes since the previous run,
# duration) as JSON to this file at the end of the run, for schedulers; empty: none.
LICRAWL_SUMMARY_JSON = ""
# Identifier of this crawl, stored in every row; empty: the one kept in the job folder, or a
# new one (crawler.fetch.job).
LICRAWL_CRAWL_ID = ""
# Set by licrawl crawl, which prepares the job (crawl id, frontier) before Scrapy starts;
# otherwise JobAddon prepares it when the crawl starts.
LICRAWL_JOB_PREPARED = False
# Rows buffered before a Parquet row group is written (estimated uncompressed bytes). Small,
# so that the crawl's memory stays flat; shards still rotate at ShardWriter's size limits.
LICRAWL_ROW_GROUP_BYTES = 16 * 1024 * 1024
# Rows per shard at most (ShardWriter: 50,000). The shard's SPDX document is built in memory
# when the shard ends (about 12 MiB for 5,000 rows), so this bounds that part of the crawl's
# memory: flat from the first shard on (bench/bench_crawl.py).
LICRAWL_SHARD_MAX_ROWS = 5_000
# Rotate WARC files at about this size.
LICRAWL_WARC_MAX_BYTES = 1024 * 1024 * 1024
# Worker processes for extraction and detection (0: the number of cores).
LICRAWL_WORKERS = 0
# Seconds one page may take in a worker before it is given up as a ``timeout`` error.
LICRAWL_PAGE_TIMEOUT = 30.0
# Pages handed to the workers but not yet written, at most (0: 4 per worker). When full,
# the crawl stops scheduling downloads until results are written.
LICRAWL_MAX_PENDING = 0
# Site policy file (see crawler.site.user_policy), or empty.
LICRAWL_SITE_POLICY = ""
# Dotted path of the detection function the workers run (empty: crawler.detect.inspect).
# Any module-level function with inspect's signature; tests use it to push odd rows.
LICRAWL_INSPECT_FN = ""
# Seconds between two progress lines on stderr (0: none).
LICRAWL_PROGRESS_INTERVAL = 10.0

# --- Logging --------------------------------------------------------------------------------

# Scrapy logs every request at DEBUG and some 90 lines of set-up at INFO (settings,
# middlewares, extensions); licrawl prints its own progress and summary, so only warnings
# and errors of Scrapy reach the terminal (`-s LOG_LEVEL=INFO` brings the rest back).
LOG_LEVEL = "WARNING"
# Stats are printed by licrawl's own summary.
STATS_DUMP = False
LOGSTATS_INTERVAL = 0.0


def default_settings() -> dict[str, Any]:
    """All licrawl settings of this module as a dict (upper-case names only)."""
    return {name: value for name, value in globals().items() if name.isupper()}


def build_settings(overrides: dict[str, Any] | None = None) -> Settings:
    """Scrapy :class:`Settings`: Scrapy's defaults, licrawl's, then ``overrides``.

    ``overrides`` are applied at ``cmdline`` priority, as ``scrapy crawl -s`` does.
    """
    settings = Settings()
    settings.setdict(default_settings(), priority="project")
    settings.setdict(dict(overrides or {}), priority="cmdline")
    return settings
