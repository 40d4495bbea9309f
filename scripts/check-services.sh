#!/usr/bin/env bash
# Checks that RabbitMQ and Redis answer where the tests will look for them, and says exactly what
# it tried and how to start them when they do not. The JUnit extension in libs/test-support does
# the same check again (and can use Testcontainers where a Docker engine runs).
set -u

parse() { # $1 = URI, prints "host port"
  local rest=${1#*://}; rest=${rest#*@}; rest=${rest%%/*}
  echo "${rest%%:*} ${rest##*:}"
}

rabbit=${SHEPHERD_RABBITMQ_URI:-amqp://guest:guest@127.0.0.1:5672}
redis=${SHEPHERD_REDIS_URI:-redis://127.0.0.1:6379}
read -r rhost rport <<<"$(parse "$rabbit")"
read -r dhost dport <<<"$(parse "$redis")"

rsrc="the default port"; [ -n "${SHEPHERD_RABBITMQ_URI:-}" ] && rsrc="from SHEPHERD_RABBITMQ_URI"
dsrc="the default port"; [ -n "${SHEPHERD_REDIS_URI:-}" ] && dsrc="from SHEPHERD_REDIS_URI"
missing=0
if ! (exec 3<>"/dev/tcp/$rhost/$rport") 2>/dev/null; then
  echo "RabbitMQ: nothing listens on $rhost:$rport ($rsrc)." >&2
  echo "  start one:  rabbitmq-server -detached   (or set SHEPHERD_RABBITMQ_URI=amqp://user:pass@host:port/vhost)" >&2
  missing=1
fi
if [ "$(redis-cli -h "$dhost" -p "$dport" ping 2>/dev/null || true)" != "PONG" ] \
   && ! (exec 3<>"/dev/tcp/$dhost/$dport") 2>/dev/null; then
  echo "Redis: nothing answers on $dhost:$dport ($dsrc)." >&2
  echo "  start one:  redis-server --daemonize yes --port 6379 --save ''   (or set SHEPHERD_REDIS_URI=redis://host:port)" >&2
  missing=1
fi
if [ "$missing" -ne 0 ]; then
  if docker info >/dev/null 2>&1; then
    echo "A Docker engine answers: the tests will start RabbitMQ and Redis with Testcontainers." >&2
    exit 0
  fi
  echo "The tests need a real RabbitMQ and Redis; they do not skip. Start them and run again." >&2
  exit 1
fi
echo "RabbitMQ at $rhost:$rport and Redis at $dhost:$dport answer."
