# Shepherd's entry points. `make demo` and `make test` are the two the README promises.
# Every target finds a JDK >= 21 by itself (scripts/find-jdk.sh) and stops with a clear message
# when there is none.

SHELL := /bin/bash
.DEFAULT_GOAL := help

JAVA_HOME_FOUND := $(shell scripts/find-jdk.sh 2>/dev/null)
MVN_CMD := $(shell command -v mvn 2>/dev/null || echo ./mvnw)
MVN = JAVA_HOME="$(JAVA_HOME_FOUND)" $(MVN_CMD) -B -ntp -Dstyle.color=never

.PHONY: help jdk build test unit demo bench bench-quick bench-celery bench-latency bench-console bench-soak bench-scaling bench-redis-calls soak chaos clean format compose-config

help:
	@echo "make demo    build, start the four services and two workers, run 200 demo jobs, report"
	@echo "make test    unit, integration and end-to-end tests against the local RabbitMQ and Redis"
	@echo "make build   compile and package every module (no tests)"
	@echo "make unit    unit tests only (no broker needed)"
	@echo "make bench   the benchmarks (about 25 minutes); make bench-quick: a small run of each"
	@echo "make bench-celery  Shepherd against Celery alone, both ways (BENCH_JOBS=n, default 20000; BENCH_REPEAT=k: k runs in a row, median ratios)"
	@echo "make bench-latency  the 2-worker throughput run, then latency at 25/50/75 % of it, split at the store (BENCH_JOBS=n; BENCH_LATENCY_AT=jobs/s: of that rate instead)"
	@echo "make bench-console  the console's pages timed over 1,000,000 stored jobs (BENCH_CONSOLE_JOBS=n)"
	@echo "make bench-soak  500,000 jobs queued, then drained by 2 workers: memory and heap (BENCH_SOAK_JOBS=n)"
	@echo "make bench-redis-calls  one Redis script call at a trickle: Lettuce (as the services call) against a blocking client (BENCH_RATES="200 742")"
	@echo "make bench-scaling  one Redis against a Redis Cluster, one broker node against three (BENCH_JOBS=n, default 10000): docs/SCALING.md"
	@echo "make soak    200,000 jobs with a 10 s retention: Redis memory must come back (SOAK_JOBS=n)"
	@echo "make chaos   the full-size chaos and Redis-outage tests, 3 runs in a row (CHAOS_RUNS=n)"
	@echo "make format  apply the code format"
	@echo "make compose-config  validate docker-compose.yml with docker compose, where it exists"

jdk:
	@if [ -z "$(JAVA_HOME_FOUND)" ]; then scripts/find-jdk.sh; exit 1; fi
	@echo "Using JDK at $(JAVA_HOME_FOUND) and $(MVN_CMD)"

build: jdk
	$(MVN) -DskipTests clean install

unit: jdk
	$(MVN) -DskipITs clean install

# Every module built once; then every module's tests but the end-to-end one's, two modules at a
# time (their tests share the broker and Redis under unique prefixes, ADR 47), beside the
# end-to-end module's classes, one by one (ADR 43), which start copies of the built jars (ADR 58).
test: jdk
	JAVA_HOME="$(JAVA_HOME_FOUND)" MVN_CMD="$(MVN_CMD)" scripts/test.sh

demo: jdk
	JAVA_HOME="$(JAVA_HOME_FOUND)" scripts/demo.sh

bench: jdk
	JAVA_HOME="$(JAVA_HOME_FOUND)" scripts/bench.sh

bench-quick: jdk
	JAVA_HOME="$(JAVA_HOME_FOUND)" scripts/bench.sh --quick

bench-celery: jdk
	JAVA_HOME="$(JAVA_HOME_FOUND)" scripts/bench.sh --against-celery $${BENCH_JOBS:-20000} $${BENCH_REPEAT:+--repeat $$BENCH_REPEAT}

bench-latency: jdk
	JAVA_HOME="$(JAVA_HOME_FOUND)" scripts/bench.sh --latency $${BENCH_JOBS:-20000} $${BENCH_LATENCY_AT:+--at $$BENCH_LATENCY_AT}

bench-redis-calls: jdk
	JAVA_HOME="$(JAVA_HOME_FOUND)" scripts/bench.sh --redis-calls $${BENCH_RATES:-}

bench-console: jdk
	JAVA_HOME="$(JAVA_HOME_FOUND)" scripts/bench.sh --console $${BENCH_CONSOLE_JOBS:-1000000}

bench-scaling: jdk
	JAVA_HOME="$(JAVA_HOME_FOUND)" scripts/bench.sh --scaling $${BENCH_JOBS:-10000}

bench-soak: jdk
	JAVA_HOME="$(JAVA_HOME_FOUND)" scripts/bench.sh --soak

soak: jdk
	JAVA_HOME="$(JAVA_HOME_FOUND)" scripts/soak.sh

chaos: jdk
	JAVA_HOME="$(JAVA_HOME_FOUND)" scripts/chaos.sh

compose-config:
	@if docker compose version >/dev/null 2>&1; then \
	  docker compose config -q && echo "docker-compose.yml is valid (docker compose config)"; \
	elif command -v docker-compose >/dev/null 2>&1; then \
	  docker-compose config -q && echo "docker-compose.yml is valid (docker-compose config)"; \
	else \
	  echo "No 'docker compose' here, so it cannot validate the file; make test checks its structure (ComposeFileTest)."; \
	fi

format: jdk
	$(MVN) spotless:apply

clean: jdk
	$(MVN) clean
	rm -rf build
