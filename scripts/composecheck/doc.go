// Package composecheck tests docker-compose.yml without a Docker engine (CI
// has none): its test reads the compose file, builds the image's binaries,
// prepares a fresh Postgres the way the postgres image would (superuser
// password, POSTGRES_DB, the init scripts), then runs every service's
// command with exactly the service's environment — only the `db` host and
// the published ports are mapped to loopback addresses — and waits for the
// services' own health checks. A setting a service would refuse (a short
// secret, a wrong port) fails the test as it would fail `docker compose up`.
package composecheck
