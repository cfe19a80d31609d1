-- folio schema, version 1: jobs, artifacts, the job_events audit trail, api_keys.
-- Applied by folio_jobs_migrate() inside one transaction under an advisory
-- lock; see docs/internals/jobs.md for the invariants these tables keep.

CREATE TABLE jobs (
  id               uuid PRIMARY KEY,             -- UUIDv7: time-ordered
  tenant           text NOT NULL CHECK (length(tenant) BETWEEN 1 AND 128),
  idempotency_key  text CHECK (length(idempotency_key) BETWEEN 1 AND 128),
  state            text NOT NULL DEFAULT 'QUEUED'
                   CHECK (state IN ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELED')),
  formats          smallint[] NOT NULL CHECK (cardinality(formats) BETWEEN 1 AND 3),
  png_dpi          integer NOT NULL DEFAULT 150 CHECK (png_dpi BETWEEN 36 AND 1200),
  page_range       text NOT NULL DEFAULT '',
  layout           bytea NOT NULL,
  labels           jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(labels) = 'object'),
  attempts         integer NOT NULL DEFAULT 0,   -- claims so far; the fencing token
  max_attempts     integer NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
  cancel_requested boolean NOT NULL DEFAULT false,
  worker_id        text,
  progress_percent smallint NOT NULL DEFAULT 0 CHECK (progress_percent BETWEEN 0 AND 100),
  error_code       text,
  error_message    text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  started_at       timestamptz,
  finished_at      timestamptz,
  heartbeat_at     timestamptz,
  dispatched_at    timestamptz,                  -- last XADD to the stream
  CONSTRAINT jobs_tenant_idempotency_key UNIQUE (tenant, idempotency_key),
  CHECK ((state IN ('SUCCEEDED', 'FAILED', 'CANCELED')) = (finished_at IS NOT NULL))
);

-- The reconciler: QUEUED jobs whose dispatch is missing or old.
CREATE INDEX jobs_queued_dispatch ON jobs ((COALESCE(dispatched_at, created_at)), id)
  WHERE state = 'QUEUED';
-- The reaper: RUNNING jobs whose worker stopped heartbeating.
CREATE INDEX jobs_running_heartbeat ON jobs (heartbeat_at, id) WHERE state = 'RUNNING';

CREATE TABLE artifacts (
  job_id       uuid NOT NULL REFERENCES jobs (id),
  name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
  ord          integer NOT NULL,                 -- PDF, then PNG pages in order, then SLA
  format       smallint NOT NULL CHECK (format BETWEEN 1 AND 3),
  page         integer NOT NULL DEFAULT 0,
  size_bytes   bigint NOT NULL CHECK (size_bytes >= 0),
  sha256_hex   text NOT NULL CHECK (sha256_hex ~ '^[0-9a-f]{64}$'),
  content_type text NOT NULL,
  object_key   text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (job_id, name)
);

CREATE TABLE job_events (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  job_id     uuid NOT NULL REFERENCES jobs (id),
  kind       text NOT NULL CHECK (kind IN ('submitted', 'started', 'progress', 'retried',
                                           'succeeded', 'failed', 'cancel_requested', 'canceled')),
  at         timestamptz NOT NULL DEFAULT clock_timestamp(),
  attempt    integer,
  worker_id  text,
  detail     text
);
CREATE INDEX job_events_job ON job_events (job_id, id);

-- The audit trail is append-only: rows may be inserted, never changed.
CREATE FUNCTION folio_job_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'job_events is append-only (% refused)', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER job_events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON job_events
  FOR EACH STATEMENT EXECUTE FUNCTION folio_job_events_append_only();

CREATE TABLE api_keys (
  id          uuid PRIMARY KEY,                  -- the public part of the key
  tenant      text NOT NULL CHECK (length(tenant) BETWEEN 1 AND 128),
  key_hash    bytea NOT NULL CHECK (length(key_hash) = 32), -- keyed BLAKE2b of the secret
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);
CREATE INDEX api_keys_tenant ON api_keys (tenant, created_at);
