"""The Celery application that `make bench` compares Shepherd with: one no-op task.

Set up as a careful Celery user would for jobs that must not be lost, which is what Shepherd
promises: a task is acknowledged only after it ran (acks_late), a worker process that dies
mid-task puts its task back (task_reject_on_worker_lost), every message is persistent, results go
to Redis. Everything else is Celery's default: the prefork pool, a prefetch multiplier of 4, a
classic durable queue (Celery 5.2 cannot consume from a quorum queue: it asks RabbitMQ for global
QoS, which quorum queues refuse), and a producer that does not wait for publisher confirms (with
confirm_publish each publish waits alone for the broker's disk sync: about 50 tasks/s here, which
would measure the producer, not Celery).

The bench (e2e-tests/.../bench/Celery.java) sets the environment:
  BENCH_CELERY_BROKER   amqp://user:pass@host:port/vhost, the RabbitMQ Shepherd uses
  BENCH_CELERY_BACKEND  redis://host:port/db, the Redis Shepherd uses, in a database of its own
  BENCH_CELERY_QUEUE    a queue (and exchange) name unique to the run
"""

import os

from celery import Celery
from kombu import Exchange, Queue

QUEUE_NAME = os.environ["BENCH_CELERY_QUEUE"]
QUEUE = Queue(
    QUEUE_NAME,
    Exchange(QUEUE_NAME, type="direct", durable=True),
    routing_key=QUEUE_NAME,
    durable=True,
)

app = Celery(
    "bench",
    broker=os.environ["BENCH_CELERY_BROKER"],
    backend=os.environ["BENCH_CELERY_BACKEND"],
)
app.conf.update(
    task_queues=[QUEUE],
    task_default_queue=QUEUE_NAME,
    task_default_exchange=QUEUE_NAME,
    task_default_routing_key=QUEUE_NAME,
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    task_default_delivery_mode="persistent",
    # results expire like the bench's Shepherd history (1 h), should a run die before cleaning up
    result_expires=3600,
    # no remote-control queue per worker: nothing of the run is left on the broker
    worker_enable_remote_control=False,
)


@app.task(name="bench.noop")
def noop():
    """Does nothing, like Shepherd's demo.noop handler."""
    return None
