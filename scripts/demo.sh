#!/usr/bin/env bash
# make demo: build, find (or start) RabbitMQ and Redis, run the demo cluster and 200 jobs.
# Everything it starts it stops again; logs go under build/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${JAVA_HOME:?JAVA_HOME must point at a JDK >= 21 (the Makefile finds one)}"
mkdir -p build/demo
MVN=$(command -v mvn || echo ./mvnw)

started_rabbit=""
started_redis=""
cleanup() {
  if [ -n "$started_rabbit" ]; then
    echo "Stopping the private RabbitMQ ($started_rabbit)..."
    rabbitmqctl -n "$started_rabbit" stop >/dev/null 2>&1 || true
  fi
  if [ -n "$started_redis" ]; then
    echo "Stopping the private Redis (port $started_redis)..."
    redis-cli -p "$started_redis" shutdown nosave >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

listening() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
hostport() { local r=${1#*://}; r=${r#*@}; r=${r%%/*}; echo "${r%%:*} ${r##*:}"; }

rabbit_uri=${SHEPHERD_RABBITMQ_URI:-amqp://guest:guest@127.0.0.1:5672}
redis_uri=${SHEPHERD_REDIS_URI:-redis://127.0.0.1:6379}
read -r rh rp <<<"$(hostport "$rabbit_uri")"
read -r dh dp <<<"$(hostport "$redis_uri")"

if ! listening "$rh" "$rp"; then
  echo "RabbitMQ: nothing listens on $rh:$rp."
  if [ -z "${SHEPHERD_RABBITMQ_URI:-}" ] && command -v rabbitmq-server >/dev/null; then
    node="shepherd-demo@localhost"
    echo "Starting a private RabbitMQ ($node) on port 5699 with its data under build/demo/rabbitmq..."
    mkdir -p build/demo/rabbitmq
    echo "[]." >build/demo/rabbitmq/enabled_plugins
    RABBITMQ_NODENAME=$node RABBITMQ_NODE_PORT=5699 RABBITMQ_DIST_PORT=25699 \
      RABBITMQ_MNESIA_BASE=$PWD/build/demo/rabbitmq/mnesia RABBITMQ_LOG_BASE=$PWD/build/demo/rabbitmq/log \
      RABBITMQ_ENABLED_PLUGINS_FILE=$PWD/build/demo/rabbitmq/enabled_plugins \
      rabbitmq-server -detached
    started_rabbit=$node
    for _ in $(seq 1 60); do listening 127.0.0.1 5699 && break; sleep 1; done
    listening 127.0.0.1 5699 || { echo "The private RabbitMQ did not start; see build/demo/rabbitmq/log."; exit 1; }
    export SHEPHERD_RABBITMQ_URI="amqp://guest:guest@127.0.0.1:5699"
  else
    echo "Tried: ${SHEPHERD_RABBITMQ_URI:-the default amqp://127.0.0.1:5672}."
    echo "Start one with 'rabbitmq-server -detached' (Debian: apt-get install rabbitmq-server),"
    echo "or point SHEPHERD_RABBITMQ_URI=amqp://user:pass@host:port/vhost at a running broker."
    exit 1
  fi
fi

if ! listening "$dh" "$dp"; then
  echo "Redis: nothing listens on $dh:$dp."
  if [ -z "${SHEPHERD_REDIS_URI:-}" ] && command -v redis-server >/dev/null; then
    echo "Starting a private Redis on port 6399 (no persistence)..."
    redis-server --port 6399 --bind 127.0.0.1 --daemonize yes --save "" --appendonly no \
      --dir "$PWD/build/demo" --logfile "$PWD/build/demo/redis.log"
    started_redis=6399
    for _ in $(seq 1 30); do listening 127.0.0.1 6399 && break; sleep 0.2; done
    export SHEPHERD_REDIS_URI="redis://127.0.0.1:6399"
  else
    echo "Tried: ${SHEPHERD_REDIS_URI:-the default redis://127.0.0.1:6379}."
    echo "Start one with 'redis-server --daemonize yes --port 6379 --save \"\"' (Debian: apt-get install redis-server),"
    echo "or point SHEPHERD_REDIS_URI=redis://host:port at a running Redis."
    exit 1
  fi
fi

echo "Building (logs in build/demo/build.log)..."
if ! JAVA_HOME="$JAVA_HOME" "$MVN" -B -q -ntp -DskipTests -Dspotless.check.skip=true clean install >build/demo/build.log 2>&1; then
  tail -n 40 build/demo/build.log
  echo "The build failed; the whole log is build/demo/build.log."
  exit 1
fi

cp="e2e-tests/target/classes:$(cat e2e-tests/target/classpath.txt)"
"$JAVA_HOME/bin/java" -cp "$cp" -Dshepherd.root="$PWD" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn dev.shepherd.e2e.demo.Demo
