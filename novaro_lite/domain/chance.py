"""One unseeded random source per process, for the per-request draws no request seeded (delays, moments,
speakers).

A new random.Random seeds itself from the OS, which cost about 2% of an accepted request's CPU when each
request made one (bench/profile.py enqueue); drawing from one instance costs nothing extra. A forked child
reseeds it, so two processes never draw the same numbers.
"""

from __future__ import annotations

import os
import random

UNSEEDED = random.Random()
os.register_at_fork(after_in_child=UNSEEDED.seed)
