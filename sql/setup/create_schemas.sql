-- Schemas and audit tables of the pipeline's working database (idempotent).
create schema if not exists audit;
create schema if not exists staging;
create schema if not exists marts;

create table if not exists audit.loads (
    run_id          varchar not null,
    source          varchar not null,
    file_name       varchar not null,
    sha256          varchar,
    batch_date      date,
    rows_read       bigint not null,
    rows_loaded     bigint not null,
    rows_rejected   bigint not null,
    masked_buyer_ids bigint not null default 0,
    loaded_at       timestamp not null,
    outcome         varchar not null,
    error           varchar,
    warning         varchar,
    parse_fingerprint varchar
);
alter table audit.loads add column if not exists parse_fingerprint varchar;

create table if not exists audit.rejects (
    source      varchar not null,
    file_name   varchar not null,
    line        bigint not null,
    reason      varchar not null,
    raw_line    varchar,
    run_id      varchar not null
);

-- What each run restated: a quarter of a mart whose published numbers changed (contract §6).
create table if not exists audit.restatements (
    run_id      varchar not null,
    table_name  varchar not null,
    quarter     varchar not null,
    reason      varchar not null,
    restated_at timestamp not null
);

-- The last validation of each check over each content fingerprint, so an unchanged table is not
-- validated (nor Great Expectations imported) again.
create table if not exists audit.validations (
    check_name   varchar not null,
    fingerprint  varchar not null,
    passed       boolean not null,
    run_id       varchar not null,
    validated_at timestamp not null
);

-- What each incrementally built staging table reflects: every lake file (path -> size:mtime) and
-- `reference` (a fingerprint of the SQL and reference data it is built with). A run that only adds
-- lake files merges their rows; any other change rebuilds the table (assets/lib/incremental.py).
create table if not exists audit.staging_inputs (
    table_name varchar not null,
    input varchar not null,
    version varchar not null
);

-- Per staging table a mart reads and per month of the date the marts file its rows under, the row
-- count and an order-independent hash of the rows. A merge into the table adds the digests of the
-- rows it adds and subtracts those of the rows it removes; a mart recomputes the quarters whose
-- months' digests differ from the ones it was built from (assets/lib/incremental.py).
create table if not exists audit.month_digests (
    table_name  varchar not null,
    month_start date not null,
    row_count   bigint not null,
    digest      hugeint not null
);

-- Per staging table that merges delete from, the deleted rows its last vacuum left stored (DuckDB
-- does not reclaim deletions spread thinly over row groups): a merge vacuums once the rows deleted
-- since reach a share of the table (assets/lib/incremental.py, vacuum_when_due).
create table if not exists audit.vacuum_baselines (
    table_name   varchar primary key,
    deleted_rows bigint not null
);

-- The integer key of each pseudonymised event user (contract §8), kept by the raw events step: the
-- events lake stores keys, 8 bytes a row where a pseudonym takes 64. Add-only, so that a key in a lake
-- file always names the same user.
create table if not exists staging.event_users (
    pseudonym   varchar not null,
    user_key    bigint not null
);
