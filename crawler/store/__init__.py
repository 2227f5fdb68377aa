"""What licrawl writes and reads: WARC files, Parquet shards, SPDX documents."""
