-- Several instances on one database, one of them in charge (issue #19): storage/lease.py.
-- PostgreSQL's counterpart of storage/migrations/0021_instances.sql (same tables, columns
-- and meaning): times are milliseconds since 1970 by the server's clock_timestamp().

CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    taken_at BIGINT NOT NULL,
    deadline BIGINT NOT NULL
);

CREATE TABLE instances (
    name TEXT PRIMARY KEY,
    mode TEXT NOT NULL CHECK (mode IN ('polling', 'webhook')),
    host TEXT NOT NULL,
    pid BIGINT NOT NULL,
    started_at BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL
);
