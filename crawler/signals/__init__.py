"""Signal readers: each family returns evidence and decides nothing."""
