"""One page in, one record out."""
def inspect(html, url=None, headers=None, site_policy=None):
    raise NotImplementedError
