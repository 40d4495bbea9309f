# Shepherd's entry points. `make demo` and `make test` are the two the README promises.
# Every target finds a JDK >= 21 by itself (scripts/find-jdk.sh) and stops with a clear message
# when there is none.

SHELL := /bin/bash
.DEFAULT_GOAL := help

JAVA_HOME_FOUND := $(shell scripts/find-jdk.sh 2>/dev/null)
MVN_CMD := $(shell command -v mvn 2>/dev/null || echo ./mvnw)
MVN = JAVA_HOME="$(JAVA_HOME_FOUND)" $(MVN_CMD) -B -ntp -Dstyle.color=never

.PHONY: help jdk build test unit demo clean format

help:
	@echo "make demo    build, start the four services and two workers, run 200 demo jobs, report"
	@echo "make test    unit, integration and end-to-end tests against the local RabbitMQ and Redis"
	@echo "make build   compile and package every module (no tests)"
	@echo "make unit    unit tests only (no broker needed)"
	@echo "make format  apply the code format"

jdk:
	@if [ -z "$(JAVA_HOME_FOUND)" ]; then scripts/find-jdk.sh; exit 1; fi
	@echo "Using JDK at $(JAVA_HOME_FOUND) and $(MVN_CMD)"

build: jdk
	$(MVN) -DskipTests install

unit: jdk
	$(MVN) -DskipITs install

test: jdk
	scripts/check-services.sh
	$(MVN) install

demo: jdk
	JAVA_HOME="$(JAVA_HOME_FOUND)" scripts/demo.sh

format: jdk
	$(MVN) spotless:apply

clean: jdk
	$(MVN) clean
	rm -rf build
