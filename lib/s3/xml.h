/* A minimal XML reader for S3 replies (private to lib/s3).
 *
 * S3 answers with small, flat documents: <Error><Code/><Message/></Error>,
 * <InitiateMultipartUploadResult><UploadId/>, <CompleteMultipartUploadResult>
 * <ETag/>, <ListMultipartUploadsResult><Upload>... This reader checks that the
 * whole input is well-formed (balanced tags, quoted attributes, known
 * entities, nothing after the root) and extracts, for each requested element
 * name, the decoded text of its first occurrence and how often it occurs.
 * Namespace prefixes are ignored (<s3:Code> matches "Code"); attributes are
 * skipped; CDATA sections, comments, processing instructions and a DOCTYPE-free
 * prolog are understood. It never allocates. */
#ifndef FOLIO_S3_XML_H
#define FOLIO_S3_XML_H

#include <stddef.h>

#define FOLIO_S3_XML_MAX_FIELDS 16

struct folio_s3_xml_field {
  const char *name; /* in: element local name, e.g. "Code" */
  char *out;        /* in: buffer for the first occurrence's text (NULL: count only) */
  size_t cap;       /* in: size of out; longer text is cut to cap-1 bytes */
  int count;        /* out: occurrences (0: absent, out is then "") */
};

/* Parses xml[0..len). Returns 0, or -1 for malformed input with a message
 * naming the byte offset and the problem in err (always NUL-terminated when
 * errcap > 0). Fields are filled as far as the document was read. At most
 * FOLIO_S3_XML_MAX_FIELDS fields. */
int folio_s3_xml_parse(const char *xml, size_t len, struct folio_s3_xml_field *fields,
                       size_t nfields, char *err, size_t errcap);

#endif
