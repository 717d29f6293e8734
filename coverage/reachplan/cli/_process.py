"""What a ``reachplan`` process does that a program calling the library does not: it spends
no time in the cyclic garbage collector scanning the objects its imports leave.

Importing pandas, geopandas, shapely and pyproj leaves ~100,000 long-lived objects (modules,
classes, functions). At CPython's default thresholds the collector ran ~190 times while they
were created and then rescanned them (0.04-0.07 s), and twice more at interpreter exit
(~0.1 s): together about a fifth of a small command's run (``benchmarks/bench_startup.py``).
So, in a process that runs one command (the console script):

* the libraries every command reads with are imported with the collector paused, and what
  they leave is then frozen (``gc.freeze``): later passes skip it and still collect all the
  command allocates, so memory while the command runs is as before;
* at exit, after the atexit handlers (logging flushes, temporary folders go), the objects
  still alive are frozen too, so the exit's passes do not scan them. Python never promised
  ``__del__`` at exit; the operating system frees the memory.

mypy tunes its process the same way (``gc.set_threshold``, a hard exit). Tests that invoke
commands inside pytest's process (click's ``CliRunner``) are not such a process: nothing
there is frozen.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
from collections.abc import Iterator

_ONE_COMMAND = False


def one_command_per_process() -> None:
    """This process runs one command and ends: freeze at exit, and let
    :func:`imports_unscanned` pause the collector."""
    global _ONE_COMMAND
    if not _ONE_COMMAND:
        _ONE_COMMAND = True
        atexit.register(gc.freeze)


@contextlib.contextmanager
def imports_unscanned() -> Iterator[None]:
    """Import inside with the collector paused and freeze what is alive after, in a process
    that runs one command; elsewhere, import as usual."""
    if not _ONE_COMMAND or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
    gc.freeze()
