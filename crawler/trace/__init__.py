"""``licrawl trace`` and ``licrawl serve-trace``: which corpus documents a text (a model
output) reproduces, and what their licenses ask of whoever reuses it."""

DEFAULT_MIN_WORDS = 50  # Lee et al.'s threshold for memorized text
DEFAULT_MAX_SOURCES = 10  # source documents listed per span (OLMoTrace lists 10)
DEFAULT_MAX_CHARS = 2_000_000  # longest text traced at once
SEED_WORDS = 8  # near-verbatim seed length, so the shortest span a trace can report
