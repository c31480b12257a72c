"""The one-thread read's partition task (source_claude/one_thread_read.py) against the CDK's PartitionReader, each
reading the same records into a twin of messages_usage's cursor.

What the task promises: the cursor ends a partition knowing what the CDK's reader would have told it, the greatest
cursor value of each slice, although the task has it observe only the records whose value differs from the one
before (a daily report's rows of a day share one); a record without a cursor value warns as it would. And a CDK that
lacks a private name the read relies on gets the CDK's own read, with the same records and states.
"""

from queue import Queue
from typing import Any, List, Optional, Tuple
from unittest import TestCase
from unittest.mock import patch

import freezegun

from airbyte_cdk.sources.concurrent_source.concurrent_source import ConcurrentSource
from airbyte_cdk.sources.streams.concurrent.partition_reader import PartitionReader
from airbyte_cdk.sources.types import Record, StreamSlice
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.test.mock_http import HttpMocker

from source_claude import SourceClaude, one_thread_read
from source_claude.one_thread_read import PartitionReadInTurns, QueueFilledInTurns, Turns
from unit_tests.builders import bucket, catalog, config, page, records_of, report_request, usage_row

STREAM = "messages_usage"
CONFIG = config(start_date="2025-03-01", end_date="2025-03-20")
# The one window of CONFIG, and another.
WINDOW = StreamSlice(partition={}, cursor_slice={"start_time": "2025-03-01T00:00:00Z",
                                                 "end_time": "2025-03-19T23:59:59Z"})
OTHER_WINDOW = StreamSlice(partition={}, cursor_slice={"start_time": "2025-03-01T00:00:00Z",
                                                       "end_time": "2025-03-09T23:59:59Z"})


class Partition:
    """A window already read: its records, each carrying the slice it was read for (WINDOW unless told)."""

    def __init__(self, starts: List[Optional[str]], slices: Optional[List[StreamSlice]] = None) -> None:
        self._records = [Record(data={} if start is None else {"starting_at": start, "output_tokens": 1},
                                stream_name=STREAM, associated_slice=window)
                         for start, window in zip(starts, slices or [WINDOW] * len(starts))]

    def read(self) -> Any:
        yield from self._records

    def to_slice(self) -> StreamSlice:
        return WINDOW

    def stream_name(self) -> str:
        return STREAM

    def __hash__(self) -> int:
        return hash(STREAM)


def messages_usage_cursor() -> Any:
    source = SourceClaude(config=CONFIG)
    [stream] = [stream for stream in source.streams(CONFIG) if stream.name == STREAM]
    return stream.cursor


def read_by_the_cdk(partition: Partition) -> Any:
    cursor = messages_usage_cursor()
    PartitionReader(Queue()).process_partition(partition, cursor)  # type: ignore[arg-type]
    return cursor


def read_in_turns(partition: Partition) -> Any:
    cursor = messages_usage_cursor()
    task = PartitionReadInTurns(QueueFilledInTurns(Queue(), Turns()))
    for _ in task.process_partition(partition, cursor):  # type: ignore[arg-type]
        pass
    return cursor


@freezegun.freeze_time("2025-03-25T12:00:00Z")
class TestTheCursorLearnsWhatTheCdkTellsIt(TestCase):
    def test_the_state_is_the_greatest_start_though_runs_of_equal_starts_are_observed_once(self) -> None:
        """Given a window whose rows start on 03-05, 03-03, 03-09 (the greatest, three rows) and 03-07, When read,
        Then the state is 03-09, as after the CDK's reader."""
        partition = Partition(["2025-03-05T00:00:00Z", "2025-03-05T00:00:00Z", "2025-03-03T00:00:00Z",
                               "2025-03-09T00:00:00Z", "2025-03-09T00:00:00Z", "2025-03-09T00:00:00Z",
                               "2025-03-07T00:00:00Z"])

        state = read_in_turns(partition).state

        assert state == {"starting_at": "2025-03-09T00:00:00Z"}
        assert state == read_by_the_cdk(partition).state

    def test_each_slice_a_record_carries_learns_its_own_greatest_start(self) -> None:
        """Given rows of one start that alternate between two slices, When read, Then each slice's greatest start is
        that start, as after the CDK's reader (a slice is narrowed to start there)."""
        starts = ["2025-03-06T00:00:00Z"] * 4
        partition = Partition(starts, [WINDOW, OTHER_WINDOW, WINDOW, OTHER_WINDOW])

        cursor, cdk_cursor = read_in_turns(partition), read_by_the_cdk(partition)

        for window in (WINDOW, OTHER_WINDOW):
            assert cursor.reduce_slice_range(window)["start_time"] == "2025-03-06T00:00:00Z"
            assert cursor.reduce_slice_range(window) == cdk_cursor.reduce_slice_range(window)

    def test_rows_without_a_start_warn_once_as_with_the_cdk_s_reader(self) -> None:
        """Given a window whose second and third rows lack starting_at, When read, Then one warning names the cursor
        field and the state is the other rows' greatest start."""
        partition = Partition(["2025-03-04T00:00:00Z", None, None, "2025-03-02T00:00:00Z"])

        with self.assertLogs("airbyte", level="WARNING") as logs:
            state = read_in_turns(partition).state
        with self.assertLogs("airbyte", level="WARNING") as cdk_logs:
            cdk_state = read_by_the_cdk(partition).state

        assert [line for line in logs.output if "cursor field `starting_at`" in line] == \
            [line for line in cdk_logs.output if "cursor field `starting_at`" in line] != []
        assert state == cdk_state == {"starting_at": "2025-03-04T00:00:00Z"}


ROWS = [usage_row(model="claude-sonnet-4", workspace_id=workspace, output_tokens=tokens)
        for workspace, tokens in (("wrkspc_a", 3), ("wrkspc_b", 5))]


def read_a_window() -> Tuple[Any, List[dict], List[dict]]:
    """Reads messages_usage over two days of two rows each; returns the source's concurrent source, the records and
    the states."""
    user_config = config(start_date="2025-03-22", end_date="2025-03-24")
    configured = catalog(STREAM)
    source = SourceClaude(catalog=configured, config=user_config)
    output = read(source, user_config, configured)
    states = [message.state.stream.stream_state.__dict__ for message in output.state_messages]
    return source._concurrent_source, records_of(output), states


@freezegun.freeze_time("2025-03-25T12:00:00Z")
class TestACdkWithoutANameTheReadNeeds(TestCase):
    @HttpMocker()
    def test_reads_as_the_cdk_does_with_the_same_records_and_states_and_says_so_once(self, http_mocker) -> None:
        """Given a CDK release that renamed one of the private names the one-thread read relies on, When the package
        reads, Then it reads with the CDK's own ConcurrentSource, logs one line naming what is missing, and gives the
        records and states the one-thread read gives."""
        a_window = page(bucket("2025-03-22", *ROWS), bucket("2025-03-23", *ROWS))
        http_mocker.get(report_request(STREAM, "2025-03-22T00:00:00Z", "2025-03-24T00:00:00Z"), [a_window, a_window])
        one_thread, records, states = read_a_window()
        renamed = (*one_thread_read.CDK_PRIVATE_ATTRIBUTES, "_renamed_in_a_later_cdk")
        with patch.object(one_thread_read, "CDK_PRIVATE_ATTRIBUTES", renamed), \
                patch.object(one_thread_read.logger, "info") as said:
            cdk_own, cdk_records, cdk_states = read_a_window()

        assert type(one_thread) is one_thread_read.OneThreadConcurrentSource
        assert type(cdk_own) is ConcurrentSource
        [line] = [call.args[0] for call in said.call_args_list if "one-thread read" in call.args[0]]
        assert "_renamed_in_a_later_cdk" in line
        assert len(records) == 4 and cdk_records == records
        assert cdk_states == states != []
