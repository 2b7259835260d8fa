#!/usr/bin/env bash
# Runs one real Apache Kafka broker (a single KRaft node) on 127.0.0.1 for tests and
# benchmarks: `start` prints its bootstrap address once it accepts clients, `stop` ends it
# and removes its data. The jars come from Maven Central and are kept in a cache directory.
#
#   KAFKA_PORT   client port (default 9092); the controller listens on the next port
#   KAFKA_CACHE  where the jars are kept (default ~/.cache/vastflow/kafka-<version>)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version=4.1.1
port="${KAFKA_PORT:-9092}"
cport=$((port + 1))
cache="${KAFKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vastflow/kafka-$version}"
state="$root/.kafka/broker-$port"   # holds the pid and the data directory's path

die() { echo "kafka.sh: $*" >&2; exit 1; }

jars() {
  [ -f "$cache/libs/.complete" ] && return 0
  command -v mvn >/dev/null || die "mvn not found (scripts/setup.sh installs maven)"
  mkdir -p "$cache"
  local tmp; tmp="$(mktemp -d "$cache/libs.XXXXXX")"
  echo "kafka.sh: fetching Kafka $version jars from Maven Central into $cache" >&2
  # The pom lists kafka_2.13, kafka-tools and slf4j-simple; copy-dependencies resolves
  # their transitive jars into one directory for `java -cp 'libs/*'`.
  if ! mvn -q -B -f "$root/scripts/kafka/pom.xml" dependency:copy-dependencies \
      -DoutputDirectory="$tmp" -Dkafka.version="$version" >&2; then
    rm -rf "$tmp"; die "could not resolve the Kafka jars with mvn"
  fi
  touch "$tmp/.complete"
  rm -rf "$cache/libs"
  mv "$tmp" "$cache/libs"
}

running_pid() {
  [ -f "$state/pid" ] || return 1
  local pid; pid="$(cat "$state/pid")"
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}

start() {
  if running_pid >/dev/null; then echo "127.0.0.1:$port"; return 0; fi
  command -v java >/dev/null || die "java not found (scripts/setup.sh installs openjdk-17-jre-headless)"
  jars
  rm -rf "$state"; mkdir -p "$state"
  local data; data="$(mktemp -d "${TMPDIR:-/tmp}/vastflow-kafka-$port.XXXXXX")"
  echo "$data" >"$state/data"
  cat >"$data/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$data/logs
num.partitions=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
share.coordinator.state.topic.replication.factor=1
# Arrow IPC messages carry whole batches; tests shorten sessions to see a killed member go sooner.
message.max.bytes=16777216
replica.fetch.max.bytes=16777216
group.min.session.timeout.ms=2000
PROPS
  local cp="$cache/libs/*"
  local jvm=(-Xms256m -Xmx768m -XX:+UseG1GC -Djava.awt.headless=true)
  # With controller.quorum.voters set the storage is formatted without --standalone.
  java "${jvm[@]}" -cp "$cp" kafka.tools.StorageTool format -t "$(java -cp "$cp" kafka.tools.StorageTool random-uuid)" \
    -c "$data/server.properties" >"$data/format.log" 2>&1 || { cat "$data/format.log" >&2; die "formatting $data failed"; }
  nohup java "${jvm[@]}" -cp "$cp" kafka.Kafka "$data/server.properties" >"$data/server.log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$state/pid"
  # Ready means the broker finished starting (its log says so), not only that the port is open.
  local i
  for i in $(seq 1 240); do
    if ! kill -0 "$pid" 2>/dev/null; then tail -20 "$data/server.log" >&2; stop >/dev/null 2>&1 || true; die "the broker exited while starting"; fi
    if grep -q 'Kafka Server started' "$data/server.log" && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "127.0.0.1:$port"; return 0
    fi
    sleep 0.25
  done
  tail -20 "$data/server.log" >&2
  stop >/dev/null 2>&1 || true
  die "the broker did not accept clients on 127.0.0.1:$port within 60 s"
}

stop() {
  local pid
  if pid="$(running_pid)"; then
    kill "$pid" 2>/dev/null || true
    local i
    for i in $(seq 1 80); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  if [ -f "$state/data" ]; then rm -rf "$(cat "$state/data")"; fi
  rm -rf "$state"
  echo "kafka.sh: stopped the broker on 127.0.0.1:$port" >&2
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  jars) jars; echo "$cache/libs" ;;
  *) echo "usage: scripts/kafka.sh start|stop|jars" >&2; exit 2 ;;
esac
