#
# The CDK's concurrent read with its one worker's tasks run on the calling thread, so that no record crosses threads.
#
# The manifest reads with concurrency_level 1: the CDK reads partitions on one worker thread and writes every record
# from the main thread, the two handing the GIL and the records to each other through a queue. When the system runs
# them on two cores, each hand-off moves the records between the cores' caches, and the same read costs up to twice
# the CPU, more or less from run to run as the scheduler places the threads (`make bench`). Here the main thread does
# the worker's part too, in turns. The manifest cannot choose how the CDK schedules a read, so only the package
# (the CLI, the Docker image, PyAirbyte) reads this way; the manifest-only runtime and the Builder read as the CDK does.
#
# Everything but the scheduling is the CDK's: its ConcurrentReadProcessor decides what each queue item means (stream
# statuses, state, errors) and its ConcurrentSource takes the items in the order they were put, whether by the tasks
# or by the CDK's message repository. The two tasks below are, line for line, the CDK's
# PartitionEnqueuer.generate_partitions and PartitionReader.process_partition, pausing after each item they put; one
# more thing differs, in process_partition: the cursor observes a record only when its cursor value is not the one it
# just observed (see observing_changes).
#
import inspect
import logging
from collections import deque
from queue import Queue
from typing import Any, Callable, Deque, Iterable, Iterator, List, Optional

from airbyte_cdk.models import AirbyteMessage
from airbyte_cdk.sources.concurrent_source.concurrent_read_processor import ConcurrentReadProcessor
from airbyte_cdk.sources.concurrent_source.concurrent_source import ConcurrentSource
from airbyte_cdk.sources.concurrent_source.partition_generation_completed_sentinel import (
    PartitionGenerationCompletedSentinel,
)
from airbyte_cdk.sources.concurrent_source.stream_thread_exception import StreamThreadException
from airbyte_cdk.sources.streams.concurrent.abstract_stream import AbstractStream
from airbyte_cdk.sources.streams.concurrent.cursor import ConcurrentCursor, Cursor
from airbyte_cdk.sources.streams.concurrent.partition_reader import PartitionLogger
from airbyte_cdk.sources.streams.concurrent.partitions.partition import Partition
from airbyte_cdk.sources.streams.concurrent.partitions.types import PartitionCompleteSentinel, QueueItem
from airbyte_cdk.sources.types import Record

logger = logging.getLogger("airbyte")

# How many items the tasks put before the reader takes them: one item at a time costs a fifth more CPU per record
# (each side's code leaves the processor's caches for the other's); from about 30 on, the cost is the same.
BATCH = 1000

# Every name of the CDK's that is not public and that this read relies on: the declarative source's concurrent source,
# that source's attributes and methods, and the read processor's parameters. A CDK release may rename any of them;
# then the package reads as the CDK does (OneThreadConcurrentSource.replacing), with the same records and states.
CDK_SOURCE_ATTRIBUTE = "_concurrent_source"
CDK_PRIVATE_ATTRIBUTES = ("_queue", "_logger", "_slice_logger", "_message_repository",
                          "_initial_number_partitions_to_generate", "_threadpool")
CDK_PRIVATE_METHODS = ("_handle_item", "_submit_initial_partition_generators", "_consume_from_queue")
CDK_PROCESSOR_PARAMETERS = ("stream_instances_to_read_from", "partition_enqueuer", "thread_pool_manager", "logger",
                            "slice_logger", "message_repository", "partition_reader",
                            "max_concurrent_partition_generators")


def missing_cdk_names(source: Any) -> List[str]:
    """The names of CDK_PRIVATE_* (and the processor's parameters) that `source` or the CDK no longer has."""
    missing = [name for name in CDK_PRIVATE_ATTRIBUTES if not hasattr(source, name)]
    missing += [name for name in CDK_PRIVATE_METHODS if not callable(getattr(ConcurrentSource, name, None))]
    parameters = inspect.signature(ConcurrentReadProcessor.__init__).parameters
    missing += [f"ConcurrentReadProcessor({name})" for name in CDK_PROCESSOR_PARAMETERS if name not in parameters]
    return missing


def read_on_one_thread(declarative_source: Any) -> None:
    """Has the declarative source read on one thread (OneThreadConcurrentSource), if this CDK still has every name
    that needs; else says so in one line and leaves the CDK's own read in place."""
    source = getattr(declarative_source, CDK_SOURCE_ATTRIBUTE, None)
    missing = missing_cdk_names(source) if isinstance(source, ConcurrentSource) else [CDK_SOURCE_ATTRIBUTE]
    if missing:
        logger.info(f"Reading with the CDK's own threads: this CDK lacks {', '.join(missing)}, which the one-thread "
                    "read uses (records and states are the same; only the CPU per record is higher).")
        return
    setattr(declarative_source, CDK_SOURCE_ATTRIBUTE, OneThreadConcurrentSource.replacing(source))


class OneThreadConcurrentSource(ConcurrentSource):
    """A ConcurrentSource whose tasks run on the thread that reads it."""

    @classmethod
    def replacing(cls, source: ConcurrentSource) -> "OneThreadConcurrentSource":
        """The same read as `source`'s: its queue (which the CDK's message repository also fills), logger, slice
        logger and message repository (read_on_one_thread checks first that the CDK still has them)."""
        turns = Turns()
        queue = QueueFilledInTurns(source._queue, turns)
        return cls(turns, source._logger, source._slice_logger, queue,  # type: ignore[arg-type]
                   source._message_repository, source._initial_number_partitions_to_generate)

    def _handle_item(self, queue_item: QueueItem,
                     concurrent_stream_processor: ConcurrentReadProcessor) -> Iterable[AirbyteMessage]:
        """ConcurrentSource._handle_item, asking first whether the item is a record, as nearly all are: the CDK asks
        last, after four isinstance checks (one of an abstract class), which cost a record a twentieth of its CPU."""
        if type(queue_item) is Record:
            return concurrent_stream_processor.on_record(queue_item)
        return super()._handle_item(queue_item, concurrent_stream_processor)

    def read(self, streams: List[AbstractStream]) -> Iterator[AirbyteMessage]:
        """ConcurrentSource.read, with the tasks below in place of the CDK's PartitionEnqueuer and PartitionReader."""
        self._logger.info("Starting syncing")
        processor = ConcurrentReadProcessor(
            streams,
            PartitionGenerationInTurns(self._queue),  # type: ignore[arg-type]
            self._threadpool,
            self._logger,
            self._slice_logger,
            self._message_repository,
            PartitionReadInTurns(self._queue,  # type: ignore[arg-type]
                                 PartitionLogger(self._slice_logger, self._logger, self._message_repository)),
            max_concurrent_partition_generators=self._initial_number_partitions_to_generate,
        )
        yield from self._submit_initial_partition_generators(processor)
        yield from self._consume_from_queue(self._queue, processor)
        self._threadpool.check_for_errors_and_shutdown()
        self._logger.info("Finished syncing")


class Turns:
    """In place of the CDK's pool of one worker thread: runs the submitted tasks in the order they came, each to its
    end before the next, as that worker does, but one step at a time, when the reader asks."""

    def __init__(self) -> None:
        self._tasks: Deque[Iterator[None]] = deque()

    def submit(self, task: Callable[..., Iterator[None]], *args: Any) -> None:
        self._tasks.append(task(*args))

    def run_a_step(self) -> bool:
        """Runs the oldest task up to its next pause; False when no task is left."""
        if not self._tasks:
            return False
        try:
            next(self._tasks[0])
        except StopIteration:
            self._tasks.popleft()
        return True

    def check_for_errors_and_shutdown(self) -> None:
        """As the CDK's pool does at the end of a read: a task that has not ended means the read is not whole."""
        if self._tasks:
            raise RuntimeError(f"Failed reading with {len(self._tasks)} tasks not done")


class QueueFilledInTurns:
    """The queue the reader takes items from: those the tasks put and, after them, those the CDK's message repository
    put in the CDK's queue meanwhile, in the order they came. When nothing waits, the tasks run until BATCH items do.

    The tasks' items go past the CDK's queue, whose every put and get takes a lock and notifies a condition (a tenth of
    a record's CPU), and so never wait for room in it (at most 10,000 items), which on one thread would never come.
    """

    def __init__(self, queue: "Queue[QueueItem]", turns: Turns) -> None:
        self._queue = queue  # the CDK's: its message repository puts there what the components emit
        self._items: Deque[QueueItem] = deque()
        self._turns = turns

    def get(self) -> QueueItem:
        items = self._items
        if not items:
            self._take_from_queue()
            while len(items) < BATCH and self._turns.run_a_step():
                pass
            self._take_from_queue()
            if not items:  # where the CDK's reader would wait for ever
                raise RuntimeError("The read is not done, yet no task is left to run")
        return items.popleft()

    def put(self, item: QueueItem) -> None:
        self._take_from_queue()  # what was emitted before the item comes before it
        self._items.append(item)

    def empty(self) -> bool:
        return not self._items and self._queue.empty()

    def _take_from_queue(self) -> None:
        queue = self._queue
        while not queue.empty():
            self._items.append(queue.get_nowait())


class PartitionGenerationInTurns:
    """PartitionEnqueuer.generate_partitions as a task that pauses after each partition. There is no limit on
    pending partitions to wait for: the CDK's (10,000 futures) keeps a worker from running ahead of the main thread,
    which cannot happen on one thread."""

    def __init__(self, queue: QueueFilledInTurns) -> None:
        self._queue = queue

    def generate_partitions(self, stream: AbstractStream) -> Iterator[None]:
        try:
            for partition in stream.generate_partitions():
                self._queue.put(partition)
                yield
            self._queue.put(PartitionGenerationCompletedSentinel(stream))
        except Exception as e:
            self._queue.put(StreamThreadException(e, stream.name))
            self._queue.put(PartitionGenerationCompletedSentinel(stream))


class PartitionReadInTurns:
    """PartitionReader.process_partition as a task that pauses after each record."""

    _IS_SUCCESSFUL = True

    def __init__(self, queue: QueueFilledInTurns, partition_logger: Optional[PartitionLogger] = None) -> None:
        self._queue = queue
        self._partition_logger = partition_logger

    def process_partition(self, partition: Partition, cursor: Cursor) -> Iterator[None]:
        try:
            if self._partition_logger:
                self._partition_logger.log(partition)

            observe = observing_changes(cursor)
            for record in partition.read():
                self._queue.put(record)
                observe(record)
                yield
            cursor.close_partition(partition)
            self._queue.put(PartitionCompleteSentinel(partition, self._IS_SUCCESSFUL))
        except Exception as e:
            self._queue.put(StreamThreadException(e, partition.stream_name()))
            self._queue.put(PartitionCompleteSentinel(partition, not self._IS_SUCCESSFUL))


def observing_changes(cursor: Cursor) -> Callable[[Record], None]:
    """cursor.observe for one partition's records, skipping a record whose cursor value is the text the cursor just
    observed, for the same slice.

    A ConcurrentCursor's observe keeps, per slice, the greatest cursor value seen: a value equal to the one just
    observed changes nothing, nor does a missing one twice (it warns once per stream). Yet each call parses the value
    with strptime and hashes the slice by serialising it to JSON: a third of the CPU per record, for a daily report's
    2,000 rows a day that share one `starting_at`. Any other cursor observes every record.
    """
    if type(cursor) is not ConcurrentCursor:
        return cursor.observe
    cursor_field = cursor.cursor_field.cursor_field_key
    observed: List[Any] = [None, None]  # the last observed record's slice and cursor value

    def observe(record: Record) -> None:
        value = record.data.get(cursor_field)
        if type(value) is str and value == observed[1] and record.associated_slice is observed[0]:
            return
        cursor.observe(record)
        observed[0], observed[1] = record.associated_slice, value

    return observe
