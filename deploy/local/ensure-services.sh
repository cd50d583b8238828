#!/usr/bin/env bash
# Makes sure the MariaDB and Redis that the integration tests use are up.
# Starts a locally installed one that has stopped; otherwise fails loudly:
# the database- and Redis-backed tests are never skipped.
set -euo pipefail

mysql_addr=${ELICENCE_TEST_MYSQL_ADDR:-127.0.0.1:3306}
redis_addr=${ELICENCE_TEST_REDIS_ADDR:-127.0.0.1:6379}

up() { # host:port
	local host=${1%:*} port=${1##*:}
	(exec 3<>"/dev/tcp/$host/$port") 2>/dev/null
}

wait_up() { # host:port name
	for _ in $(seq 1 60); do
		up "$1" && return 0
		sleep 0.5
	done
	echo "ensure-services: $2 is not answering on $1" >&2
	return 1
}

if ! up "$mysql_addr"; then
	if command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ]; then
		echo "ensure-services: starting MariaDB"
		mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
		start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
		wait_up "$mysql_addr" MariaDB
	else
		echo "ensure-services: MariaDB is not reachable on $mysql_addr and not installed here." >&2
		echo "  Install it (apt-get install mariadb-server) or set ELICENCE_TEST_MYSQL_DSN/ELICENCE_TEST_MYSQL_ADDR." >&2
		exit 1
	fi
fi

if ! up "$redis_addr"; then
	if command -v redis-server >/dev/null 2>&1; then
		echo "ensure-services: starting Redis"
		mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
		redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "${redis_addr##*:}" --save "" \
			--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
		wait_up "$redis_addr" Redis
	else
		echo "ensure-services: Redis is not reachable on $redis_addr and not installed here." >&2
		echo "  Install it (apt-get install redis-server) or set ELICENCE_TEST_REDIS_ADDR." >&2
		exit 1
	fi
fi
echo "ensure-services: MariaDB on $mysql_addr and Redis on $redis_addr are up"
