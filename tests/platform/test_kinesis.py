"""Kinesis on the local server at volume: a producer and a consumer side by side on one shard get every record,
once, in order (moto alone copied the shard's keys on every put and let reads iterate during inserts)."""

from __future__ import annotations

import threading
import uuid


def test_a_consumer_reading_while_a_producer_puts_gets_every_record_once_in_order(local_aws):
    kinesis = local_aws.client("kinesis")
    stream = f"volume-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})
    total, batch = 6000, 500
    errors = []

    def produce():
        try:
            producer = local_aws.client("kinesis")
            for start in range(0, total, batch):
                producer.put_records(
                    StreamName=stream,
                    Records=[{"Data": str(n).encode(), "PartitionKey": str(n)} for n in range(start, start + batch)],
                )
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)

    producer = threading.Thread(target=produce)
    producer.start()
    shard = kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    received, sequence_numbers = [], []
    while len(received) < total and (producer.is_alive() or not errors):
        response = kinesis.get_records(ShardIterator=iterator, Limit=1000)
        received += [int(record["Data"]) for record in response["Records"]]
        sequence_numbers += [int(record["SequenceNumber"]) for record in response["Records"]]
        iterator = response["NextShardIterator"]
        if not producer.is_alive() and not response["Records"]:
            break
    producer.join()
    kinesis.delete_stream(StreamName=stream)

    assert errors == []
    assert received == list(range(total))
    assert sequence_numbers == sorted(set(sequence_numbers))
