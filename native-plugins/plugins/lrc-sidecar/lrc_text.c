/* lrc_text.c — decoding and parsing of .lrc sidecar files (see lrc_text.h). */
#include "lrc_text.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- Decoding ------------------------------------------------------------------------------- */

/* Windows-1252 code points of bytes 0x80..0x9F (0 = undefined, kept as U+FFFD). */
static const uint16_t k_cp1252[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

static size_t put_utf8(char *out, uint32_t cp) {
  if (cp < 0x80) {
    out[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (char)(0xC0 | (cp >> 6));
    out[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (char)(0xE0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = (char)(0xF0 | (cp >> 18));
  out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  out[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

/* Length of the valid UTF-8 sequence at p (0 if invalid). */
static size_t utf8_seq(const unsigned char *p, size_t left) {
  unsigned char c = p[0];
  size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
  if (n == 0 || n > left) return 0;
  for (size_t i = 1; i < n; i++)
    if ((p[i] & 0xC0) != 0x80) return 0;
  if (n == 2 && c < 0xC2) return 0;                      /* overlong */
  if (n == 3 && c == 0xE0 && p[1] < 0xA0) return 0;      /* overlong */
  if (n == 3 && c == 0xED && p[1] >= 0xA0) return 0;     /* surrogate */
  if (n == 4 && (c > 0xF4 || (c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] >= 0x90))) return 0;
  return n;
}

static bool valid_utf8(const unsigned char *p, size_t len) {
  for (size_t i = 0; i < len;) {
    size_t n = utf8_seq(p + i, len - i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

/* Appends a code point, turning CR and CRLF into LF and dropping NULs. */
static void emit(char *out, size_t *len, uint32_t cp, uint32_t *prev) {
  if (cp == 0 || (cp == '\n' && *prev == '\r')) {
    *prev = cp;
    return;
  }
  *prev = cp;
  *len += put_utf8(out + *len, cp == '\r' ? '\n' : cp);
}

char *lrc_text_decode(const unsigned char *data, size_t len, size_t *out_len) {
  bool le = len >= 2 && data[0] == 0xFF && data[1] == 0xFE;
  bool be = len >= 2 && data[0] == 0xFE && data[1] == 0xFF;
  /* UTF-16 units become at most 3 bytes each (pairs 4 for 2 units); Windows-1252 bytes at most 3. */
  char *out = malloc(len * 3 + 1);
  if (out == NULL) return NULL;
  size_t n = 0;
  uint32_t prev = 0;
  if (le || be) {
    for (size_t i = 2; i + 1 < len; i += 2) {
      uint32_t u = le ? (uint32_t)(data[i] | data[i + 1] << 8) : (uint32_t)(data[i] << 8 | data[i + 1]);
      if (u >= 0xD800 && u < 0xDC00 && i + 3 < len) {
        uint32_t lo = le ? (uint32_t)(data[i + 2] | data[i + 3] << 8)
                         : (uint32_t)(data[i + 2] << 8 | data[i + 3]);
        if (lo >= 0xDC00 && lo < 0xE000) {
          u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
          i += 2;
        } else {
          u = 0xFFFD;
        }
      } else if (u >= 0xD800 && u < 0xE000) {
        u = 0xFFFD;
      }
      emit(out, &n, u, &prev);
    }
  } else {
    size_t start = len >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF ? 3 : 0;
    if (valid_utf8(data + start, len - start)) {
      for (size_t i = start; i < len; i++) {
        unsigned char c = data[i];
        if (c == 0 || (c == '\n' && prev == '\r')) {
          prev = c;
          continue;
        }
        prev = c;
        out[n++] = c == '\r' ? '\n' : (char)c;
      }
    } else {
      for (size_t i = start; i < len; i++) {
        uint32_t cp = data[i];
        if (cp >= 0x80 && cp < 0xA0) cp = k_cp1252[cp - 0x80] != 0 ? k_cp1252[cp - 0x80] : 0xFFFD;
        emit(out, &n, cp, &prev);
      }
    }
  }
  out[n] = '\0';
  if (out_len != NULL) *out_len = n;
  return out;
}

/* ---- Parsing -------------------------------------------------------------------------------- */

/* If `p` starts with a time tag [m:ss], [mm:ss.x…] or [mm:ss:xx], returns its length, else 0. */
static size_t time_tag(const char *p) {
  if (p[0] != '[') return 0;
  size_t i = 1, digits = 0;
  while (isdigit((unsigned char)p[i])) i++, digits++;
  if (digits == 0 || digits > 3 || p[i] != ':') return 0;
  i++;
  if (!isdigit((unsigned char)p[i]) || !isdigit((unsigned char)p[i + 1])) return 0;
  i += 2;
  if (p[i] == '.' || p[i] == ':') {
    i++;
    digits = 0;
    while (isdigit((unsigned char)p[i])) i++, digits++;
    if (digits == 0 || digits > 3) return 0;
  }
  return p[i] == ']' ? i + 1 : 0;
}

/* If `p` starts with an ID tag [key:value], returns its length and the key/value spans. */
static size_t id_tag(const char *p, const char **key, size_t *key_len, const char **value,
                     size_t *value_len) {
  if (p[0] != '[' || !isalpha((unsigned char)p[1])) return 0;
  size_t i = 1;
  while (isalpha((unsigned char)p[i])) i++;
  if (p[i] != ':') return 0;
  *key = p + 1;
  *key_len = i - 1;
  size_t v = ++i;
  while (p[i] != ']' && p[i] != '\n' && p[i] != '\0') i++;
  if (p[i] != ']') return 0;
  while (v < i && p[v] == ' ') v++;
  *value = p + v;
  *value_len = i - v;
  while (*value_len > 0 && (*value)[*value_len - 1] == ' ') (*value_len)--;
  return i + 1;
}

static char *dup_span(const char *p, size_t len) {
  char *s = malloc(len + 1);
  if (s == NULL) return NULL;
  memcpy(s, p, len);
  s[len] = '\0';
  return s;
}

static bool key_is(const char *key, size_t len, const char *name) {
  return len == strlen(name) && strncasecmp(key, name, len) == 0;
}

/* Copies lyric text without enhanced-LRC word timings (<mm:ss.xx>); returns the bytes written. */
static size_t copy_text(char *out, const char *p, size_t len) {
  size_t n = 0;
  for (size_t i = 0; i < len; i++) {
    if (p[i] == '<') {
      size_t j = i + 1;
      while (j < len && (isdigit((unsigned char)p[j]) || p[j] == ':' || p[j] == '.')) j++;
      if (j < len && p[j] == '>' && j > i + 1) {
        i = j;
        continue;
      }
    }
    out[n++] = p[i];
  }
  return n;
}

bool lrc_parse(const char *text, lrc_doc_t *out) {
  memset(out, 0, sizeof *out);
  out->length_ms = -1;
  size_t len = strlen(text);
  out->plain = malloc(len + 2); /* every line keeps or gains one '\n', plus the NUL */
  if (out->plain == NULL) return false;
  size_t plain_len = 0;
  size_t lyric_lines = 0;
  bool said_instrumental = false;

  for (const char *line = text; *line != '\0';) {
    const char *end = strchr(line, '\n');
    size_t line_len = end != NULL ? (size_t)(end - line) : strlen(line);
    const char *p = line;
    bool timed = false, tagged = false;
    for (;;) {
      while (*p == ' ' || *p == '\t') p++;
      size_t n = time_tag(p);
      if (n > 0) {
        timed = true;
        p += n;
        continue;
      }
      const char *key, *value;
      size_t key_len, value_len;
      n = id_tag(p, &key, &key_len, &value, &value_len);
      if (n == 0 || timed) break; /* ID tags stand alone; after a time tag "[" is lyric text */
      tagged = true;
      char **slot = key_is(key, key_len, "ti") ? &out->title
                    : key_is(key, key_len, "ar") ? &out->artist
                    : key_is(key, key_len, "al") ? &out->album
                                                 : NULL;
      if (slot != NULL && *slot == NULL && value_len > 0) *slot = dup_span(value, value_len);
      if (key_is(key, key_len, "length")) {
        int m = 0, s = 0;
        if (sscanf(value, "%d:%d", &m, &s) == 2) out->length_ms = (m * 60L + s) * 1000L;
      }
      p += n;
    }
    out->synced |= timed;
    size_t rest = line_len - (size_t)(p - line);
    while (rest > 0 && (p[rest - 1] == ' ' || p[rest - 1] == '\t')) rest--;
    /* Metadata-only lines and bare time tags (instrumental gaps) carry no lyric text. */
    if (!(tagged && rest == 0) && !(timed && rest == 0)) {
      size_t n = copy_text(out->plain + plain_len, p, rest);
      if (n > 0) {
        lyric_lines++;
        char probe[32];
        size_t pn = n < sizeof probe - 1 ? n : sizeof probe - 1;
        memcpy(probe, out->plain + plain_len, pn);
        probe[pn] = '\0';
        said_instrumental |= strcasecmp(probe, "instrumental") == 0 ||
                             strcasecmp(probe, "[instrumental]") == 0 ||
                             strcasecmp(probe, "(instrumental)") == 0;
      }
      plain_len += n;
      out->plain[plain_len++] = '\n';
    }
    line = end != NULL ? end + 1 : line + line_len;
  }
  /* Trim blank lines at both ends. */
  while (plain_len > 0 && out->plain[plain_len - 1] == '\n') plain_len--;
  size_t lead = 0;
  while (lead < plain_len && out->plain[lead] == '\n') lead++;
  memmove(out->plain, out->plain + lead, plain_len - lead);
  plain_len -= lead;
  if (plain_len > 0) out->plain[plain_len++] = '\n';
  out->plain[plain_len] = '\0';
  out->instrumental = said_instrumental && lyric_lines == 1;
  return true;
}

void lrc_doc_free(lrc_doc_t *doc) {
  free(doc->plain);
  free(doc->title);
  free(doc->artist);
  free(doc->album);
  memset(doc, 0, sizeof *doc);
}
