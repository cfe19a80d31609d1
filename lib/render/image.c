/* Asset decoding: PNG through cairo (libpng), JPEG through libjpeg into a cairo
 * RGB24 surface. For PDF output the JPEG bytes are attached as mime data, so
 * cairo embeds the original JPEG (DCTDecode) instead of re-compressing pixels.
 * Decoded surfaces are cached per painter (per thread), one per asset. */
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "render_int.h"

struct mem_reader {
  const unsigned char *p;
  size_t left;
};

static cairo_status_t read_mem(void *closure, unsigned char *data, unsigned int len) {
  struct mem_reader *r = closure;
  if (len > r->left) return CAIRO_STATUS_READ_ERROR;
  memcpy(data, r->p, len);
  r->p += len;
  r->left -= len;
  return CAIRO_STATUS_SUCCESS;
}

struct jpeg_fail {
  struct jpeg_error_mgr mgr;
  jmp_buf jmp;
  char msg[JMSG_LENGTH_MAX];
};

static void jpeg_fail_exit(j_common_ptr cinfo) {
  struct jpeg_fail *f = (struct jpeg_fail *)cinfo->err;
  f->mgr.format_message(cinfo, f->msg);
  longjmp(f->jmp, 1);
}

static void jpeg_quiet(j_common_ptr cinfo, int level) { (void)cinfo; (void)level; }

/* Returns a new RGB24 surface or NULL with msg filled. */
static cairo_surface_t *decode_jpeg(const struct folio_asset *a, char *msg, size_t msg_len) {
  struct jpeg_decompress_struct cinfo;
  struct jpeg_fail err;
  /* volatile: modified between setjmp and a possible longjmp */
  cairo_surface_t *volatile surface = NULL;
  unsigned char *volatile line = NULL;
  memset(&cinfo, 0, sizeof cinfo);
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpeg_fail_exit;
  err.mgr.emit_message = jpeg_quiet;
  if (setjmp(err.jmp)) {
    snprintf(msg, msg_len, "%s", err.msg);
    jpeg_destroy_decompress(&cinfo);
    if (surface) cairo_surface_destroy(surface);
    free(line);
    return NULL;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, a->data, (unsigned long)a->size);
  jpeg_read_header(&cinfo, TRUE);
  bool cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
  cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
  jpeg_start_decompress(&cinfo);
  unsigned w = cinfo.output_width, h = cinfo.output_height, nc = (unsigned)cinfo.output_components;
  surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)w, (int)h);
  line = malloc((size_t)w * nc);
  if (cairo_surface_status(surface) || !line) {
    snprintf(err.msg, sizeof err.msg, "out of memory for %ux%u pixels", w, h);
    longjmp(err.jmp, 1);
  }
  unsigned char *base = cairo_image_surface_get_data(surface);
  int stride = cairo_image_surface_get_stride(surface);
  while (cinfo.output_scanline < h) {
    unsigned y = cinfo.output_scanline;
    JSAMPROW row = line;
    jpeg_read_scanlines(&cinfo, &row, 1);
    uint32_t *dst = (uint32_t *)(void *)(base + (size_t)y * (size_t)stride);
    for (unsigned x = 0; x < w; x++) {
      const unsigned char *s = line + (size_t)x * nc;
      unsigned r, g, b;
      if (cmyk) { /* Adobe writes inverted CMYK: the samples are 255-C etc. */
        r = (unsigned)s[0] * s[3] / 255;
        g = (unsigned)s[1] * s[3] / 255;
        b = (unsigned)s[2] * s[3] / 255;
      } else {
        r = s[0], g = s[1], b = s[2];
      }
      dst[x] = 0xff000000u | (r << 16) | (g << 8) | b;
    }
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  free(line);
  cairo_surface_mark_dirty(surface);
  return surface;
}

cairo_surface_t *folio_painter_image(struct folio_painter *p, const struct folio_asset *a,
                                     struct folio_render_diag *diag) {
  size_t idx = (size_t)(a - p->doc->assets);
  if (idx < p->doc->n_assets && p->images[idx]) return p->images[idx];
  cairo_surface_t *s = NULL;
  char msg[JMSG_LENGTH_MAX + 32] = "";
  if (a->type == FOLIO_ASSET_PNG) {
    struct mem_reader r = {a->data, a->size};
    s = cairo_image_surface_create_from_png_stream(read_mem, &r);
    if (cairo_surface_status(s)) {
      snprintf(msg, sizeof msg, "%s", cairo_status_to_string(cairo_surface_status(s)));
      cairo_surface_destroy(s);
      s = NULL;
    }
  } else if (a->type == FOLIO_ASSET_JPEG) {
    s = decode_jpeg(a, msg, sizeof msg);
    if (s && p->for_pdf)
      cairo_surface_set_mime_data(s, CAIRO_MIME_TYPE_JPEG, a->data, a->size, NULL, NULL);
  } else {
    snprintf(msg, sizeof msg, "unknown asset type %d", (int)a->type);
  }
  if (!s) {
    folio_render_fail(diag, FOLIO_RENDER_E_IMAGE, 0, NULL, "asset \"%s\": cannot decode: %s",
                      a->name ? a->name : "?", msg);
    return NULL;
  }
  if (idx < p->doc->n_assets) p->images[idx] = s;
  return s;
}

cairo_surface_t *folio_image_place(struct folio_painter *p, size_t page, const struct folio_item *it,
                                   struct folio_image_placement *pl, struct folio_render_diag *diag) {
  cairo_surface_t *img = folio_painter_image(p, it->u.image.asset, diag);
  if (!img) {
    char msg[sizeof diag->message];
    snprintf(msg, sizeof msg, "%s", diag->message);
    folio_render_fail(diag, FOLIO_RENDER_E_IMAGE, page, it, "%s", msg);
    return NULL;
  }
  double iw = cairo_image_surface_get_width(img), ih = cairo_image_surface_get_height(img);
  double sx = 1, sy = 1; /* none: one pixel per point */
  switch (it->u.image.fit) {
  case FOLIO_FIT_FILL: sx = it->w / iw, sy = it->h / ih; break;
  case FOLIO_FIT_CONTAIN: sx = sy = fmin(it->w / iw, it->h / ih); break;
  case FOLIO_FIT_COVER: sx = sy = fmax(it->w / iw, it->h / ih); break;
  case FOLIO_FIT_NONE: break;
  }
  *pl = (struct folio_image_placement){sx, sy, (it->w - iw * sx) / 2, (it->h - ih * sy) / 2};
  return img;
}
