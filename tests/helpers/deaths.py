"""Planned worker deaths for the tests that check a killed task is run again.

``marker`` counts the deaths, one process id a line. Concurrent processes claim a death
with an exclusively created file per death (``MARKER.N``), so that two tasks that reach the
check at the same moment cannot both take the last one (reading the marker first and
writing it after let two workers die where one was planned).
"""

from __future__ import annotations

import os


def claim_death(marker: str, kills: int) -> bool:
    """Whether this process is to die: it took one of the ``kills`` deaths still free (its
    process id is then added to ``marker``)."""
    for n in range(kills):
        try:
            os.close(os.open(f"{marker}.{n}", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            continue
        with open(marker, "a") as fh:
            fh.write(f"{os.getpid()}\n")
        return True
    return False
