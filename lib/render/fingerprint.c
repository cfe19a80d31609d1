/* The renderer's description for the render cache (folio/render.h,
 * folio_render_describe): everything besides the request that decides a
 * render's bytes - folio's version and a digest of its render and layout
 * sources, the library versions this process actually loaded (cairo,
 * pango, harfbuzz, freetype, fontconfig), and the fonts fontconfig offers
 * (each file with its face index, size and modification time, sorted), so
 * installing, removing or replacing a font gives another renderer. */
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <ft2build.h>
#include FT_FREETYPE_H
#include <harfbuzz/hb.h>
#include <pango/pango.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "folio/render.h"
#include "folio/str.h"
#include "render_source_digest.h"

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

char *folio_render_describe(void) {
  struct folio_str t = {0};
  int ftmaj = 0, ftmin = 0, ftpatch = 0;
  FT_Library ft;
  if (FT_Init_FreeType(&ft) == 0) {
    FT_Library_Version(ft, &ftmaj, &ftmin, &ftpatch);
    FT_Done_FreeType(ft);
  }
  int fc = FcGetVersion();
  folio_str_printf(&t,
                   "folio %s render-sources %s\ncairo %s\npango %s\nharfbuzz %s\nfreetype %d.%d.%d\n"
                   "fontconfig %d.%d.%d\n",
                   FOLIO_VERSION, FOLIO_RENDER_SOURCE_DIGEST, cairo_version_string(), pango_version_string(),
                   hb_version_string(), ftmaj, ftmin, ftpatch, fc / 10000, fc / 100 % 100, fc % 100);
  /* the fonts pango will find: the current configuration's system set */
  FcConfig *cfg = FcConfigReference(NULL);
  FcFontSet *set = cfg ? FcConfigGetFonts(cfg, FcSetSystem) : NULL;
  int n = set ? set->nfont : 0;
  char **lines = calloc((size_t)n + 1, sizeof *lines);
  int nl = 0;
  for (int i = 0; lines && i < n; i++) {
    FcChar8 *file = NULL;
    int index = 0;
    if (FcPatternGetString(set->fonts[i], FC_FILE, 0, &file) != FcResultMatch) continue;
    FcPatternGetInteger(set->fonts[i], FC_INDEX, 0, &index);
    struct stat st;
    long long size = -1, mtime = -1;
    if (stat((const char *)file, &st) == 0) size = (long long)st.st_size, mtime = (long long)st.st_mtime;
    size_t cap = strlen((const char *)file) + 80;
    char *l = malloc(cap);
    if (!l) {
      t.oom = true;
      break;
    }
    snprintf(l, cap, "font %s %d %lld %lld\n", (const char *)file, index, size, mtime);
    lines[nl++] = l;
  }
  if (!lines && n) t.oom = true;
  if (lines) qsort(lines, (size_t)nl, sizeof *lines, cmp_str);
  folio_str_printf(&t, "fonts %d\n", nl);
  for (int i = 0; i < nl; i++) {
    folio_str_puts(&t, lines[i]);
    free(lines[i]);
  }
  free(lines);
  if (cfg) FcConfigDestroy(cfg);
  return folio_str_take(&t); /* NULL after an out-of-memory */
}
