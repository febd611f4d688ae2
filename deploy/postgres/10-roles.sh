#!/bin/sh
# Run by the postgres image once, on an empty data volume: one role per user of the server, so
# NOP-IC cannot read Temporal's histories with its credentials and Temporal cannot read NOP-IC's
# tables with its own. The superuser (POSTGRES_PASSWORD) is for the operator only.
set -eu
: "${APP_DB_PASSWORD:?set APP_DB_PASSWORD}"
: "${TEMPORAL_DB_PASSWORD:?set TEMPORAL_DB_PASSWORD}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v app_password="$APP_DB_PASSWORD" -v temporal_password="$TEMPORAL_DB_PASSWORD" <<'SQL'
CREATE ROLE nopic LOGIN PASSWORD :'app_password';
CREATE DATABASE nopic OWNER nopic;
REVOKE ALL ON DATABASE nopic FROM PUBLIC;
-- Temporal's setup creates its two databases (temporal, temporal_visibility) itself.
CREATE ROLE temporal LOGIN CREATEDB PASSWORD :'temporal_password';
SQL
