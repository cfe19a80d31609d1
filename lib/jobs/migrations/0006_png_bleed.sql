-- folio schema, version 6: RenderOptions.png_include_bleed (issue 14).
--
-- PNG pages show the trimmed page by default; with this set they show the
-- bleed box (trim + the layout's page.bleed), so a proof shows what runs off
-- the edge. Stored with the job like png_dpi, read by the worker's claim.
-- NOT NULL DEFAULT false: jobs submitted before this migration keep today's
-- output.

ALTER TABLE jobs
  ADD COLUMN png_include_bleed boolean NOT NULL DEFAULT false;
