#!/usr/bin/env python3
"""Where a run's CPU goes, by kind of process: run it beside `make test` (or anything else).

    python3 scripts/cpu-by-process.py OUT.json &   # then start the run
    touch OUT.json.stop                            # when the run is done

Once a second it reads every process's user and system time from /proc and names the process by
its command line (a Shepherd service by its jar, a test JVM, Maven, a private or the shared RabbitMQ
node or Redis server, chromium, ...), then writes each kind's CPU seconds and process count to
OUT.json and prints them. A process is named by what it runs last (`rabbitmq-server` is a shell
script that execs the Erlang VM); the CPU a process spends in its last second, or in a life shorter
than a second, is missed, and a process already running when the script starts counts from then.
docs/adr/0058 quotes its figures.
"""

import json
import os
import re
import sys
import time

TICKS = os.sysconf("SC_CLK_TCK")


def kind(command):
    c = command.replace("\0", " ")
    if "beam.smp" in c:
        if "rabbitmqcli" in c or "escript" in c:
            return "rabbitmq CLI"
        return "rabbitmq (shared)" if "/var/lib/rabbitmq" in c else "rabbitmq (private)"
    if "redis-server" in c:
        return "redis (shared)" if ":6379" in c or "daemonize" in c else "redis (private)"
    if "chrom" in c:
        return "chromium"
    if "java" in c.split(" ")[0]:
        service = re.search(r"shepherd-([a-z-]+)-\d+\.\d+\.\d+", c)
        if "surefirebooter" in c:
            return "test JVM"
        if "plexus-classworlds" in c:
            return "maven"
        if "jarmode=tools" in c:
            return "jar extraction"
        if service:
            return "service: " + service.group(1)
        return "java, other"
    return "other: " + c.split(" ")[0].split("/")[-1]


def main(out):
    seen = {}  # pid and start time -> [kind, ticks now, ticks when first seen if already running]
    began = time.time()
    first = True
    while True:
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/stat") as f:
                    stat = f.read()
                fields = stat[stat.rindex(")") + 2 :].split()
                ticks = int(fields[11]) + int(fields[12])
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    command = f.read().decode("utf8", "replace")
            except (OSError, ValueError):
                continue  # ended meanwhile
            key = pid + ":" + fields[19]
            if key in seen:
                seen[key][0] = kind(command) if command else seen[key][0]
                seen[key][1] = ticks
            else:
                seen[key] = [kind(command), ticks, ticks if first else 0]
        first = False
        if os.path.exists(out + ".stop"):
            break
        time.sleep(1)
    by_kind = {}
    for name, ticks, before in seen.values():
        cpu, count = by_kind.get(name, (0.0, 0))
        by_kind[name] = (cpu + (ticks - before) / TICKS, count + 1)
    total = sum(cpu for cpu, _ in by_kind.values())
    wall = time.time() - began
    rows = sorted(by_kind.items(), key=lambda e: -e[1][0])
    with open(out, "w") as f:
        json.dump(
            {
                "wallSeconds": round(wall),
                "cpuSeconds": round(total),
                "byKind": {k: {"cpuSeconds": round(c, 1), "processes": n} for k, (c, n) in rows},
            },
            f,
            indent=1,
        )
    print(f"{wall:.0f} s of wall time, {total:.0f} CPU seconds")
    for name, (cpu, count) in rows:
        if cpu >= 1:
            print(f"{name:28} {cpu:7.0f} s {100 * cpu / total:5.1f} % {count:5} processes")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: cpu-by-process.py OUT.json (stops when OUT.json.stop exists)")
    main(sys.argv[1])
