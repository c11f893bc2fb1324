"""Kinesis data streams at volume: moto 5.2.5 finds a shard's last sequence number by copying all its keys into a
list on every put (``list(self.records.keys())[-1]``), so putting n records costs O(n²) — 5,000 records took 5.9 s
and 20,000 took 72 s in one shard here — and reads iterate the shard's records while puts from another server
thread insert into them. Here the first and last sequence numbers are read from the ends of the ordered dict
(O(1)), and puts and reads of shards take one lock, as a producer and a consumer run side by side."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from local_platform.aws.compute import ComputeConfig


def install(config: ComputeConfig) -> None:
    from moto.kinesis.models import Shard

    from local_platform.aws.compute import patch

    lock = threading.RLock()
    put_record, get_records = Shard.put_record, Shard.get_records

    def first_sequence_number(self) -> int:
        return next(iter(self.records)) if self.records else 0

    def last_sequence_number(self) -> int:
        return next(reversed(self.records)) if self.records else 0

    def locked_put_record(self, *args, **kwargs):
        with lock:
            return put_record(self, *args, **kwargs)

    def locked_get_records(self, *args, **kwargs):
        with lock:
            return get_records(self, *args, **kwargs)

    patch(
        Shard,
        get_min_sequence_number=first_sequence_number,
        get_max_sequence_number=last_sequence_number,
        put_record=locked_put_record,
        get_records=locked_get_records,
    )
