"""The producer and bookkeeper of the Celery scenario in `make bench`.

Run from this folder with Debian's python3 (the one python3-celery installs into). Each command
prints one JSON object on stdout; the bench starts the workers itself and samples their CPU.

  driver.py check                        which modules are missing, and the versions found
  driver.py enqueue RUN COUNT            publishes COUNT no-op tasks with ids RUN-0 .. RUN-(COUNT-1)
  driver.py finished RUN COUNT           how many of them have a result, first and last finish time
  driver.py cleanup RUN...               deletes the results of these runs, the queue and exchange
"""

import importlib
import json
import sys
import time
from datetime import datetime, timezone

# Debian's package for each module the scenario imports
PACKAGES = {"celery": "python3-celery", "redis": "python3-redis"}


def check():
    missing, versions = [], {}
    for module, package in PACKAGES.items():
        try:
            versions[module] = importlib.import_module(module).__version__
        except ImportError:
            missing.append(package)
    return {"python": sys.executable, "missing": missing, "versions": versions}


def enqueue(run, count):
    from tasks import QUEUE, app, noop

    with app.connection_for_write() as connection:
        # declared before the first publish: with no worker running yet, the backlog must wait here
        QUEUE(connection.default_channel).declare()
        with app.producer_or_acquire() as producer:
            first = time.time()
            for i in range(count):
                noop.apply_async(task_id=f"{run}-{i}", producer=producer)
            last = time.time()
    # the producer's pooled connection is closed here, not dropped when the interpreter exits:
    # without publisher confirms (see tasks.py) a publish the broker has not read by then is lost
    app.pool.force_close_all()
    return {"count": count, "firstSubmit": first, "lastSubmit": last}


def finished(run, count):
    from tasks import app

    client = app.backend.client
    done, succeeded, first, last = 0, 0, None, None
    finishes = []
    batch = 1000
    for start in range(0, count, batch):
        keys = [
            app.backend.get_key_for_task(f"{run}-{i}")
            for i in range(start, min(count, start + batch))
        ]
        for raw in client.mget(keys):
            if raw is None:
                continue
            meta = json.loads(raw)
            done += 1
            succeeded += meta.get("status") == "SUCCESS"
            at = (
                datetime.fromisoformat(meta["date_done"])
                .replace(tzinfo=timezone.utc)
                .timestamp()
            )
            finishes.append(at)
            first = at if first is None else min(first, at)
            last = at if last is None else max(last, at)
    # tasks finished in each whole second from the first finish, as Shepherd's drain is reported
    per_second = [0] * (int(last - first) + 1 if finishes else 0)
    for at in finishes:
        per_second[int(at - first)] += 1
    return {"count": count, "finished": done, "succeeded": succeeded,
            "firstFinish": first, "lastFinish": last, "perSecond": per_second}


def cleanup(runs):
    from tasks import QUEUE, app

    client = app.backend.client
    deleted = 0
    for run in runs:
        pattern = app.backend.get_key_for_task(f"{run}-*")
        keys = list(client.scan_iter(match=pattern, count=1000))
        for start in range(0, len(keys), 1000):
            deleted += client.delete(*keys[start : start + 1000])
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        purged = QUEUE(channel).delete() or 0
        QUEUE.exchange(channel).delete()
    return {"resultsDeleted": deleted, "queueDeleted": QUEUE.name, "messagesLeft": purged}


def main(argv):
    command, args = argv[0], argv[1:]
    if command == "check":
        result = check()
    elif command == "enqueue":
        result = enqueue(args[0], int(args[1]))
    elif command == "finished":
        result = finished(args[0], int(args[1]))
    elif command == "cleanup":
        result = cleanup(args)
    else:
        raise SystemExit(f"unknown command {command!r}; see the module's docstring")
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
