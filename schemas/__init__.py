"""Data files of licrawl: the record schema (``record.json``) and policy presets (``policies/``)."""
