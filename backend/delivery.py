"""Sending to clients with back-pressure: a slow client never makes the backend hold its frames.

The ROUTER socket queues at most :data:`SEND_QUEUE` messages per client (``ZMQ_SNDHWM``) and,
with ``ROUTER_MANDATORY``, answers ``EAGAIN`` when a client's queue is full. Every job output
is in the job's folder before it is sent (:mod:`backend.store`), so nothing needs to wait in
memory for a client that falls behind: it gets a :class:`Feed`, a cursor into the job's
folder, and the I/O thread sends it the stored outputs one at a time as its queue drains,
then hands it back to the live stream. ``fetch`` is a feed from the first output. Replies
and heartbeats for a full client wait in a short per-client queue (:data:`MAX_REPLIES`).

So a client that heartbeats but never reads costs the backend at most ``SEND_QUEUE``
messages, and replaying a job of any length reads one message from disk at a time.
"""

from __future__ import annotations

import errno
import logging
from collections import deque
from dataclasses import dataclass, field

import zmq

from backend.protocol import FINAL_TYPES, INTERRUPTED, error_message, serialize
from backend.store import JobStore

log = logging.getLogger("s2t.backend")

SEND_QUEUE = 16
"""Messages ZeroMQ may hold for one client before the backend waits (a 1024 px raw frame is 3 MiB)."""
MAX_REPLIES = 256
"""Replies and heartbeats kept for a client whose queue is full; beyond, the oldest are dropped."""

SENT, FULL, GONE = "sent", "full", "gone"


@dataclass(eq=False)
class Feed:
    """A client behind on one job: the stored outputs from ``next_seq`` on are still to be sent."""

    job_id: str
    next_seq: int
    request_id: str | None
    pending: list | None = None  # a message read from disk that did not fit into the queue yet
    last_type: str | None = None  # the type of the last stored message sent
    tail: list | None = None  # an unstored final message (the job's output could not be stored)
    ending: bool = False  # ``pending`` is the feed's last message


@dataclass(eq=False)
class ClientQueue:
    replies: deque = field(default_factory=deque)
    feeds: list[Feed] = field(default_factory=list)  # several fetches of one job replay it several times


class Delivery:
    """The I/O thread's sending side: direct sends, queued replies and disk feeds per client."""

    def __init__(self, router: zmq.Socket, store: JobStore):
        self.router, self.store = router, store
        self.clients: dict[bytes, ClientQueue] = {}

    def send(self, identity: bytes, frames: list) -> str:
        """Try once, without blocking: :data:`SENT`, :data:`FULL` (its queue is full) or :data:`GONE`."""
        try:
            self.router.send_multipart([identity, *frames], zmq.NOBLOCK, copy=False)
            return SENT
        except zmq.Again:
            return FULL
        except zmq.ZMQError as exc:  # EHOSTUNREACH: the client is gone
            if exc.errno != errno.EHOSTUNREACH:
                log.warning("could not send to a client: %s", exc)
            return GONE

    def reply(self, identity: bytes, frames: list) -> None:
        """Send a reply or heartbeat now, or after the ones already waiting for this client."""
        queue = self.clients.get(identity)
        if queue is not None and queue.replies:
            self._queue_reply(queue, frames)
        elif self.send(identity, frames) == FULL:
            self._queue_reply(self.clients.setdefault(identity, ClientQueue()), frames)

    @staticmethod
    def _queue_reply(queue: ClientQueue, frames: list) -> None:
        queue.replies.append(frames)
        if len(queue.replies) > MAX_REPLIES:
            queue.replies.popleft()
            log.debug("a client that does not read has %d replies waiting; dropping the oldest", MAX_REPLIES)

    def feeds(self, identity: bytes, job_id: str) -> list[Feed]:
        """The client's feeds of this job: while there is one, the live stream skips the client."""
        queue = self.clients.get(identity)
        return [feed for feed in queue.feeds if feed.job_id == job_id] if queue else []

    def start_feed(self, identity: bytes, job_id: str, from_seq: int, request_id: str | None,
                   tail: list | None = None) -> Feed:
        """Send ``job_id``'s stored outputs from ``from_seq`` on, then rejoin the live stream or end."""
        feed = Feed(job_id, from_seq, request_id, tail=tail)
        self.clients.setdefault(identity, ClientQueue()).feeds.append(feed)
        return feed

    def forget(self, identity: bytes) -> None:
        self.clients.pop(identity, None)

    def pump(self, live: dict, budget: int = 64) -> bool:
        """Send what waits, up to ``budget`` messages per client; True while anything still waits.

        ``live`` maps the running jobs' ids to objects with ``delivered`` (outputs already
        forwarded live): a feed of a live job that reaches it rejoins the live stream.
        """
        for identity, queue in list(self.clients.items()):
            state = self._pump_client(identity, queue, live, budget)
            if state == GONE or not (queue.replies or queue.feeds):
                del self.clients[identity]
        return bool(self.clients)

    def _pump_client(self, identity: bytes, queue: ClientQueue, live: dict, budget: int) -> str:
        while queue.replies and budget > 0:
            state = self.send(identity, queue.replies[0])
            if state != SENT:
                return state
            queue.replies.popleft()
            budget -= 1
        for feed in list(queue.feeds):
            while budget > 0:
                if feed.pending is None and not self._next(feed, live.get(feed.job_id)):
                    queue.feeds.remove(feed)
                    break
                state = self.send(identity, feed.pending)
                if state != SENT:
                    return state
                feed.pending = None
                budget -= 1
                if feed.ending:
                    queue.feeds.remove(feed)
                    break
        return SENT

    def _next(self, feed: Feed, job) -> bool:
        """Load the feed's next message into ``pending``; False when the feed is done."""
        if job is not None and feed.next_seq >= job.delivered:
            return False  # caught up: the live stream goes on from here
        stored = self.store.read_output(feed.job_id, feed.next_seq)
        if stored is not None:
            feed.last_type, feed.pending = stored
            feed.next_seq += 1
            return True
        if job is not None:  # not on disk yet although forwarded: cannot happen, outputs are stored first
            return False
        feed.ending = True
        if feed.tail is not None:
            feed.pending = feed.tail
        elif feed.last_type not in FINAL_TYPES:
            text = (f"the backend stopped before this job finished; the {feed.next_seq} outputs sent are all it "
                    "produced")
            feed.pending = serialize(error_message(INTERRUPTED, text, job_id=feed.job_id, request_id=feed.request_id))
        else:
            return False
        return True
