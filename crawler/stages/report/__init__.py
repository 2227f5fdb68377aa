"""``licrawl report``: one self-contained HTML page showing a corpus's licenses, opt-outs,
evidence and duplicates, each chart beside the table behind it."""
