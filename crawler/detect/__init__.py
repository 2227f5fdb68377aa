"""Detection: one fetched page in, one record out (``inspect``), through evidence readers
(``signals/``), the scoring table and the resolver."""
