"""``licrawl dedup``: exact and near-duplicate clusters that keep every copy's URL, license,
authors and WARC record, and flag copies that disagree about the license."""
