"""Evidence readers, one module per signal family: each returns evidence and decides nothing."""
