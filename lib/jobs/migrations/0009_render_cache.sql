-- folio schema, version 9: the render cache (issue 16, "never render twice").
--
-- A job submitted with a cache key (folio/render_cache.h: SHA-256 over the
-- canonical layout, every render option and the asset digests; computed by
-- folio-server) is answered from render_cache when its tenant already has a
-- SUCCEEDED job with the same key rendered by the current renderer: the new
-- job is inserted SUCCEEDED, its artifacts rows copy the source job's (the
-- same S3 objects, never copied) and from_cache_job names the source. A
-- worker records the entry in the same statement that makes a job SUCCEEDED
-- (never for failed, canceled or partial jobs). docs/internals/jobs.md,
-- "The render cache", states the key, the scope and the invariants.

-- cache_key: the request part of the key (NULL: the caller turned the cache
-- off, nothing is looked up or recorded). from_cache_job: the job whose
-- artifacts this one shares (NULL when rendered).
ALTER TABLE jobs
  ADD COLUMN cache_key      bytea CHECK (length(cache_key) = 32),
  ADD COLUMN from_cache_job uuid;

-- The renderers the workers run: a fingerprint (SHA-256 of the description
-- and of the installed font set) per distinct build + libraries + fonts.
-- Each render process upserts its row at start; the submit lookup takes the
-- most recently registered one as current, so entries rendered by another
-- renderer (before an upgrade, before a font was installed) never hit.
CREATE TABLE render_renderers (
  fingerprint   bytea PRIMARY KEY CHECK (length(fingerprint) = 32),
  description   text NOT NULL,
  registered_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX render_renderers_registered ON render_renderers (registered_at);

-- One entry per (tenant, request key, renderer): the SUCCEEDED job whose
-- artifacts answer it. Scoped by tenant: another tenant's identical document
-- is another key (no cross-tenant hit, so no timing or existence signal).
CREATE TABLE render_cache (
  tenant      text NOT NULL CHECK (length(tenant) BETWEEN 1 AND 128),
  request_key bytea NOT NULL CHECK (length(request_key) = 32),
  renderer    bytea NOT NULL CHECK (length(renderer) = 32),
  job_id      uuid NOT NULL REFERENCES jobs (id),
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant, request_key, renderer)
);
-- Invalidation by source job (its objects vanished).
CREATE INDEX render_cache_job ON render_cache (job_id);

-- Deletion safety: an object is deleted only when no artifacts row refers to
-- it (folio_jobs_objects_referenced); several jobs may share one object.
CREATE INDEX artifacts_object_key ON artifacts (object_key);
