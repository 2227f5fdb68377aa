"""``licrawl index``: a replication index (suffix arrays over word ids, one per index shard)
over the text of record shards, with what a trace report needs per document."""
