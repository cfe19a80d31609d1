-- folio schema, version 4: per-tenant overrides of the processes' own budgets
-- (issue 10: every budget a documented limit with a default and a per-tenant
-- override).
--
-- One nullable column each, like 0003's; NULL means "not overridden": the
-- process's configured value applies (its FOLIO_* variable: the worker's
-- FOLIO_RENDER_CPU_MS and FOLIO_RENDER_IMAGE_CACHE_BYTES, the server's
-- FOLIO_STREAMS_PER_TENANT and FOLIO_LAYOUT_*), so the default lives in one
-- place, the process's environment. Set with `folio-server tenant set`;
-- folio/tenant.h (folio_tenant_limit_defs) says what each bounds and whether
-- an override may exceed the process's value (the layout_* ones may not).
-- The worker's claim reads render_* with the job; servers read the others
-- with the API-key check. FOLIO_RENDER_MEMORY_MAX_BYTES is deliberately not
-- here: the render process's memory ceiling is process-wide, a last line.

ALTER TABLE tenants
  ADD COLUMN render_cpu_ms                bigint CHECK (render_cpu_ms >= 1),
  ADD COLUMN render_image_cache_bytes     bigint CHECK (render_image_cache_bytes >= 1),
  ADD COLUMN streams_per_tenant           bigint CHECK (streams_per_tenant >= 1),
  ADD COLUMN layout_max_bytes             bigint CHECK (layout_max_bytes >= 1),
  ADD COLUMN layout_max_image_bytes_total bigint CHECK (layout_max_image_bytes_total >= 1),
  ADD COLUMN layout_max_pages             bigint CHECK (layout_max_pages >= 1);
