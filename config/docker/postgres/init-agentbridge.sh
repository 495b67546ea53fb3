#!/bin/sh
# Runs once, when the PostgreSQL volume is first initialised (docker-entrypoint-initdb.d):
# a role and a database for the bridge, next to Synapse's own (POSTGRES_USER / POSTGRES_DB).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v bridge_password="$AGENTBRIDGE_DB_PASSWORD" <<'EOSQL'
CREATE ROLE agentbridge LOGIN PASSWORD :'bridge_password';
CREATE DATABASE agentbridge OWNER agentbridge ENCODING 'UTF8';
EOSQL
