-- folio schema, version 3: tenants - per-tenant limits, an opaque id for
-- object keys, and the count of unfinished jobs the submit quota checks.
--
-- Limits: one nullable column each; NULL means the default compiled into
-- lib/jobs (folio/tenant.h, folio_tenant_limit_defs), so changing a default
-- is a release, not a data migration. Set with `folio-server tenant set`.
--
-- unfinished_jobs is kept by a trigger on jobs (below) in the same
-- transaction as every insert and state change, so it is exact on every
-- server; SubmitLayout locks the row (SELECT ... FOR UPDATE) and inserts only
-- while it is under the limit, which makes the check race-free across
-- servers. Only the tenant's own submissions and finishing jobs touch the row.

-- Old servers must not insert or finish jobs between the backfill below and
-- the trigger taking over (held to the end of this migration's transaction).
LOCK TABLE jobs IN SHARE ROW EXCLUSIVE MODE;

CREATE TABLE tenants (
  name                   text PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 128),
  id                     uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(), -- opaque, in object keys
  max_unfinished_jobs    bigint CHECK (max_unfinished_jobs >= 0),
  submit_rate            double precision CHECK (submit_rate > 0),
  submit_burst           bigint CHECK (submit_burst >= 1),
  max_bytes_in_flight    bigint CHECK (max_bytes_in_flight >= 1),
  max_concurrent_decodes bigint CHECK (max_concurrent_decodes >= 1),
  max_running_jobs       bigint CHECK (max_running_jobs >= 1),
  unfinished_jobs        bigint NOT NULL DEFAULT 0 CHECK (unfinished_jobs >= 0),
  updated_at             timestamptz NOT NULL DEFAULT now()
);

INSERT INTO tenants (name, unfinished_jobs)
  SELECT tenant, count(*) FILTER (WHERE state IN ('QUEUED', 'RUNNING')) FROM jobs GROUP BY tenant;
INSERT INTO tenants (name) SELECT DISTINCT tenant FROM api_keys ON CONFLICT (name) DO NOTHING;

CREATE FUNCTION folio_tenants_count_unfinished() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  was boolean := false;
  now_unfinished boolean := false;
BEGIN
  IF TG_OP <> 'INSERT' THEN was := OLD.state IN ('QUEUED', 'RUNNING'); END IF;
  IF TG_OP <> 'DELETE' THEN now_unfinished := NEW.state IN ('QUEUED', 'RUNNING'); END IF;
  IF TG_OP = 'INSERT' AND now_unfinished THEN
    INSERT INTO tenants AS t (name, unfinished_jobs) VALUES (NEW.tenant, 1)
      ON CONFLICT (name) DO UPDATE SET unfinished_jobs = t.unfinished_jobs + 1;
  ELSIF was AND NOT now_unfinished THEN
    UPDATE tenants SET unfinished_jobs = unfinished_jobs - 1 WHERE name = OLD.tenant;
  ELSIF now_unfinished AND NOT was AND TG_OP = 'UPDATE' THEN
    UPDATE tenants SET unfinished_jobs = unfinished_jobs + 1 WHERE name = NEW.tenant;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER jobs_count_unfinished AFTER INSERT OR DELETE OR UPDATE OF state ON jobs
  FOR EACH ROW EXECUTE FUNCTION folio_tenants_count_unfinished();

-- The claim counts a tenant's RUNNING jobs (max_running_jobs).
CREATE INDEX jobs_tenant_running ON jobs (tenant) WHERE state = 'RUNNING';
