/* folio-server's log writer: completion-queue threads must never wait on
 * stderr (a slow pipe, a full disk), and one write(2) per line costs more
 * than the rest of a small call on a virtual machine. Lines are appended to
 * a bounded in-memory buffer and a writer thread writes them out in batches.
 * When the buffer is full a line is dropped and counted, never waited for;
 * the count is logged once the writer catches up.
 *
 * One process-wide writer. Thread-safe. Before start and after stop, lines
 * are written directly (folio_log_end). */
#ifndef FOLIO_SERVER_LOGWRITER_H
#define FOLIO_SERVER_LOGWRITER_H

#include <stddef.h>

#include "folio/log.h"

/* Starts the writer thread for fd with a buffer of cap bytes. 0 or -1. */
int srv_logwriter_start(int fd, size_t cap);
/* Ends the line and queues it (or writes it directly when the writer is not
 * running). l is finished either way. */
void srv_logwriter_end(struct folio_logline *l);
/* Writes everything queued, stops the thread. Idempotent. */
void srv_logwriter_stop(void);

#endif
