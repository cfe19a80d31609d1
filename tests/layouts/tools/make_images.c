/* Writes the small test images embedded (base64) in the layout corpus:
 *   make_images OUTDIR
 * gives OUTDIR/{logo.png, photo.jpg, photo-progressive.jpg, gray.png,
 * interlaced.png}. Run by make_corpus.py; the output is committed inside the
 * corpus JSON files, never as separate binaries.
 * Build: cc -O2 make_images.c -lpng -ljpeg -o make_images */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <png.h>

static void write_png(const char *path, int w, int h, int gray, int interlace) {
  FILE *f = fopen(path, "wb");
  png_structp p = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop i = png_create_info_struct(p);
  if (setjmp(png_jmpbuf(p))) exit(1);
  png_init_io(p, f);
  png_set_IHDR(p, i, w, h, 8, gray ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGBA,
               interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(p, i);
  int ch = gray ? 1 : 4;
  unsigned char *row = malloc((size_t)w * ch);
  int passes = png_set_interlace_handling(p);
  for (int pass = 0; pass < passes; pass++)
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        unsigned char *px = row + x * ch;
        if (gray) {
          px[0] = (unsigned char)((x * 255) / (w - 1));
        } else { /* a blue disc on transparent */
          int dx = 2 * x - w + 1, dy = 2 * y - h + 1;
          int in = dx * dx + dy * dy <= (w - 2) * (w - 2);
          px[0] = 0x1a, px[1] = 0x73, px[2] = 0xe8, px[3] = in ? 255 : 0;
        }
      }
      png_write_row(p, row);
    }
  png_write_end(p, NULL);
  png_destroy_write_struct(&p, &i);
  free(row);
  fclose(f);
}

static void write_jpeg(const char *path, int w, int h, int progressive) {
  struct jpeg_compress_struct c;
  struct jpeg_error_mgr e;
  c.err = jpeg_std_error(&e);
  jpeg_create_compress(&c);
  FILE *f = fopen(path, "wb");
  jpeg_stdio_dest(&c, f);
  c.image_width = w, c.image_height = h, c.input_components = 3, c.in_color_space = JCS_RGB;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, 60, TRUE);
  if (progressive) jpeg_simple_progression(&c);
  jpeg_start_compress(&c, TRUE);
  unsigned char *row = malloc((size_t)w * 3);
  while (c.next_scanline < c.image_height) {
    int y = (int)c.next_scanline;
    for (int x = 0; x < w; x++) {
      row[3 * x] = (unsigned char)(x * 255 / w);
      row[3 * x + 1] = (unsigned char)(y * 255 / h);
      row[3 * x + 2] = 128;
    }
    JSAMPROW r = row;
    jpeg_write_scanlines(&c, &r, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  free(row);
  fclose(f);
}

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  char p[4096];
  snprintf(p, sizeof p, "%s/logo.png", argv[1]);
  write_png(p, 16, 16, 0, 0);
  snprintf(p, sizeof p, "%s/gray.png", argv[1]);
  write_png(p, 8, 4, 1, 0);
  snprintf(p, sizeof p, "%s/interlaced.png", argv[1]);
  write_png(p, 12, 9, 0, 1);
  snprintf(p, sizeof p, "%s/photo.jpg", argv[1]);
  write_jpeg(p, 24, 16, 0);
  snprintf(p, sizeof p, "%s/photo-progressive.jpg", argv[1]);
  write_jpeg(p, 20, 20, 1);
  return 0;
}
