-- folio schema, version 7: the findings of a render (the preflight report)
-- and the two options that turn findings into a failure (issues 12-14).
--
-- findings: the job's findings as lib/base's serialised list (folio/findings.h:
-- a JSON array of {code, severity, stage, page, pointer, message[, omitted]},
-- at most FOLIO_FINDINGS_MAX entries), written by the worker in the same
-- statement as the outcome (SUCCEEDED, or FAILED after rendering) and read by
-- GetStatus/WatchJob in the job's own row: a column, not a table, so a status
-- stays one row read with no join and no N+1. NULL until an outcome records
-- it, and again when a new attempt starts. jsonb so operators can query it
-- (e.g. findings @> '[{"code":"TEXT_OVERSET"}]').
--
-- fail_on_warnings / require_clean_preflight: RenderOptions fields 6 and 7,
-- stored at submit and read by the claim.

ALTER TABLE jobs
  ADD COLUMN findings                jsonb CHECK (findings IS NULL OR jsonb_typeof(findings) = 'array'),
  ADD COLUMN fail_on_warnings        boolean NOT NULL DEFAULT false,
  ADD COLUMN require_clean_preflight boolean NOT NULL DEFAULT false;
