"""One module per ``licrawl`` subcommand, each with ``register(subparsers)``."""
