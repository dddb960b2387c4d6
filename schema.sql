-- tracker's database schema: the one source of truth, embedded in the binary.
--
-- Migrations: each block below starts with a line "-- migration: N" (N = 1, 2, 3 ...) and
-- changes tables and indexes only. A database records the last block it applied in PRAGMA
-- user_version; opening it for writing applies every later block in order, in one write
-- transaction that re-reads the version after taking the lock (so two processes opening one
-- file at once migrate it once). Blocks are append-only: never edit a block that has shipped,
-- add a new one. Views are not migrated: the "-- views" section at the end defines each view
-- once and is re-created after migrating. docs/schema.md documents every table and view.
--
-- Conventions: times of day are RFC 3339 UTC text with nanoseconds ("..._at"); durations are
-- REAL milliseconds ("..._ms") measured on a monotonic clock; booleans are INTEGER 0/1.

-- migration: 1

-- One invocation of `tracker run`. Never updated after it ends, except by `--resume`.
CREATE TABLE runs (
    id              INTEGER PRIMARY KEY,
    label           TEXT    NOT NULL DEFAULT '',
    status          TEXT    NOT NULL CHECK (status IN ('running', 'completed', 'interrupted', 'failed')),
    started_at      TEXT    NOT NULL,
    ended_at        TEXT,
    tool_version    TEXT    NOT NULL,
    host            TEXT    NOT NULL,
    config_json     TEXT    NOT NULL,              -- resolved run configuration, secrets removed
    dataset         TEXT    NOT NULL,              -- what --dataset named
    dataset_hash    TEXT    NOT NULL,              -- sha256 of the dataset source
    prompt_set_hash TEXT    NOT NULL,              -- sha256 over the ordered prompt text hashes
    seed            INTEGER NOT NULL,
    max_tokens      INTEGER,
    temperature     REAL,
    stream          INTEGER NOT NULL DEFAULT 1 CHECK (stream IN (0, 1)),
    load_mode       TEXT    NOT NULL DEFAULT 'closed' CHECK (load_mode IN ('closed', 'open')),
    run_order       TEXT    NOT NULL DEFAULT 'interleaved',
    error           TEXT    NOT NULL DEFAULT ''
) STRICT;

-- The endpoints one run measured, as resolved for that run (no secrets).
CREATE TABLE endpoints (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL REFERENCES runs (id),
    name        TEXT    NOT NULL,
    base_url    TEXT    NOT NULL,
    model       TEXT    NOT NULL,
    hardware    TEXT    NOT NULL DEFAULT '',
    preset      TEXT    NOT NULL DEFAULT '',
    config_json TEXT    NOT NULL DEFAULT '{}',     -- endpoint config, secrets removed
    UNIQUE (run_id, name)
) STRICT;

-- The run's prompt set, in the order every endpoint received it.
CREATE TABLE prompts (
    run_id       INTEGER NOT NULL REFERENCES runs (id),
    idx          INTEGER NOT NULL,                 -- position in the run's prompt order, from 0
    prompt_id    TEXT    NOT NULL,                 -- the dataset row's id
    source_row   INTEGER,                          -- the dataset row's index in its source
    text_hash    TEXT    NOT NULL,                 -- sha256 of the rendered messages
    input_tokens INTEGER NOT NULL,                 -- rendered messages counted with the tokenizer
    gold_json    TEXT    NOT NULL DEFAULT '[]',    -- gold answers, when the dataset has them
    PRIMARY KEY (run_id, idx)
) STRICT;

-- One load level of one endpoint in one run: a concurrency (closed loop) or a rate (open loop).
CREATE TABLE levels (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL REFERENCES runs (id),
    endpoint_id INTEGER NOT NULL REFERENCES endpoints (id),
    concurrency INTEGER NOT NULL,                  -- requests in flight (closed loop); cap for open loop, 0 = none
    rate        REAL,                              -- requests/s (open loop); NULL for closed loop
    trial       INTEGER NOT NULL DEFAULT 1,        -- repeat number of this level within the run
    status      TEXT    NOT NULL CHECK (status IN ('running', 'completed', 'interrupted', 'failed', 'stopped')),
    started_at  TEXT    NOT NULL,
    ended_at    TEXT,
    note        TEXT    NOT NULL DEFAULT ''        -- why a level stopped early, flags
) STRICT;

-- Every request sent, warm-ups and failures included.
CREATE TABLE requests (
    id                   INTEGER PRIMARY KEY,
    run_id               INTEGER NOT NULL REFERENCES runs (id),
    level_id             INTEGER NOT NULL REFERENCES levels (id),
    endpoint_id          INTEGER NOT NULL REFERENCES endpoints (id),
    prompt_idx           INTEGER NOT NULL,         -- prompts.idx
    prompt_id            TEXT    NOT NULL,         -- prompts.prompt_id
    warmup               INTEGER NOT NULL DEFAULT 0 CHECK (warmup IN (0, 1)),
    attempt              INTEGER NOT NULL DEFAULT 1,
    final                INTEGER NOT NULL DEFAULT 1 CHECK (final IN (0, 1)), -- last attempt of its request
    status               TEXT    NOT NULL CHECK (status IN ('ok', 'error', 'timeout', 'canceled', 'truncated')),
    http_status          INTEGER,
    error_class          TEXT    NOT NULL DEFAULT '',
    error_message        TEXT    NOT NULL DEFAULT '',
    finish_reason        TEXT    NOT NULL DEFAULT '',
    started_at           TEXT    NOT NULL,         -- wall clock at t0
    scheduled_ms         REAL,                     -- open loop: intended send time, ms after level start
    start_ms             REAL    NOT NULL,         -- t0, ms after level start (monotonic)
    queue_ms             REAL    NOT NULL DEFAULT 0, -- wait for a concurrency slot before t0
    elapsed_ms           REAL    NOT NULL,         -- t0 to the end of the response (or the failure)
    ttft_ms              REAL,
    ttfc_ms              REAL,                     -- time to first content token (after reasoning)
    e2e_ms               REAL,
    tpot_ms              REAL,
    itl_ms               TEXT    NOT NULL DEFAULT '[]', -- JSON array of inter-token gaps
    chunks               INTEGER NOT NULL DEFAULT 0, -- token-bearing chunks received
    input_tokens         INTEGER,
    input_tokens_source  TEXT    NOT NULL DEFAULT '' CHECK (input_tokens_source IN ('', 'usage', 'tokenizer')),
    output_tokens        INTEGER,
    output_tokens_source TEXT    NOT NULL DEFAULT '' CHECK (output_tokens_source IN ('', 'usage', 'tokenizer')),
    reasoning_tokens     INTEGER,
    response_text        TEXT    NOT NULL DEFAULT '',
    reasoning_text       TEXT    NOT NULL DEFAULT '',
    usage_json           TEXT,                     -- the server's usage object, verbatim
    server_ttft_ms       REAL,                     -- server-reported time to first token
    server_e2e_ms        REAL,                     -- server-reported total latency
    server_json          TEXT,                     -- other server-side fields (gateway timings)
    em                   REAL,                     -- SQuAD exact match of the answer, 0 or 1
    f1                   REAL,                     -- SQuAD F1 of the answer, 0..1
    relay_flag           INTEGER NOT NULL DEFAULT 0 CHECK (relay_flag IN (0, 1))
) STRICT;

CREATE INDEX requests_by_level ON requests (level_id, status);
CREATE INDEX requests_by_run ON requests (run_id, endpoint_id);
CREATE INDEX levels_by_run ON levels (run_id, endpoint_id);

-- migration: 2
-- Workload-aware load: open-loop schedules, SLOs and goodput, send lag, resume.

ALTER TABLE runs ADD COLUMN slo_ttft_ms REAL;   -- --slo ttft=..., NULL = no target
ALTER TABLE runs ADD COLUMN slo_tpot_ms REAL;
ALTER TABLE runs ADD COLUMN slo_e2e_ms REAL;
ALTER TABLE levels ADD COLUMN lag_flag INTEGER NOT NULL DEFAULT 0 CHECK (lag_flag IN (0, 1)); -- the sender fell behind
ALTER TABLE levels ADD COLUMN stop_reason TEXT NOT NULL DEFAULT ''; -- why a sweep or early stop ended here
ALTER TABLE requests ADD COLUMN seq INTEGER;   -- position in its level's request sequence (NULL for warm-ups)

CREATE INDEX requests_by_level_seq ON requests (level_id, seq);

-- migration: 3
-- Seed endpoints (issue 6): latency with its retries, time outside the server, the server's
-- decode rate, the relay flag; v_relay says how much of a level's stream was relayed in bursts.

-- migration: 4
-- A request canceled by an interruption has no outcome: it is neither a success nor a failure
-- of the endpoint. v_summary leaves it out of n, the success rate and every statistic, and
-- counts it in its own column. (--resume sends it again; its row then stops being final.)

-- migration: 5
-- Indexes for reads over large databases (issue 13; docs/schema.md, "Indexes"): analysts' queries
-- by label and by endpoint name go through the views to these instead of scanning every request.

CREATE INDEX runs_by_label ON runs (label);
CREATE INDEX endpoints_by_name ON endpoints (name);
CREATE INDEX requests_by_endpoint ON requests (endpoint_id);

-- migration: 6
-- Connections, prompt caches and llama.cpp's timings (issue 10): what each request's
-- connection did, and how many of its prompt tokens a server's prompt cache served.

ALTER TABLE requests ADD COLUMN conn_reused INTEGER CHECK (conn_reused IN (0, 1)); -- NULL = no connection was had
ALTER TABLE requests ADD COLUMN connect_ms REAL;      -- DNS + TCP + TLS of a new connection; NULL when reused
ALTER TABLE requests ADD COLUMN conn_retries INTEGER NOT NULL DEFAULT 0; -- sends again on another connection (stale keep-alive)
ALTER TABLE requests ADD COLUMN http_proto TEXT;      -- the protocol that answered: HTTP/1.1, HTTP/2.0
ALTER TABLE requests ADD COLUMN cached_tokens INTEGER; -- prompt tokens served from the server's cache; NULL = not reported

-- migration: 7
-- A running run's lease (issue 12): the process running it renews lease_until every few
-- seconds; --resume refuses a run whose lease has not expired unless its owner is known dead.
ALTER TABLE runs ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';  -- host/pid of the process running it
ALTER TABLE runs ADD COLUMN lease_until TEXT;                      -- RFC 3339 UTC; NULL = not held

-- migration: 8
-- Server telemetry (issue 11): each endpoint's Prometheus /metrics, scraped during a run
-- (docs/telemetry.md). A series is stored once; each scrape adds one narrow row per series.

-- One series an endpoint exposed: a sample name with its label set. A histogram's buckets are
-- one series per le; its _sum and _count are series of their own.
CREATE TABLE server_metric_series (
    id          INTEGER PRIMARY KEY,
    endpoint_id INTEGER NOT NULL REFERENCES endpoints (id),
    family      TEXT    NOT NULL,              -- the metric family (a histogram's name without _bucket/_sum/_count)
    name        TEXT    NOT NULL,              -- the sample's name as exposed
    labels      TEXT    NOT NULL DEFAULT '{}', -- canonical JSON object, keys sorted
    kind        TEXT    NOT NULL CHECK (kind IN ('gauge', 'counter', 'histogram', 'summary', 'untyped')),
    UNIQUE (endpoint_id, name, labels)
) STRICT;

-- One value of one series at one scrape, attributed to the level the endpoint was running.
CREATE TABLE server_metrics (
    level_id  INTEGER NOT NULL REFERENCES levels (id),
    series_id INTEGER NOT NULL REFERENCES server_metric_series (id),
    t_ms      INTEGER NOT NULL,                -- when the scrape answered, ms after the level's start (monotonic)
    phase     TEXT    NOT NULL CHECK (phase IN ('warmup', 'measure', 'pause')), -- pause: after the level, before the endpoint's next
    value     REAL    NOT NULL,
    PRIMARY KEY (level_id, series_id, t_ms)
) STRICT, WITHOUT ROWID;

-- migration: 9
-- Level statistics computed once (issue 15): when a level ends, tracker computes its figures in
-- Go (package levelstat, the definitions of docs/metrics.md) from its requests and stores them
-- here; v_summary reads this row instead of ranking the level's requests again. A level without
-- a row (still running) is computed in SQL by v_level_stats. Opening an older database for
-- writing stores a row for each of its ended levels, in the migration's transaction.
-- Derived figures (success rate, throughputs, SLO attainment) are computed by v_summary from
-- these, for both kinds of level alike.
CREATE TABLE level_summary (
    level_id         INTEGER PRIMARY KEY REFERENCES levels (id),
    n                INTEGER NOT NULL,          -- requests with an outcome
    ok               INTEGER NOT NULL,
    good             INTEGER NOT NULL,          -- ok and within every SLO target
    canceled         INTEGER NOT NULL,          -- not in n
    client_resource  INTEGER NOT NULL,          -- not in n
    relayed          INTEGER NOT NULL,          -- ok requests flagged relay_flag
    mean_e2e_ms      REAL,
    p50_e2e_ms       REAL,
    p90_e2e_ms       REAL,
    p99_e2e_ms       REAL,
    mean_ttft_ms     REAL,
    p50_ttft_ms      REAL,
    p90_ttft_ms      REAL,
    p99_ttft_ms      REAL,
    mean_tpot_ms     REAL,
    p50_tpot_ms      REAL,
    p90_tpot_ms      REAL,
    p99_tpot_ms      REAL,
    output_tokens    INTEGER,                   -- NULL: no ok request has a count
    window_ms        REAL,                      -- last end - first start; NULL when n = 0
    send_span_ms     REAL,                      -- last t0 - first t0
    mean_req_tok_s   REAL,
    em               REAL,                      -- 100 x mean
    f1               REAL,
    mean_send_lag_ms REAL,
    max_send_lag_ms  REAL
) STRICT;

-- migration: 10
-- Stable run identity (issue 14): every run has a UUID, the same in every database it is
-- merged into (`tracker merge`); run ids are local to one file. New runs get a random
-- (version 4) UUID when they are created. Runs recorded before this block get one after the
-- block runs, derived from the run itself (store: fillRunUUIDs, a version 5 UUID of its id,
-- host, start time and prompt set), so every copy of an older file migrated anywhere, in
-- place or in a temporary copy, gives its runs the same UUIDs and merging it twice adds nothing.
ALTER TABLE runs ADD COLUMN uuid TEXT;          -- lower-case 8-4-4-4-12 hex; NULL only inside this block
CREATE UNIQUE INDEX runs_by_uuid ON runs (uuid);

-- migration: 11
-- Per-endpoint figures by load level without sorting every request (issue 13): a level carries
-- its endpoint's name (a copy of endpoints.name, written with the level; endpoints are never
-- renamed), and levels_by_endpoint orders the levels by endpoint name and concurrency. v_requests
-- reads levels first, so "GROUP BY endpoint, concurrency" over it reads each group's levels
-- together from this index and their requests by level (requests_by_level), with no sort.
ALTER TABLE levels ADD COLUMN endpoint_name TEXT NOT NULL DEFAULT '';
UPDATE levels SET endpoint_name = (SELECT e.name FROM endpoints e WHERE e.id = levels.endpoint_id);
CREATE INDEX levels_by_endpoint ON levels (endpoint_name, concurrency);

-- views
-- Views are derived, never migrated: each is defined once, here, in its current form. Opening a
-- database for writing drops every view and creates these again whenever a migration ran or a
-- definition changed, in the same transaction as the migrations.

CREATE VIEW v_requests AS
SELECT r.id              AS request_id,
       l.run_id          AS run_id,
       ru.label          AS label,
       l.endpoint_name   AS endpoint,
       e.model           AS model,
       l.concurrency     AS concurrency,
       l.rate            AS rate,
       l.trial           AS trial,
       r.prompt_id       AS prompt_id,
       r.prompt_idx      AS prompt_idx,
       r.status          AS status,
       r.error_class     AS error_class,
       r.http_status     AS http_status,
       r.finish_reason   AS finish_reason,
       r.ttft_ms         AS ttft_ms,
       r.ttfc_ms         AS ttfc_ms,
       r.e2e_ms          AS e2e_ms,
       r.tpot_ms         AS tpot_ms,
       r.queue_ms        AS queue_ms,
       r.input_tokens    AS input_tokens,
       r.output_tokens   AS output_tokens,
       r.reasoning_tokens AS reasoning_tokens,
       r.started_at      AS started_at,
       r.server_ttft_ms  AS server_ttft_ms,
       r.server_e2e_ms   AS server_e2e_ms,
       r.em              AS em,
       r.f1              AS f1,
       r.attempt         AS attempt,
       r.level_id        AS level_id,
       l.endpoint_id     AS endpoint_id,
       r.start_ms        AS start_ms,
       r.elapsed_ms      AS elapsed_ms,
       r.seq             AS seq,
       r.scheduled_ms    AS scheduled_ms,
       r.start_ms - r.scheduled_ms                      AS send_lag_ms,
       r.ttft_ms + coalesce(r.start_ms - r.scheduled_ms, 0) AS ttft_from_scheduled_ms,
       r.e2e_ms + coalesce(r.start_ms - r.scheduled_ms, 0)  AS e2e_from_scheduled_ms,
       CASE WHEN r.status <> 'ok' THEN 0
            WHEN ru.slo_ttft_ms IS NOT NULL AND (r.ttft_ms IS NULL OR r.ttft_ms + coalesce(r.start_ms - r.scheduled_ms, 0) > ru.slo_ttft_ms) THEN 0
            WHEN ru.slo_tpot_ms IS NOT NULL AND r.tpot_ms > ru.slo_tpot_ms THEN 0
            WHEN ru.slo_e2e_ms  IS NOT NULL AND (r.e2e_ms IS NULL OR r.e2e_ms + coalesce(r.start_ms - r.scheduled_ms, 0) > ru.slo_e2e_ms) THEN 0
            ELSE 1 END  AS good,
       -- E2E from the first attempt's t0 (retries and their waits included); e2e_ms is the
       -- final attempt's own.
       CASE WHEN r.attempt = 1 THEN r.e2e_ms
            ELSE r.start_ms + r.e2e_ms - (SELECT a.start_ms FROM requests a
                                          WHERE a.level_id = r.level_id AND a.seq = r.seq AND a.attempt = 1
                                            AND a.warmup = 0 AND a.id <= r.id
                                          ORDER BY a.id DESC LIMIT 1)
       END               AS e2e_with_retries_ms,
       r.e2e_ms - r.server_e2e_ms AS outside_server_ms, -- network, gateway, queues: client E2E minus the server's own
       json_extract(r.server_json, '$.completion_tokens_after_first_per_sec') AS server_decode_tok_s,
       r.relay_flag      AS relay_flag,
       r.conn_reused     AS conn_reused,
       r.connect_ms      AS connect_ms,
       r.conn_retries    AS conn_retries,
       r.http_proto      AS http_proto,
       r.cached_tokens   AS cached_tokens
-- Levels first (CROSS JOIN keeps them outside the requests): a filter on run, label,
-- endpoint or concurrency selects levels by index and reads only their requests, and
-- "GROUP BY endpoint, concurrency" needs no sort (levels_by_endpoint); run_id, endpoint and
-- endpoint_id are the level's, the same as its requests'.
FROM levels l
CROSS JOIN requests r ON r.level_id = l.id
JOIN runs ru     ON ru.id = l.run_id
JOIN endpoints e ON e.id = l.endpoint_id
WHERE r.warmup = 0 AND r.final = 1;

-- Every level's statistics computed in SQL from its requests, in one pass: the analysts' form
-- of docs/metrics.md's definitions, equal to what tracker computes in Go (package levelstat) and
-- stores in level_summary when a level ends (TestLevelSummaryEqualsSQL proves it on generated
-- data); stored says whether level_summary has the level's row. Read from levels to their
-- requests, carrying run_id, level_id and stored through every step (they partition every
-- window) so that "WHERE run_id = ?", "WHERE level_id = ?" or "WHERE stored = 0" reaches the
-- indexes: window functions rank each metric within its level, then window aggregates read every
-- figure (percentiles by linear interpolation between closest ranks, numpy's default). Canceled
-- requests and client-resource failures are counted apart, in no statistic. Derived figures are
-- v_summary's.
CREATE VIEW v_level_stats AS
WITH base AS (
    SELECT l.run_id, l.id AS level_id, l.status AS level_status, ls.level_id IS NOT NULL AS stored, r.status, r.output_tokens, r.start_ms, r.elapsed_ms,
           -- No outcome of the endpoint: canceled by an interruption, or failed for want of a
           -- client resource (store.OutcomeOf): in no statistic, counted apart.
           CASE WHEN r.status = 'canceled' THEN 'canceled'
                WHEN r.status <> 'ok' AND r.error_class = 'client_resource' THEN 'client_resource'
           END AS no_outcome,
           r.em, r.f1, r.e2e_ms, r.relay_flag, r.start_ms - r.scheduled_ms AS lag_ms,
           CASE WHEN r.status = 'ok' THEN r.e2e_ms END  AS ok_e2e,
           CASE WHEN r.status = 'ok' THEN r.ttft_ms END AS ok_ttft,
           CASE WHEN r.status = 'ok' THEN r.tpot_ms END AS ok_tpot,
           CASE WHEN r.status <> 'ok' THEN 0
                WHEN ru.slo_ttft_ms IS NOT NULL AND (r.ttft_ms IS NULL OR r.ttft_ms + coalesce(r.start_ms - r.scheduled_ms, 0) > ru.slo_ttft_ms) THEN 0
                WHEN ru.slo_tpot_ms IS NOT NULL AND r.tpot_ms > ru.slo_tpot_ms THEN 0
                WHEN ru.slo_e2e_ms  IS NOT NULL AND (r.e2e_ms IS NULL OR r.e2e_ms + coalesce(r.start_ms - r.scheduled_ms, 0) > ru.slo_e2e_ms) THEN 0
                ELSE 1 END AS good
    FROM levels l
    LEFT JOIN level_summary ls ON ls.level_id = l.id
    CROSS JOIN requests r -- SQLite keeps levels as the outer loop: requests by level, through the index
    JOIN runs ru    ON ru.id = l.run_id
    WHERE r.level_id = l.id AND r.warmup = 0 AND r.final = 1
),
ranked AS (
    SELECT base.*,
           ROW_NUMBER() OVER (PARTITION BY run_id, level_id, stored ORDER BY ok_e2e NULLS LAST) - 1  AS e2e_i,
           COUNT(ok_e2e) OVER (PARTITION BY run_id, level_id, stored)                                AS e2e_n,
           ROW_NUMBER() OVER (PARTITION BY run_id, level_id, stored ORDER BY ok_ttft NULLS LAST) - 1 AS ttft_i,
           COUNT(ok_ttft) OVER (PARTITION BY run_id, level_id, stored)                               AS ttft_n,
           ROW_NUMBER() OVER (PARTITION BY run_id, level_id, stored ORDER BY ok_tpot NULLS LAST) - 1 AS tpot_i,
           COUNT(ok_tpot) OVER (PARTITION BY run_id, level_id, stored)                               AS tpot_n
    FROM base
),
agg AS (
    -- Window aggregates over the whole level, kept on its first row (k = 1): unlike a GROUP BY,
    -- this lets "WHERE run_id = ?" through to the requests.
    SELECT run_id, level_id, level_status, stored,
           ROW_NUMBER() OVER w                                              AS k,
           SUM(no_outcome IS NULL) OVER w                                   AS n,
           SUM(status = 'ok') OVER w                                        AS ok,
           SUM(good) OVER w                                                 AS good,
           SUM(CASE WHEN status = 'ok' THEN relay_flag END) OVER w          AS relayed,
           SUM(no_outcome IS 'canceled') OVER w                             AS canceled,
           SUM(no_outcome IS 'client_resource') OVER w                      AS client_resource,
           AVG(ok_e2e) OVER w                                               AS mean_e2e_ms,
           AVG(ok_ttft) OVER w                                              AS mean_ttft_ms,
           AVG(ok_tpot) OVER w                                              AS mean_tpot_ms,
           SUM(CASE WHEN e2e_i = CAST((e2e_n - 1) * 0.5 AS INTEGER) THEN ok_e2e * (1.0 - ((e2e_n - 1) * 0.5 - CAST((e2e_n - 1) * 0.5 AS INTEGER)))
                    WHEN e2e_i = CAST((e2e_n - 1) * 0.5 AS INTEGER) + 1 THEN ok_e2e * ((e2e_n - 1) * 0.5 - CAST((e2e_n - 1) * 0.5 AS INTEGER)) END) OVER w AS p50_e2e_ms,
           SUM(CASE WHEN e2e_i = CAST((e2e_n - 1) * 0.9 AS INTEGER) THEN ok_e2e * (1.0 - ((e2e_n - 1) * 0.9 - CAST((e2e_n - 1) * 0.9 AS INTEGER)))
                    WHEN e2e_i = CAST((e2e_n - 1) * 0.9 AS INTEGER) + 1 THEN ok_e2e * ((e2e_n - 1) * 0.9 - CAST((e2e_n - 1) * 0.9 AS INTEGER)) END) OVER w AS p90_e2e_ms,
           SUM(CASE WHEN e2e_i = CAST((e2e_n - 1) * 0.99 AS INTEGER) THEN ok_e2e * (1.0 - ((e2e_n - 1) * 0.99 - CAST((e2e_n - 1) * 0.99 AS INTEGER)))
                    WHEN e2e_i = CAST((e2e_n - 1) * 0.99 AS INTEGER) + 1 THEN ok_e2e * ((e2e_n - 1) * 0.99 - CAST((e2e_n - 1) * 0.99 AS INTEGER)) END) OVER w AS p99_e2e_ms,
           SUM(CASE WHEN ttft_i = CAST((ttft_n - 1) * 0.5 AS INTEGER) THEN ok_ttft * (1.0 - ((ttft_n - 1) * 0.5 - CAST((ttft_n - 1) * 0.5 AS INTEGER)))
                    WHEN ttft_i = CAST((ttft_n - 1) * 0.5 AS INTEGER) + 1 THEN ok_ttft * ((ttft_n - 1) * 0.5 - CAST((ttft_n - 1) * 0.5 AS INTEGER)) END) OVER w AS p50_ttft_ms,
           SUM(CASE WHEN ttft_i = CAST((ttft_n - 1) * 0.9 AS INTEGER) THEN ok_ttft * (1.0 - ((ttft_n - 1) * 0.9 - CAST((ttft_n - 1) * 0.9 AS INTEGER)))
                    WHEN ttft_i = CAST((ttft_n - 1) * 0.9 AS INTEGER) + 1 THEN ok_ttft * ((ttft_n - 1) * 0.9 - CAST((ttft_n - 1) * 0.9 AS INTEGER)) END) OVER w AS p90_ttft_ms,
           SUM(CASE WHEN ttft_i = CAST((ttft_n - 1) * 0.99 AS INTEGER) THEN ok_ttft * (1.0 - ((ttft_n - 1) * 0.99 - CAST((ttft_n - 1) * 0.99 AS INTEGER)))
                    WHEN ttft_i = CAST((ttft_n - 1) * 0.99 AS INTEGER) + 1 THEN ok_ttft * ((ttft_n - 1) * 0.99 - CAST((ttft_n - 1) * 0.99 AS INTEGER)) END) OVER w AS p99_ttft_ms,
           SUM(CASE WHEN tpot_i = CAST((tpot_n - 1) * 0.5 AS INTEGER) THEN ok_tpot * (1.0 - ((tpot_n - 1) * 0.5 - CAST((tpot_n - 1) * 0.5 AS INTEGER)))
                    WHEN tpot_i = CAST((tpot_n - 1) * 0.5 AS INTEGER) + 1 THEN ok_tpot * ((tpot_n - 1) * 0.5 - CAST((tpot_n - 1) * 0.5 AS INTEGER)) END) OVER w AS p50_tpot_ms,
           SUM(CASE WHEN tpot_i = CAST((tpot_n - 1) * 0.9 AS INTEGER) THEN ok_tpot * (1.0 - ((tpot_n - 1) * 0.9 - CAST((tpot_n - 1) * 0.9 AS INTEGER)))
                    WHEN tpot_i = CAST((tpot_n - 1) * 0.9 AS INTEGER) + 1 THEN ok_tpot * ((tpot_n - 1) * 0.9 - CAST((tpot_n - 1) * 0.9 AS INTEGER)) END) OVER w AS p90_tpot_ms,
           SUM(CASE WHEN tpot_i = CAST((tpot_n - 1) * 0.99 AS INTEGER) THEN ok_tpot * (1.0 - ((tpot_n - 1) * 0.99 - CAST((tpot_n - 1) * 0.99 AS INTEGER)))
                    WHEN tpot_i = CAST((tpot_n - 1) * 0.99 AS INTEGER) + 1 THEN ok_tpot * ((tpot_n - 1) * 0.99 - CAST((tpot_n - 1) * 0.99 AS INTEGER)) END) OVER w AS p99_tpot_ms,
           SUM(CASE WHEN status = 'ok' THEN output_tokens END) OVER w     AS output_tokens, -- NULL: no count known
           MAX(CASE WHEN no_outcome IS NULL THEN start_ms + elapsed_ms END) OVER w
             - MIN(CASE WHEN no_outcome IS NULL THEN start_ms END) OVER w AS window_ms,
           MAX(CASE WHEN no_outcome IS NULL THEN start_ms END) OVER w
             - MIN(CASE WHEN no_outcome IS NULL THEN start_ms END) OVER w AS send_span_ms,
           AVG(CASE WHEN status = 'ok' AND e2e_ms > 0
                    THEN output_tokens * 1000.0 / e2e_ms END) OVER w       AS mean_req_tok_s,
           100.0 * AVG(CASE WHEN no_outcome IS NULL THEN em END) OVER w  AS em,
           100.0 * AVG(CASE WHEN no_outcome IS NULL THEN f1 END) OVER w  AS f1,
           AVG(CASE WHEN no_outcome IS NULL THEN lag_ms END) OVER w      AS mean_send_lag_ms,
           MAX(CASE WHEN no_outcome IS NULL THEN lag_ms END) OVER w      AS max_send_lag_ms
    FROM ranked
    WINDOW w AS (PARTITION BY run_id, level_id, stored)
)
SELECT run_id, level_id, level_status, stored, n, ok, good, canceled, client_resource, coalesce(relayed, 0) AS relayed,
       mean_e2e_ms, p50_e2e_ms, p90_e2e_ms, p99_e2e_ms,
       mean_ttft_ms, p50_ttft_ms, p90_ttft_ms, p99_ttft_ms,
       mean_tpot_ms, p50_tpot_ms, p90_tpot_ms, p99_tpot_ms,
       output_tokens, window_ms, send_span_ms, mean_req_tok_s, em, f1, mean_send_lag_ms, max_send_lag_ms
FROM agg
WHERE k = 1;

-- One row per level with an outcome: level_summary's figures where the level has a row (every
-- level that ended), v_level_stats' for the others (running, or recorded by an older tracker),
-- and the figures derived from them. A stored row is read by its key; "stored = 0" reaches
-- v_level_stats' inner query (it is one of its partition columns), so over levels that all have
-- a row no request is read.
CREATE VIEW v_summary AS
WITH stats AS (
    SELECT l.run_id, s.level_id, s.n, s.ok, s.good, s.canceled, s.client_resource, s.relayed,
           s.mean_e2e_ms, s.p50_e2e_ms, s.p90_e2e_ms, s.p99_e2e_ms,
           s.mean_ttft_ms, s.p50_ttft_ms, s.p90_ttft_ms, s.p99_ttft_ms,
           s.mean_tpot_ms, s.p50_tpot_ms, s.p90_tpot_ms, s.p99_tpot_ms,
           s.output_tokens, s.window_ms, s.send_span_ms, s.mean_req_tok_s, s.em, s.f1,
           s.mean_send_lag_ms, s.max_send_lag_ms
    FROM level_summary s JOIN levels l ON l.id = s.level_id
    UNION ALL
    SELECT v.run_id, v.level_id, v.n, v.ok, v.good, v.canceled, v.client_resource, v.relayed,
           v.mean_e2e_ms, v.p50_e2e_ms, v.p90_e2e_ms, v.p99_e2e_ms,
           v.mean_ttft_ms, v.p50_ttft_ms, v.p90_ttft_ms, v.p99_ttft_ms,
           v.mean_tpot_ms, v.p50_tpot_ms, v.p90_tpot_ms, v.p99_tpot_ms,
           v.output_tokens, v.window_ms, v.send_span_ms, v.mean_req_tok_s, v.em, v.f1,
           v.mean_send_lag_ms, v.max_send_lag_ms
    FROM v_level_stats v
    WHERE v.stored = 0
)
SELECT a.run_id                                   AS run_id,
       ru.label                                   AS label,
       e.name                                     AS endpoint,
       e.model                                    AS model,
       l.concurrency                              AS concurrency,
       l.rate                                     AS rate,
       l.trial                                    AS trial,
       l.id                                       AS level_id,
       l.status                                   AS level_status,
       a.n                                        AS n,
       a.ok                                       AS ok,
       1.0 * a.ok / a.n                           AS success_rate,
       a.mean_e2e_ms                              AS mean_e2e_ms,
       a.p50_e2e_ms, a.p90_e2e_ms, a.p99_e2e_ms,
       a.mean_ttft_ms                             AS mean_ttft_ms,
       a.p50_ttft_ms, a.p90_ttft_ms, a.p99_ttft_ms,
       a.mean_tpot_ms                             AS mean_tpot_ms,
       a.p50_tpot_ms, a.p90_tpot_ms, a.p99_tpot_ms,
       a.output_tokens                            AS output_tokens,
       a.window_ms / 1000.0                       AS duration_s,
       CASE WHEN a.window_ms > 0 THEN a.output_tokens * 1000.0 / a.window_ms END AS output_tok_s,
       CASE WHEN a.window_ms > 0 THEN a.ok * 1000.0 / a.window_ms END            AS req_s,
       a.mean_req_tok_s                           AS mean_req_tok_s,
       a.em                                       AS em,
       a.f1                                       AS f1,
       CASE WHEN a.send_span_ms > 0 THEN (a.n - 1) * 1000.0 / a.send_span_ms END AS achieved_rps,
       a.mean_send_lag_ms                         AS mean_send_lag_ms,
       a.max_send_lag_ms                          AS max_send_lag_ms,
       l.lag_flag                                 AS lag_flag,
       1.0 * a.good / a.n                         AS slo_attainment,
       CASE WHEN a.window_ms > 0 THEN a.good * 1000.0 / a.window_ms END          AS goodput_rps,
       l.stop_reason                              AS stop_reason,
       a.canceled                                 AS canceled,
       a.client_resource                          AS client_resource,
       CASE WHEN a.ok > 0 THEN 1.0 * a.relayed / a.ok END                       AS relay_share
FROM stats a
JOIN levels l     ON l.id = a.level_id
JOIN runs ru      ON ru.id = a.run_id
JOIN endpoints e  ON e.id = l.endpoint_id
WHERE a.n > 0;

-- One row per run, newest first when ordered by run_id DESC.
CREATE VIEW v_runs AS
SELECT ru.id AS run_id, ru.label, ru.status, ru.started_at, ru.ended_at, ru.dataset, ru.seed,
       ru.max_tokens, ru.temperature, ru.load_mode, ru.tool_version, ru.host,
       (SELECT group_concat(name, ',') FROM (SELECT name FROM endpoints WHERE run_id = ru.id ORDER BY name)) AS endpoints,
       (SELECT COUNT(*) FROM requests WHERE run_id = ru.id AND warmup = 0 AND final = 1) AS requests,
       (SELECT COUNT(*) FROM requests WHERE run_id = ru.id AND warmup = 0 AND final = 1 AND status = 'ok') AS ok,
       ru.uuid AS uuid
FROM runs ru;

-- One row per level with relayed streams counted: when relay_share is high, the level's
-- ITL/TPOT describe the relay, not decoding (docs/metrics.md, "Relayed streams").
CREATE VIEW v_relay AS
SELECT r.run_id                                AS run_id,
       e.name                                  AS endpoint,
       r.level_id                              AS level_id,
       COUNT(*)                                AS n,
       SUM(r.relay_flag)                       AS relayed,
       1.0 * SUM(r.relay_flag) / COUNT(*)      AS relay_share,
       AVG(r.server_ttft_ms)                   AS mean_server_ttft_ms,
       AVG(r.server_e2e_ms)                    AS mean_server_e2e_ms,
       AVG(r.e2e_ms - r.server_e2e_ms)         AS mean_outside_server_ms
FROM requests r
JOIN endpoints e ON e.id = r.endpoint_id
WHERE r.warmup = 0 AND r.final = 1 AND r.status = 'ok'
GROUP BY r.run_id, r.level_id;

-- Every scraped sample with its run, endpoint and level (docs/telemetry.md).
CREATE VIEW v_server_metrics AS
SELECT l.run_id       AS run_id,
       ru.label       AS label,
       e.name         AS endpoint,
       l.concurrency  AS concurrency,
       l.rate         AS rate,
       l.trial        AS trial,
       m.level_id     AS level_id,
       m.t_ms         AS t_ms,
       s.name         AS name,
       s.labels       AS labels,
       m.value        AS value,
       m.phase        AS phase,
       s.family       AS family,
       s.kind         AS kind
FROM server_metrics m
JOIN server_metric_series s ON s.id = m.series_id
JOIN levels l     ON l.id = m.level_id
JOIN runs ru      ON ru.id = l.run_id
JOIN endpoints e  ON e.id = s.endpoint_id;

-- One row per level, metric family and label set, over the level's measured phase: gauges'
-- mean and max; counters' increase (a reset counts from zero); histograms' observations and
-- p50 / p99 interpolated within the buckets of their increase over the level, as Prometheus'
-- histogram_quantile does. Counter and histogram increases run from the first measured
-- scrape to the first scrape after the level (taken when it ends).
CREATE VIEW v_server_level AS
WITH spans AS (
    SELECT level_id, series_id, t_ms, phase, value,
           ROW_NUMBER() OVER (PARTITION BY level_id, series_id, phase ORDER BY t_ms) AS k
    FROM server_metrics
    WHERE phase IN ('measure', 'pause')
),
steps AS (
    SELECT level_id, series_id, phase, value,
           value - LAG(value) OVER (PARTITION BY level_id, series_id ORDER BY t_ms) AS delta
    FROM spans
    WHERE phase = 'measure' OR k = 1
),
series AS (
    SELECT st.level_id, s.family, s.name, s.labels, s.kind,
           SUM(st.phase = 'measure')                                  AS n,
           AVG(CASE WHEN st.phase = 'measure' THEN st.value END)      AS mean,
           MAX(CASE WHEN st.phase = 'measure' THEN st.value END)      AS max,
           SUM(CASE WHEN st.delta >= 0 THEN st.delta WHEN st.delta < 0 THEN st.value ELSE 0 END) AS increase
    FROM steps st
    JOIN server_metric_series s ON s.id = st.series_id
    GROUP BY st.level_id, st.series_id
),
buckets AS (
    SELECT level_id, family, json_remove(labels, '$.le') AS labels, increase AS cum,
           CASE json_extract(labels, '$.le') WHEN '+Inf' THEN 1e999
                ELSE CAST(json_extract(labels, '$.le') AS REAL) END AS le
    FROM series
    WHERE kind = 'histogram' AND name = family || '_bucket'
),
bounds AS (
    SELECT level_id, family, labels, cum, le,
           MAX(cum)             OVER (PARTITION BY level_id, family, labels)             AS total,
           LAG(cum, 1, 0)       OVER (PARTITION BY level_id, family, labels ORDER BY le) AS prev_cum,
           LAG(le, 1, 0)        OVER (PARTITION BY level_id, family, labels ORDER BY le) AS prev_le
    FROM buckets
),
quantile (q) AS (VALUES (0.5), (0.99)),
hq AS (
    SELECT level_id, family, labels, q,
           CASE WHEN le = 1e999 THEN prev_le
                WHEN cum = prev_cum THEN le
                ELSE prev_le + (le - prev_le) * (q * total - prev_cum) / (cum - prev_cum) END AS value,
           ROW_NUMBER() OVER (PARTITION BY level_id, family, labels, q ORDER BY le) AS r
    FROM bounds CROSS JOIN quantile
    WHERE total > 0 AND cum >= q * total
),
hist AS (
    SELECT level_id, family, labels,
           MAX(CASE WHEN q = 0.5  THEN value END) AS p50,
           MAX(CASE WHEN q = 0.99 THEN value END) AS p99
    FROM hq WHERE r = 1
    GROUP BY level_id, family, labels
),
picked AS (
    SELECT level_id, family, labels, kind, n AS samples, mean, max,
           CASE WHEN kind = 'counter' THEN increase END AS increase, NULL AS p50, NULL AS p99
    FROM series
    WHERE kind IN ('gauge', 'counter', 'untyped')
    UNION ALL
    SELECT c.level_id, c.family, c.labels, c.kind, c.n, NULL, NULL, c.increase, h.p50, h.p99
    FROM series c
    LEFT JOIN hist h ON h.level_id = c.level_id AND h.family = c.family AND h.labels = c.labels
    WHERE c.kind = 'histogram' AND c.name = c.family || '_count'
)
SELECT l.run_id       AS run_id,
       ru.label       AS label,
       e.name         AS endpoint,
       l.concurrency  AS concurrency,
       l.rate         AS rate,
       l.trial        AS trial,
       x.level_id     AS level_id,
       x.family       AS family,
       x.labels       AS labels,
       x.kind         AS kind,
       x.samples      AS samples,
       x.mean         AS mean,
       x.max          AS max,
       x.increase     AS increase,
       x.p50          AS p50,
       x.p99          AS p99
FROM picked x
JOIN levels l    ON l.id = x.level_id
JOIN runs ru     ON ru.id = l.run_id
JOIN endpoints e ON e.id = l.endpoint_id;
