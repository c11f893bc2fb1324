"""Lambda's REPORT lines, as AWS (and the local platform) write them to CloudWatch Logs, read for billing."""

from __future__ import annotations

from pipeline_kit.usage import report_lines


def test_report_lines_give_each_invocations_billed_duration_and_skip_other_lines():
    messages = [
        "START RequestId: 6f1e Version: $LATEST",
        "some print from the handler",
        "END RequestId: 6f1e",
        "REPORT RequestId: 6f1e\tDuration: 1234.56 ms\tBilled Duration: 1235 ms\tMemory Size: 1024 MB\t"
        "Max Memory Used: 90 MB\tInit Duration: 210.00 ms",
        "REPORT RequestId: 77aa\tDuration: 3.01 ms\tBilled Duration: 4 ms\tMemory Size: 1024 MB",
    ]
    assert report_lines(messages) == [{"request_id": "6f1e", "billed_ms": 1235}, {"request_id": "77aa", "billed_ms": 4}]
