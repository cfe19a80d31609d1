-- folio schema, version 8: layouts stored compressed by the server (issue 16).
--
-- jobs.layout holds either the layout JSON (layout_codec 0: every row
-- written before this migration, and layouts zstd cannot shrink) or one zstd
-- frame of it (layout_codec 1), compressed by folio-server on its decode
-- pool (folio/layout_store.h). Readers go through folio_jobs_layout_unpack,
-- which bounds what a stored frame may expand to.
--
-- Adding a column with a constant default rewrites nothing (PostgreSQL 11+):
-- old rows read 0, i.e. plain JSON, exactly what they hold.
ALTER TABLE jobs ADD COLUMN layout_codec smallint NOT NULL DEFAULT 0;

-- EXTERNAL: out of line when the row is large, but never pglz-compressed.
-- The server already compressed it (pglz on a 47 KB layout was ~22% of the
-- backend's CPU per submit and shrank it less than zstd -1); compressing a
-- zstd frame again would only burn CPU. Out of line keeps the jobs row small
-- for the updates of its life (claim, heartbeats, finish): each writes a new
-- row version, and a TOAST pointer is carried over, not copied. Existing
-- values keep their pglz form and stay readable (PostgreSQL decompresses
-- them on read as before); only new values are stored this way.
ALTER TABLE jobs ALTER COLUMN layout SET STORAGE EXTERNAL;
