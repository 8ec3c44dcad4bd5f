/* lrc_text.h — turning the bytes of a .lrc file into the text lyrics.h returns.
 *
 * Sidecar files come from many tools: UTF-8 with or without a BOM, UTF-16 from Windows tools,
 * legacy Windows-1252, CRLF line ends. lrc_text_decode normalises all of them to UTF-8 with LF;
 * lrc_parse then tells synced from plain lyrics and pulls out the ID tags. */
#ifndef LRC_TEXT_H
#define LRC_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Returns a malloc'ed NUL-terminated UTF-8 copy of `data` (BOM removed, CRLF/CR -> LF, NULs
 * dropped; UTF-16 with a BOM is transcoded; invalid UTF-8 is read as Windows-1252), or NULL when
 * out of memory. */
char *lrc_text_decode(const unsigned char *data, size_t len, size_t *out_len);

typedef struct lrc_doc {
  bool synced;       /* at least one line has a [mm:ss.xx] time tag */
  bool instrumental; /* the only lyric text says "instrumental" */
  char *plain;       /* the lyric lines without any tags (malloc'ed) */
  char *title;       /* [ti:], [ar:], [al:] or NULL (malloc'ed) */
  char *artist;
  char *album;
  long length_ms;    /* [length: mm:ss], or -1 */
} lrc_doc_t;

/* Parses decoded text; false when out of memory. Free with lrc_doc_free. */
bool lrc_parse(const char *text, lrc_doc_t *out);
void lrc_doc_free(lrc_doc_t *doc);

#endif /* LRC_TEXT_H */
