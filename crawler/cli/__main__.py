"""``python -m crawler.cli``: the ``licrawl`` command."""

import sys

from crawler.cli import console_main

sys.exit(console_main())
