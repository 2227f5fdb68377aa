"""``licrawl filter``: license and opt-out policies, the subsets, manifest and report."""
