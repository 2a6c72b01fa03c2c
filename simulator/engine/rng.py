"""Per-replication random streams: one fixed stream id per named random source."""

from __future__ import annotations

import zlib

import numpy as np


def stream_id(name: str) -> int:
    """Stable id of a random source (CRC-32 of its name), the same in every process."""
    return zlib.crc32(name.encode("utf-8"))


class RandomStreams:
    """Independent generators per named source for one replication.

    ``SeedSequence(seed, spawn_key=(replication, stream_id(name)))`` gives the same draws for
    the same source, seed and replication in any scenario (common random numbers) and lets any
    replication be rerun alone.
    """

    def __init__(self, seed: int, replication: int):
        self.seed = seed
        self.replication = replication
        self._streams: dict[str, np.random.Generator] = {}

    def get(self, name: str) -> np.random.Generator:
        """The generator of source ``name`` (created on first use)."""
        gen = self._streams.get(name)
        if gen is None:
            seq = np.random.SeedSequence(self.seed, spawn_key=(self.replication, stream_id(name)))
            gen = self._streams[name] = np.random.Generator(np.random.PCG64(seq))
        return gen
