-- folio schema, version 5: the PDF profiles a job asks for (issue 14:
-- RenderOptions.pdf_profile and additional_pdf_profiles).
--
-- One integer, the set of folio.v1.PdfProfile values as bits (1 << value:
-- 2 = PDF/A-2b, 4 = PDF/X-4, 8 = PDF/UA-1), as lib/pdf's
-- folio_pdf_profiles_set() builds it after the submit check; 0 = none, the
-- renderer's PDF unchanged (every job before this migration). A set, not a
-- list: a profile named twice counts once, and the order does not matter.
-- The worker reads it with the claim (SQL_CLAIM).

ALTER TABLE jobs
  ADD COLUMN pdf_profiles integer NOT NULL DEFAULT 0
    CHECK (pdf_profiles >= 0 AND pdf_profiles & ~14 = 0);
