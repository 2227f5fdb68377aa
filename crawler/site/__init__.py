"""Site-level signals: robots.txt AI rules, TDMRep, and the user's own site policy."""
