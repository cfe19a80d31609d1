-- folio schema, version 2: hand-backs that do not count as attempts.
--
-- A worker that shuts down hands its running job back (folio_jobs_release).
-- jobs.attempts keeps counting claims, because it is the fencing token and a
-- token must never be issued twice; jobs.released counts the hand-backs, and
-- attempts - released is what max_attempts limits and what GetStatus reports.
-- A hand-back is recorded as a 'released' event (detail: why).

ALTER TABLE jobs ADD COLUMN released integer NOT NULL DEFAULT 0;

-- NOT VALID: every existing row passed the old, narrower check, so scanning
-- the whole audit trail under the migration's exclusive lock would prove
-- nothing; new rows are checked as always.
ALTER TABLE job_events DROP CONSTRAINT job_events_kind_check;
ALTER TABLE job_events ADD CONSTRAINT job_events_kind_check
  CHECK (kind IN ('submitted', 'started', 'progress', 'retried', 'released', 'succeeded', 'failed',
                  'cancel_requested', 'canceled')) NOT VALID;
