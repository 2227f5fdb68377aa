"""``python -m crawler.cli``: the ``licrawl`` command."""

import sys

from crawler.cli import main

sys.exit(main())
