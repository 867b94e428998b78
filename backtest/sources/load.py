"""``--data`` specifications to venue data.

* ``PATH.jsonl.gz`` (or any ``.gz``) - a FeedRecorder recording of one venue;
* ``PATH.csv`` - the import format of :mod:`backtest.sources.csv_import`;
* ``funding-db`` / ``funding-db:URL`` - the funding-rate service's stored history in
  ``$DATABASE_URL`` (or URL), for the configured venues;
* ``synthetic`` / ``synthetic:SEED`` - the seeded synthetic market, on every configured venue.

Several ``--data`` may be given (one recording per venue, say); every configured venue must
end up with exactly one source.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from backtest.sources.csv_import import load_csv
from backtest.sources.feed import DataError, VenueData
from backtest.sources.funding import BookShape
from backtest.sources.funding_db import load_funding_history
from backtest.sources.recording import load_recording
from database.engine import database_url, normalise_url

DEFAULT_SYNTHETIC_SEED = 7


async def _file_label(path: Path) -> str:
    """A data file as the result names it: its name and content hash (not where it lies, so
    the same data gives the same result file wherever it is kept)."""

    def digest() -> str:
        sha = hashlib.sha256()
        with path.open("rb") as file:
            for block in iter(lambda: file.read(1 << 20), b""):
                sha.update(block)
        return sha.hexdigest()

    return f"{path.name} (sha256 {(await asyncio.to_thread(digest))[:16]})"


@dataclass
class Dataset:
    """Each venue's data; ``synthetic_seed`` set: venues without data use the synthetic market."""

    venues: dict[str, VenueData] = field(default_factory=dict)
    synthetic_seed: int | None = None
    described: list[str] = field(default_factory=list)

    def span(self) -> tuple[datetime, datetime] | None:
        if not self.venues:
            return None
        return (
            max(v.first_ts for v in self.venues.values()),
            min(v.last_ts for v in self.venues.values()),
        )


async def load_dataset(
    specs: Sequence[str],
    venues: Sequence[str],
    symbols: Sequence[str] | None,
    start: datetime | None,
    end: datetime | None,
    shape: BookShape,
) -> Dataset:
    dataset = Dataset()
    for spec in specs:
        found: list[VenueData] = []
        if spec == "synthetic" or spec.startswith("synthetic:"):
            seed_text = spec.partition(":")[2] or str(DEFAULT_SYNTHETIC_SEED)
            if not seed_text.isdigit():
                raise DataError(f"--data {spec}: the seed must be an integer (synthetic:7)")
            dataset.synthetic_seed = int(seed_text)
            dataset.described.append(f"synthetic market, seed {seed_text}")
            continue
        if spec == "funding-db" or spec.startswith("funding-db:"):
            url = spec.partition(":")[2]
            url = normalise_url(url) if url else database_url()
            found = await load_funding_history(url, venues, symbols, start, end, shape)
        else:
            path = Path(spec)
            if path.suffix == ".parquet":
                raise DataError(
                    f"--data {spec}: Parquet is not supported (pyarrow is not a dependency); "
                    "convert it to the CSV import format (described by python -m backtest --help)"
                )
            if not await asyncio.to_thread(path.is_file):
                raise DataError(f"--data {spec}: no such file")
            if path.suffix == ".gz":
                found = [load_recording(path)]
            elif path.suffix == ".csv":
                found = load_csv(path, shape)
            else:
                raise DataError(
                    f"--data {spec}: unknown kind of data: expected a .jsonl.gz recording, a "
                    ".csv import, funding-db[:URL] or synthetic[:SEED]"
                )
        label = (
            spec if not found or spec.startswith("funding-db") else await _file_label(Path(spec))
        )
        for data in found:
            if data.venue in dataset.venues:
                raise DataError(
                    f"--data {spec}: {data.venue} already has data from "
                    f"{dataset.venues[data.venue].origin}: one source per venue"
                )
            dataset.venues[data.venue] = data
            dataset.described.append(f"{data.venue}: {label}")
    unused = sorted(set(dataset.venues) - set(venues))
    for venue in unused:  # data for venues the strategy does not trade: not loaded
        del dataset.venues[venue]
    without = [v for v in venues if v not in dataset.venues]
    if without and dataset.synthetic_seed is None:
        raise DataError(
            f"no data for {', '.join(without)}: give a --data for each configured venue "
            "(or --data synthetic)"
        )
    return dataset
