-- Several instances on one database, one of them in charge (issue #19): storage/lease.py.
-- Times are milliseconds since 1970 by the DATABASE's clock (SQLite's 'now' here,
-- PostgreSQL's clock_timestamp() there), never a bot's: instances on other hosts, or on
-- clocks of their own, compare their deadlines on one clock.

-- A named lease: `holder` may act alone until `deadline`, and renews it before then.
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    taken_at INTEGER NOT NULL,
    deadline INTEGER NOT NULL
);

-- Each running instance and its last sign of life. `host` names the machine and its
-- process namespace, so that an instance on the same one can tell a dead `pid` at once.
CREATE TABLE instances (
    name TEXT PRIMARY KEY,
    mode TEXT NOT NULL CHECK (mode IN ('polling', 'webhook')),
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL
);
