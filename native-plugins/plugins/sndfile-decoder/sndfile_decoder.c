/*
 * sndfile-decoder — the built-in Decoder for PCM containers, FLAC, Ogg Vorbis, Opus and MP3.
 *
 * libsndfile reads through its "virtual I/O" callbacks, which this plugin maps onto the stream
 * table of the open args (stream.h), so local files (host stream) and plugin streams take the same
 * path. The extension table is built at load time from libsndfile's own format list: a library
 * built without MPEG or Opus support does not claim mp3/opus, so the host falls through to another
 * decoder.
 *
 * What libsndfile needs from a stream.  It seeks while parsing headers (and back to the start
 * after probing), and asks for the total length. A stream without seek (a live radio stream) is
 * refused with ST_ERR_UNSUPPORTED so the host can try another decoder; a stream without a known
 * size but with seek is measured with seek(0, END).
 *
 * Errors.  A stream error (timeout, network) during a read is remembered and passed on from
 * read_f32, as decoder.h asks. A corrupt file fails open with ST_ERR_DECODE; libsndfile errors
 * during decoding end the track with ST_ERR_DECODE; a file whose format states an exact length
 * (lossless formats) and ends before it (a truncated FLAC) also ends with ST_ERR_DECODE once the
 * decodable part has been delivered. A truncated WAV is the exception: libsndfile clamps its data
 * length to the file at open, so it plays to its real end like in any other player.
 *
 * Seeking is exact to the frame. libsndfile 1.2's own Ogg Vorbis seek is not (it can land a block
 * or the end-trim amount away from the frame it reports, upstream issue #885), so Vorbis seeks take
 * a path that is: see sfd_seek_vorbis. After a stream error the next seek reopens the media, so a
 * transient network failure does not leave a codec (libFLAC, notably) stuck in its error state.
 *
 * Probe.  sfd_probe scores the signatures of what this build of libsndfile reads (decoder.h,
 * "Choosing by content"): 100 for PCM containers and FLAC, 80 for Ogg Vorbis/Opus, 70 for MP3 (as
 * the extension table), 0 for the rest, so the AAC or ALAC of an M4A or CAF goes elsewhere.
 *
 * Realtime.  read_f32 does no allocation or locking of its own; libsndfile's decoders work in
 * buffers set up at open.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <sndfile.h>

#include "st_sdk.h"

#define SFD_TYPE_ID "sndfile"
#define SFD_NO_SEEK                                                                              \
  "sndfile: the stream cannot seek (a live stream?); libsndfile needs a seekable stream"

/* ---- Small helpers ------------------------------------------------------------------------- */

/* Tags come from Vorbis comments (UTF-8), ID3 (converted by mpg123) or RIFF INFO chunks (often
 * Latin-1). JSON must be UTF-8, so anything that is not valid UTF-8 is read as Latin-1. */
static bool sfd_is_utf8(const unsigned char *s) {
  while (*s != 0) {
    unsigned c = *s;
    int more;
    if (c < 0x80) {
      more = 0;
    } else if (c >= 0xC2 && c <= 0xDF) {
      more = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      more = 2;
    } else if (c >= 0xF0 && c <= 0xF4) {
      more = 3;
    } else {
      return false;
    }
    s++;
    for (int i = 0; i < more; i++, s++) {
      if ((*s & 0xC0) != 0x80) {
        return false;
      }
    }
  }
  return true;
}

static char *sfd_latin1_to_utf8(const char *s) {
  size_t n = strlen(s);
  char *out = malloc(n * 2 + 1);
  if (out == NULL) {
    return NULL;
  }
  char *o = out;
  for (const unsigned char *p = (const unsigned char *)s; *p != 0; p++) {
    if (*p < 0x80) {
      *o++ = (char)*p;
    } else {
      *o++ = (char)(0xC0 | (*p >> 6));
      *o++ = (char)(0x80 | (*p & 0x3F));
    }
  }
  *o = 0;
  return out;
}

static void sfd_add_tag(cJSON *tags, const char *key, const char *value) {
  if (value == NULL || value[0] == '\0') {
    return;
  }
  if (sfd_is_utf8((const unsigned char *)value)) {
    cJSON_AddStringToObject(tags, key, value);
    return;
  }
  char *converted = sfd_latin1_to_utf8(value);
  if (converted != NULL) {
    cJSON_AddStringToObject(tags, key, converted);
    free(converted);
  }
}

/* ---- The extension table, built from libsndfile's format list at load time ----------------- */

#define SFD_MAX_EXTS 24
static st_ext_score_t g_exts[SFD_MAX_EXTS];
static uint32_t g_ext_count;
static char g_metadata[1024];

/* Whether libsndfile lists `format` among its major formats or subtypes (the SFC_GET_FORMAT_*
 * commands of one of the two lists, and the mask of the bits that list sets). */
static bool sfd_lists_format(int count_cmd, int get_cmd, int mask, int format) {
  int count = 0;
  sf_command(NULL, count_cmd, &count, sizeof count);
  for (int i = 0; i < count; i++) {
    SF_FORMAT_INFO info = {.format = i};
    if (sf_command(NULL, get_cmd, &info, sizeof info) == 0 && (info.format & mask) == format) {
      return true;
    }
  }
  return false;
}

static bool sfd_has_major(int major) {
  return sfd_lists_format(SFC_GET_FORMAT_MAJOR_COUNT, SFC_GET_FORMAT_MAJOR, SF_FORMAT_TYPEMASK,
                          major);
}

static bool sfd_has_subtype(int subtype) {
  return sfd_lists_format(SFC_GET_FORMAT_SUBTYPE_COUNT, SFC_GET_FORMAT_SUBTYPE, SF_FORMAT_SUBMASK,
                          subtype);
}

static void sfd_claim(const char *ext, uint16_t score) {
  if (g_ext_count < SFD_MAX_EXTS) {
    g_exts[g_ext_count++] = (st_ext_score_t){.ext = ext, .score = score};
  }
}

/* Scores: 100 where libsndfile is the reference reader of the container (PCM containers, FLAC
 * through libFLAC); 80 for Ogg Vorbis/Opus (libvorbis/libopus, exact seeking); 70 for MP3
 * (mpg123, gapless with a LAME/Xing header) so a dedicated MP3 decoder may take precedence. */
static void sfd_build_ext_table(void) {
  g_ext_count = 0;
  if (sfd_has_major(SF_FORMAT_WAV)) {
    sfd_claim("wav", 100);
    sfd_claim("wave", 100);
  }
  if (sfd_has_major(SF_FORMAT_AIFF)) {
    sfd_claim("aiff", 100);
    sfd_claim("aif", 100);
    sfd_claim("aifc", 100);
  }
  if (sfd_has_major(SF_FORMAT_FLAC)) {
    sfd_claim("flac", 100);
  }
  if (sfd_has_major(SF_FORMAT_OGG)) {
    if (sfd_has_subtype(SF_FORMAT_VORBIS)) {
      sfd_claim("ogg", 80);
      sfd_claim("oga", 80);
    }
    if (sfd_has_subtype(SF_FORMAT_OPUS)) {
      sfd_claim("opus", 80);
    }
  }
  if (sfd_has_major(SF_FORMAT_MPEG)) {
    if (sfd_has_subtype(SF_FORMAT_MPEG_LAYER_III)) {
      sfd_claim("mp3", 70);
    }
    if (sfd_has_subtype(SF_FORMAT_MPEG_LAYER_II)) {
      sfd_claim("mp2", 70);
    }
  }
  if (sfd_has_major(SF_FORMAT_W64)) {
    sfd_claim("w64", 100);
  }
  if (sfd_has_major(SF_FORMAT_RF64)) {
    sfd_claim("rf64", 100);
  }
  if (sfd_has_major(SF_FORMAT_CAF)) {
    sfd_claim("caf", 90); /* CAF may hold AAC, which libsndfile cannot read: open then fails */
  }
  if (sfd_has_major(SF_FORMAT_AU)) {
    sfd_claim("au", 100);
    sfd_claim("snd", 100);
  }
}

/* ---- Probe: signatures of the formats this build of libsndfile reads ---------------------- */

static bool sfd_claims(const char *ext) {
  for (uint32_t i = 0; i < g_ext_count; i++) {
    if (strcmp(g_exts[i].ext, ext) == 0) {
      return true;
    }
  }
  return false;
}

/* An MPEG audio frame header (layer I-III, not the reserved values ADTS AAC uses) at p, and its
 * length in bytes (0 when unknown). */
static bool sfd_mpeg_frame(const unsigned char *p, size_t *out_len) {
  if (p[0] != 0xFF || (p[1] & 0xE0) != 0xE0) {
    return false;
  }
  unsigned version = (p[1] >> 3) & 3, layer = (p[1] >> 1) & 3;
  unsigned bitrate = p[2] >> 4, rate = (p[2] >> 2) & 3, pad = (p[2] >> 1) & 1;
  if (version == 1 || layer == 0 || bitrate == 0 || bitrate == 15 || rate == 3) {
    return false;
  }
  static const unsigned short k_l3_v1[16] = {0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192,
                                             224, 256, 320, 0};
  static const unsigned k_rates[4] = {44100, 48000, 32000, 0};
  *out_len = 0;
  if (layer == 1 && version == 3) { /* MPEG-1 layer III: the common case, length known */
    *out_len = 144000u * k_l3_v1[bitrate] / k_rates[rate] + pad;
  }
  return true;
}

/* 100 for the PCM containers and FLAC, 80 for Ogg Vorbis/Opus, 70 for MP3 (as the extension
 * table); 0 for anything else, e.g. the AAC or ALAC of an M4A or a CAF. */
static uint32_t sfd_probe(void *handle, const st_decoder_probe_args_t *args) {
  (void)handle;
  if (args == NULL || args->struct_size < sizeof(st_decoder_probe_args_t) || args->head == NULL) {
    return 0;
  }
  const unsigned char *p = args->head;
  size_t n = args->head_len;
  size_t id3 = 0;
  if (n >= 10 && memcmp(p, "ID3", 3) == 0 && p[3] < 5) {
    /* An ID3v2 tag (in front of MP3, sometimes of FLAC): look behind it. */
    id3 = 10 + ((size_t)(p[6] & 0x7F) << 21 | (size_t)(p[7] & 0x7F) << 14 |
                (size_t)(p[8] & 0x7F) << 7 | (size_t)(p[9] & 0x7F)) +
          ((p[5] & 0x10) ? 10 : 0);
    if (id3 + 4 > n) {
      return sfd_claims("mp3") ? 30 : 0; /* a large tag, most likely in front of MP3 */
    }
    p += id3;
    n -= id3;
  }
  if (n >= 4 && memcmp(p, "fLaC", 4) == 0) {
    return sfd_claims("flac") ? 100 : 0;
  }
  if (id3 == 0 && n >= 12) {
    if ((memcmp(p, "RIFF", 4) == 0 || memcmp(p, "RIFX", 4) == 0) && memcmp(p + 8, "WAVE", 4) == 0) {
      return sfd_claims("wav") ? 100 : 0;
    }
    if ((memcmp(p, "RF64", 4) == 0 || memcmp(p, "BW64", 4) == 0) && memcmp(p + 8, "WAVE", 4) == 0) {
      return sfd_claims("rf64") ? 100 : 0;
    }
    if (memcmp(p, "riff", 4) == 0 && n >= 16 && p[4] == 0x2E && p[5] == 0x91 && p[6] == 0xCF) {
      return sfd_claims("w64") ? 100 : 0;
    }
    if (memcmp(p, "FORM", 4) == 0 && (memcmp(p + 8, "AIFF", 4) == 0 || memcmp(p + 8, "AIFC", 4) == 0)) {
      return sfd_claims("aiff") ? 100 : 0;
    }
    if (memcmp(p, ".snd", 4) == 0) {
      return sfd_claims("au") ? 100 : 0;
    }
    if (memcmp(p, "caff", 4) == 0 && n >= 32 && memcmp(p + 8, "desc", 4) == 0) {
      /* libsndfile reads PCM, A-law and µ-law CAF; not the AAC or ALAC in it. (The format ID
       * follows the desc chunk header and its 8-byte sample rate.) */
      bool pcm = memcmp(p + 28, "lpcm", 4) == 0 || memcmp(p + 28, "ulaw", 4) == 0 ||
                 memcmp(p + 28, "alaw", 4) == 0;
      return pcm && sfd_claims("caf") ? 100 : 0;
    }
    if (memcmp(p, "OggS", 4) == 0 && n >= 28 + 8) {
      /* The first page holds the codec's identification header. */
      size_t body = 27 + (size_t)p[26];
      if (body + 8 <= n) {
        if (memcmp(p + body, "\x01vorbis", 7) == 0) {
          return sfd_claims("ogg") ? 80 : 0;
        }
        if (memcmp(p + body, "OpusHead", 8) == 0) {
          return sfd_claims("opus") ? 80 : 0;
        }
      }
      return 0;
    }
  }
  size_t len = 0;
  if (n >= 4 && sfd_mpeg_frame(p, &len) && sfd_claims("mp3")) {
    /* A frame sync alone is weak evidence; a second frame where the first says it ends is not. */
    if (len > 0 && len + 4 <= n) {
      return sfd_mpeg_frame(p + len, &len) ? 70 : 0;
    }
    return id3 > 0 ? 70 : 30;
  }
  return 0;
}

/* ---- The decoder instance ------------------------------------------------------------------ */

typedef struct sfd_decoder {
  st_stream_t stream;     /* borrowed from the host until destroy or the next open */
  uint64_t stream_size;   /* bytes; what libsndfile's get_filelen sees */
  uint64_t stream_pos;    /* our view of the stream position */
  st_status_t io_status;  /* the first stream error of the current read or seek, sticky */
  SNDFILE *sf;            /* NULL until open succeeds */
  SF_INFO info;
  uint64_t position;      /* the frame read_f32 delivers next */
  bool exact_length;      /* info.frames is a promise (lossless formats) */
  bool has_duration;
  bool stream_failed;     /* a stream error reached the codec: the next seek reopens */
  bool vorbis;            /* Ogg Vorbis: seeks go through sfd_seek_vorbis */
  uint64_t vorbis_last_page_frame; /* the first frame of the last Ogg page */
  float *scratch;         /* decode-and-discard buffer for Vorbis seeks, SFD_SCRATCH_FRAMES */
} sfd_decoder_t;

#define SFD_SCRATCH_FRAMES 1024u

static sf_count_t sfd_vio_get_filelen(void *user) {
  const sfd_decoder_t *d = user;
  return (sf_count_t)d->stream_size;
}

static sf_count_t sfd_vio_seek(sf_count_t offset, int whence, void *user) {
  sfd_decoder_t *d = user;
  st_seek_whence_t w = whence == SEEK_CUR ? ST_SEEK_CUR : whence == SEEK_END ? ST_SEEK_END
                                                                             : ST_SEEK_SET;
  uint64_t pos = 0;
  st_status_t st = d->stream.io->seek(d->stream.handle, (int64_t)offset, w, &pos);
  if (st != ST_OK) {
    /* libsndfile probes positions on its own; only a transport failure is worth keeping. */
    if (st != ST_ERR_UNSUPPORTED && st != ST_ERR_INVALID_ARG && d->io_status == ST_OK) {
      d->io_status = st;
    }
    return -1;
  }
  d->stream_pos = pos;
  return (sf_count_t)pos;
}

/* libsndfile treats a short read from a virtual stream as the end of the data, while a stream
 * may return fewer bytes than asked at any time (stream.h); so fill the request in a loop. */
static sf_count_t sfd_vio_read(void *ptr, sf_count_t count, void *user) {
  sfd_decoder_t *d = user;
  if (count <= 0) {
    return 0;
  }
  size_t want = (size_t)count;
  size_t got = 0;
  while (got < want) {
    size_t n = 0;
    st_status_t st = d->stream.io->read(d->stream.handle, (char *)ptr + got, want - got, &n);
    if (st != ST_OK) {
      if (d->io_status == ST_OK) {
        d->io_status = st;
      }
      break;
    }
    if (n == 0) {
      break;
    }
    got += n > want - got ? want - got : n;
  }
  d->stream_pos += got;
  return (sf_count_t)got;
}

static sf_count_t sfd_vio_write(const void *ptr, sf_count_t count, void *user) {
  (void)ptr;
  (void)count;
  (void)user;
  return 0; /* read-only */
}

static sf_count_t sfd_vio_tell(void *user) {
  const sfd_decoder_t *d = user;
  return (sf_count_t)d->stream_pos;
}

static SF_VIRTUAL_IO g_vio = {
    .get_filelen = sfd_vio_get_filelen,
    .seek = sfd_vio_seek,
    .read = sfd_vio_read,
    .write = sfd_vio_write,
    .tell = sfd_vio_tell,
};

static void sfd_close_file(sfd_decoder_t *d) {
  if (d->sf != NULL) {
    sf_close(d->sf);
    d->sf = NULL;
  }
  memset(&d->info, 0, sizeof d->info);
  d->position = 0;
  d->has_duration = false;
  d->exact_length = false;
  d->stream_failed = false;
  d->vorbis = false;
  d->vorbis_last_page_frame = 0;
  free(d->scratch);
  d->scratch = NULL;
}

static bool sfd_is_lossless(int format) {
  switch (format & SF_FORMAT_SUBMASK) {
  case SF_FORMAT_PCM_S8:
  case SF_FORMAT_PCM_U8:
  case SF_FORMAT_PCM_16:
  case SF_FORMAT_PCM_24:
  case SF_FORMAT_PCM_32:
  case SF_FORMAT_FLOAT:
  case SF_FORMAT_DOUBLE:
  case SF_FORMAT_ALAC_16:
  case SF_FORMAT_ALAC_20:
  case SF_FORMAT_ALAC_24:
  case SF_FORMAT_ALAC_32:
    return true;
  default:
    return false;
  }
}

/* Bits per sample of the stored data; 0 for lossy codecs, where it has no meaning. */
static int sfd_bits_per_sample(int format) {
  switch (format & SF_FORMAT_SUBMASK) {
  case SF_FORMAT_PCM_S8:
  case SF_FORMAT_PCM_U8:
  case SF_FORMAT_ULAW:
  case SF_FORMAT_ALAW:
    return 8;
  case SF_FORMAT_PCM_16:
  case SF_FORMAT_ALAC_16:
    return 16;
  case SF_FORMAT_ALAC_20:
    return 20;
  case SF_FORMAT_PCM_24:
  case SF_FORMAT_ALAC_24:
    return 24;
  case SF_FORMAT_PCM_32:
  case SF_FORMAT_FLOAT:
  case SF_FORMAT_ALAC_32:
    return 32;
  case SF_FORMAT_DOUBLE:
    return 64;
  default:
    return 0;
  }
}

static const char *sfd_codec_name(int format) {
  int major = format & SF_FORMAT_TYPEMASK;
  int sub = format & SF_FORMAT_SUBMASK;
  if (major == SF_FORMAT_FLAC) {
    return "flac";
  }
  switch (sub) {
  case SF_FORMAT_VORBIS:
    return "vorbis";
  case SF_FORMAT_OPUS:
    return "opus";
  case SF_FORMAT_MPEG_LAYER_I:
    return "mp1";
  case SF_FORMAT_MPEG_LAYER_II:
    return "mp2";
  case SF_FORMAT_MPEG_LAYER_III:
    return "mp3";
  case SF_FORMAT_ALAC_16:
  case SF_FORMAT_ALAC_20:
  case SF_FORMAT_ALAC_24:
  case SF_FORMAT_ALAC_32:
    return "alac";
  case SF_FORMAT_PCM_S8:
  case SF_FORMAT_PCM_U8:
  case SF_FORMAT_PCM_16:
  case SF_FORMAT_PCM_24:
  case SF_FORMAT_PCM_32:
    return "pcm";
  case SF_FORMAT_FLOAT:
    return "pcm_f32";
  case SF_FORMAT_DOUBLE:
    return "pcm_f64";
  case SF_FORMAT_ULAW:
    return "ulaw";
  case SF_FORMAT_ALAW:
    return "alaw";
  case SF_FORMAT_IMA_ADPCM:
    return "ima_adpcm";
  case SF_FORMAT_MS_ADPCM:
    return "ms_adpcm";
  case SF_FORMAT_GSM610:
    return "gsm610";
  default:
    return "other";
  }
}

static const char *sfd_container_name(int format) {
  switch (format & SF_FORMAT_TYPEMASK) {
  case SF_FORMAT_WAV:
  case SF_FORMAT_WAVEX:
    return "wav";
  case SF_FORMAT_AIFF:
    return "aiff";
  case SF_FORMAT_FLAC:
    return "flac";
  case SF_FORMAT_OGG:
    return "ogg";
  case SF_FORMAT_MPEG:
    return "mpeg";
  case SF_FORMAT_W64:
    return "w64";
  case SF_FORMAT_RF64:
    return "rf64";
  case SF_FORMAT_CAF:
    return "caf";
  case SF_FORMAT_AU:
    return "au";
  default:
    return "other";
  }
}


/* ---- Ogg Vorbis seeking --------------------------------------------------------------------- *
 * libsndfile 1.2.0 reports the requested frame after a Vorbis seek but, depending on where it
 * seeks from and to, delivers audio from a slightly different frame: near seeks can be a block
 * off, and seeks into the last Ogg page are off by the page's end trim (its granule position is
 * smaller than the samples its packets decode to). Measured here: 5-35% of random seeks wrong.
 * What is reliable is a seek made right after a rewind to a frame before the last page, and
 * decoding forward. So a Vorbis seek rewinds, seeks to min(target, last page - 1) and decodes
 * the remainder (at most one page) into a scratch buffer. The last page's first frame comes from
 * the granule positions of the last two pages, read from the stream's tail at open. */

static uint64_t sfd_le64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) {
    v = (v << 8) | p[i];
  }
  return v;
}

/* Reads `len` bytes at `offset` of the stream; false on any failure or short read. */
static bool sfd_read_at(sfd_decoder_t *d, uint64_t offset, unsigned char *buf, size_t len) {
  uint64_t pos = 0;
  if (d->stream.io->seek(d->stream.handle, (int64_t)offset, ST_SEEK_SET, &pos) != ST_OK ||
      pos != offset) {
    return false;
  }
  size_t got = 0;
  while (got < len) {
    size_t n = 0;
    if (d->stream.io->read(d->stream.handle, buf + got, len - got, &n) != ST_OK || n == 0) {
      return false;
    }
    got += n;
  }
  return true;
}

/* Finds, in `buf`, a run of well-formed Ogg pages ending exactly at the end of the buffer and
 * returns the granule positions of its last page and of the latest earlier page that has one. */
static bool sfd_ogg_tail_granules(const unsigned char *buf, size_t n, bool at_file_start,
                                  int64_t *out_prev, int64_t *out_last) {
  for (size_t j = 0; j + 27 <= n; j++) {
    if (memcmp(buf + j, "OggS", 4) != 0 || buf[j + 4] != 0) {
      continue;
    }
    int64_t prev = -1, last = -1;
    size_t k = j;
    while (k + 27 <= n && memcmp(buf + k, "OggS", 4) == 0 && buf[k + 4] == 0) {
      size_t segs = buf[k + 26];
      if (k + 27 + segs > n) {
        break;
      }
      size_t body = 0;
      for (size_t s = 0; s < segs; s++) {
        body += buf[k + 27 + s];
      }
      if (k + 27 + segs + body > n) {
        break;
      }
      int64_t gp = (int64_t)sfd_le64(buf + k + 6);
      if (last != -1) {
        prev = last;
      }
      last = gp; /* -1: no packet ends on this page */
      k += 27 + segs + body;
    }
    if (k == n && last >= 0) {
      if (prev < 0 && j == 0 && at_file_start) {
        prev = 0;
      }
      if (prev >= 0 && prev <= last) {
        *out_prev = prev;
        *out_last = last;
        return true;
      }
    }
    /* Not a chain to the end from here: try the next capture pattern. */
  }
  return false;
}

/* Sets vorbis_last_page_frame; 0 (every seek decodes from the start) if the tail is not
 * understood. Restores the stream position libsndfile expects. */
static void sfd_find_vorbis_last_page(sfd_decoder_t *d) {
  uint64_t saved = d->stream_pos;
  d->vorbis_last_page_frame = 0;
  static const size_t windows[] = {64u << 10, 512u << 10, 4u << 20};
  for (size_t w = 0; w < sizeof windows / sizeof windows[0]; w++) {
    size_t len = windows[w];
    if (len > d->stream_size) {
      len = (size_t)d->stream_size;
    }
    unsigned char *buf = malloc(len > 0 ? len : 1);
    if (buf == NULL) {
      break;
    }
    int64_t prev = 0, last = 0;
    bool found = sfd_read_at(d, d->stream_size - len, buf, len) &&
                 sfd_ogg_tail_granules(buf, len, len == d->stream_size, &prev, &last);
    free(buf);
    if (found) {
      uint64_t page = (uint64_t)(last - prev);
      uint64_t frames = (uint64_t)d->info.frames;
      d->vorbis_last_page_frame = page < frames ? frames - page : 0;
      break;
    }
    if (len == d->stream_size) {
      break;
    }
  }
  uint64_t pos = 0;
  d->stream.io->seek(d->stream.handle, (int64_t)saved, ST_SEEK_SET, &pos);
  d->stream_pos = saved;
}

static sf_count_t sfd_seek_vorbis(sfd_decoder_t *d, uint64_t target) {
  if (sf_seek(d->sf, 0, SEEK_SET) != 0) {
    return -1;
  }
  uint64_t coarse = target;
  if (coarse >= d->vorbis_last_page_frame) {
    coarse = d->vorbis_last_page_frame > 0 ? d->vorbis_last_page_frame - 1 : 0;
  }
  uint64_t pos = 0;
  if (coarse > 0) {
    sf_count_t r = sf_seek(d->sf, (sf_count_t)coarse, SEEK_SET);
    if (r < 0) {
      return -1;
    }
    pos = (uint64_t)r;
  }
  while (pos < target) {
    uint64_t left = target - pos;
    sf_count_t want = (sf_count_t)(left < SFD_SCRATCH_FRAMES ? left : SFD_SCRATCH_FRAMES);
    sf_count_t got = sf_readf_float(d->sf, d->scratch, want);
    if (got <= 0) {
      break; /* the end came first: resume there */
    }
    pos += (uint64_t)got;
  }
  return (sf_count_t)pos;
}

/* After a stream error libsndfile's codec may be stuck (libFLAC stays in its error state), so
 * the next seek starts over with a fresh handle on the same stream. */
static st_status_t sfd_reopen(sfd_decoder_t *d) {
  sf_close(d->sf);
  d->sf = NULL;
  d->io_status = ST_OK;
  uint64_t pos = 0;
  st_status_t st = d->stream.io->seek(d->stream.handle, 0, ST_SEEK_SET, &pos);
  if (st != ST_OK) {
    return st;
  }
  d->stream_pos = 0;
  SF_INFO info;
  memset(&info, 0, sizeof info);
  SNDFILE *sf = sf_open_virtual(&g_vio, SFM_READ, &info, d);
  if (sf == NULL) {
    return d->io_status != ST_OK ? d->io_status : ST_ERR_DECODE;
  }
  if (info.format != d->info.format || info.channels != d->info.channels ||
      info.samplerate != d->info.samplerate) {
    sf_close(sf);
    return ST_ERR_DECODE; /* the stream changed under us */
  }
  d->sf = sf;
  d->position = 0;
  d->stream_failed = false;
  return ST_OK;
}

static st_status_t sfd_open(void *handle, const st_decoder_open_args_t *args, st_str_t *out_error) {
  sfd_decoder_t *d = handle;
  if (args == NULL || args->struct_size < offsetof(st_decoder_open_args_t, stream) +
                                               sizeof(st_stream_t) ||
      args->stream.io == NULL || args->stream.io->read == NULL) {
    return st_sdk_error(out_error, ST_ERR_INVALID_ARG, "sndfile: open needs a readable stream");
  }
  sfd_close_file(d);
  d->stream = args->stream;
  d->io_status = ST_OK;

  const st_io_vtable_t *io = d->stream.io;
  if (io->seek == NULL) {
    return st_sdk_error(out_error, ST_ERR_UNSUPPORTED, SFD_NO_SEEK);
  }
  uint64_t pos = 0;
  st_status_t st = io->seek(d->stream.handle, 0, ST_SEEK_SET, &pos);
  if (st == ST_ERR_UNSUPPORTED) {
    return st_sdk_error(out_error, ST_ERR_UNSUPPORTED, SFD_NO_SEEK);
  }
  if (st != ST_OK) {
    return st_sdk_error(out_error, st, "sndfile: cannot rewind the stream");
  }
  d->stream_pos = 0;

  uint64_t size = 0;
  st = io->size != NULL ? io->size(d->stream.handle, &size) : ST_ERR_UNSUPPORTED;
  if (st == ST_ERR_UNSUPPORTED) {
    /* Unknown length but seekable: measure it. */
    st = io->seek(d->stream.handle, 0, ST_SEEK_END, &size);
    if (st == ST_OK) {
      st = io->seek(d->stream.handle, 0, ST_SEEK_SET, &pos);
    }
    if (st == ST_ERR_UNSUPPORTED) {
      return st_sdk_error(out_error, ST_ERR_UNSUPPORTED,
                          "sndfile: the stream has no known length (a live stream?); libsndfile "
                          "needs a sized, seekable stream");
    }
  }
  if (st != ST_OK) {
    return st_sdk_error(out_error, st, "sndfile: cannot determine the stream length");
  }
  if (size > (uint64_t)INT64_MAX) {
    return st_sdk_error(out_error, ST_ERR_UNSUPPORTED, "sndfile: the stream is too large");
  }
  d->stream_size = size;

  SF_INFO info;
  memset(&info, 0, sizeof info);
  SNDFILE *sf = sf_open_virtual(&g_vio, SFM_READ, &info, d);
  if (sf == NULL) {
    if (d->io_status != ST_OK) {
      return st_sdk_error(out_error, d->io_status, "sndfile: reading the stream failed");
    }
    const char *why = sf_strerror(NULL);
    if (why != NULL && why[0] != '\0') {
      return st_sdk_error(out_error, ST_ERR_DECODE, "sndfile: cannot open the media: %s", why);
    }
    return st_sdk_error(out_error, ST_ERR_DECODE, "sndfile: cannot open the media");
  }
  if (info.channels <= 0 || info.channels > UINT16_MAX || info.samplerate <= 0) {
    sf_close(sf);
    return st_sdk_error(out_error, ST_ERR_DECODE, "sndfile: the media declares an invalid format");
  }
  d->sf = sf;
  d->info = info;
  d->position = 0;
  d->has_duration = info.frames > 0 && info.frames != SF_COUNT_MAX;
  d->exact_length = d->has_duration && sfd_is_lossless(info.format);
  if ((info.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_OGG &&
      (info.format & SF_FORMAT_SUBMASK) == SF_FORMAT_VORBIS && info.seekable) {
    d->scratch = malloc(sizeof(float) * SFD_SCRATCH_FRAMES * (size_t)info.channels);
    if (d->scratch == NULL) {
      sfd_close_file(d);
      return st_sdk_error(out_error, ST_ERR_INTERNAL, "sndfile: out of memory");
    }
    d->vorbis = true;
    if (d->has_duration) {
      sfd_find_vorbis_last_page(d);
    }
  }
  return ST_OK;
}

static st_status_t sfd_get_info(void *handle, st_decoder_info_t *out_info) {
  const sfd_decoder_t *d = handle;
  if (out_info == NULL || out_info->struct_size == 0) {
    return ST_ERR_INVALID_ARG;
  }
  if (d->sf == NULL) {
    return ST_ERR_STATE;
  }
  st_decoder_info_t info;
  memset(&info, 0, sizeof info);
  info.struct_size = out_info->struct_size;
  if (d->info.seekable) {
    info.flags |= ST_DECODER_SEEKABLE;
  }
  if (d->has_duration) {
    info.flags |= ST_DECODER_HAS_DURATION;
    info.duration_frames = (uint64_t)d->info.frames;
  }
  if (sfd_is_lossless(d->info.format)) {
    info.flags |= ST_DECODER_LOSSLESS;
  }
  info.spec.sample_rate = (uint32_t)d->info.samplerate;
  info.spec.channels = (uint16_t)d->info.channels;
  /* libsndfile removes Opus pre-skip and (with a LAME header) MP3 delay/padding itself but does
   * not report the amounts, so the informational fields stay 0. */
  size_t n = out_info->struct_size < sizeof info ? out_info->struct_size : sizeof info;
  memcpy(out_info, &info, n);
  return ST_OK;
}

static st_status_t sfd_get_metadata_json(void *handle, st_str_t *out_json) {
  sfd_decoder_t *d = handle;
  if (out_json == NULL) {
    return ST_ERR_INVALID_ARG;
  }
  out_json->ptr = NULL;
  out_json->len = 0;
  if (d->sf == NULL) {
    return ST_ERR_STATE;
  }
  cJSON *doc = cJSON_CreateObject();
  if (doc == NULL) {
    return ST_ERR_INTERNAL;
  }
  int format = d->info.format;
  cJSON_AddStringToObject(doc, "codec", sfd_codec_name(format));
  cJSON_AddStringToObject(doc, "container", sfd_container_name(format));
  int bits = sfd_bits_per_sample(format);
  if (bits > 0) {
    cJSON_AddNumberToObject(doc, "bits_per_sample", bits);
  }
  cJSON_AddNumberToObject(doc, "sample_rate", d->info.samplerate);
  cJSON_AddNumberToObject(doc, "channels", d->info.channels);

  double seconds = d->has_duration ? (double)d->info.frames / d->info.samplerate : 0.0;
  int sub = format & SF_FORMAT_SUBMASK;
  bool raw_pcm = bits > 0 && (format & SF_FORMAT_TYPEMASK) != SF_FORMAT_FLAC &&
                 !(sub >= SF_FORMAT_ALAC_16 && sub <= SF_FORMAT_ALAC_32);
  if (raw_pcm) {
    double kbps = (double)d->info.samplerate * d->info.channels * bits / 1000.0;
    cJSON_AddNumberToObject(doc, "bitrate_kbps", (double)(long long)(kbps + 0.5));
  } else if (seconds > 0.5 && d->stream_size > 0) {
    /* Average over the whole stream, container overhead and cover art included. */
    double kbps = (double)d->stream_size * 8.0 / seconds / 1000.0;
    cJSON_AddNumberToObject(doc, "bitrate_kbps", (double)(long long)(kbps + 0.5));
  }
  int mode = sf_command(d->sf, SFC_GET_BITRATE_MODE, NULL, 0);
  if (mode == SF_BITRATE_MODE_CONSTANT || mode == SF_BITRATE_MODE_AVERAGE ||
      mode == SF_BITRATE_MODE_VARIABLE) {
    cJSON_AddStringToObject(doc, "bitrate_mode",
                            mode == SF_BITRATE_MODE_CONSTANT  ? "constant"
                            : mode == SF_BITRATE_MODE_AVERAGE ? "average"
                                                              : "variable");
  }
  int original_rate = 0;
  if (sf_command(d->sf, SFC_GET_ORIGINAL_SAMPLERATE, &original_rate, sizeof original_rate) ==
          SF_TRUE &&
      original_rate > 0 && original_rate != d->info.samplerate) {
    cJSON_AddNumberToObject(doc, "original_sample_rate", original_rate);
  }

  cJSON *tags = cJSON_AddObjectToObject(doc, "tags");
  if (tags != NULL) {
    static const struct {
      int id;
      const char *key;
    } map[] = {
        {SF_STR_TITLE, "title"},     {SF_STR_ARTIST, "artist"},     {SF_STR_ALBUM, "album"},
        {SF_STR_TRACKNUMBER, "track"}, {SF_STR_DATE, "date"},       {SF_STR_GENRE, "genre"},
        {SF_STR_COMMENT, "comment"}, {SF_STR_COPYRIGHT, "copyright"},
        {SF_STR_LICENSE, "license"}, {SF_STR_SOFTWARE, "encoder"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
      sfd_add_tag(tags, map[i].key, sf_get_string(d->sf, map[i].id));
    }
  }
  /* Copied out of cJSON's memory: its allocator hooks are process-wide (st_sdk.h). */
  st_status_t st = st_sdk_str_copy_foreign(out_json, cJSON_PrintUnformatted(doc), cJSON_free);
  cJSON_Delete(doc);
  return st;
}

static st_status_t sfd_read_f32(void *handle, float *out, uint32_t frames, uint32_t *out_frames) {
  sfd_decoder_t *d = handle;
  if (out_frames == NULL) {
    return ST_ERR_INVALID_ARG;
  }
  *out_frames = 0;
  if (d->sf == NULL) {
    return ST_ERR_STATE;
  }
  if (d->io_status != ST_OK) {
    d->stream_failed = true;
    return d->io_status;
  }
  if (frames == 0) {
    return ST_OK;
  }
  if (out == NULL) {
    return ST_ERR_INVALID_ARG;
  }
  sf_count_t n = sf_readf_float(d->sf, out, (sf_count_t)frames);
  if (n < 0) {
    n = 0;
  }
  d->position += (uint64_t)n;
  *out_frames = (uint32_t)n;
  if (n == 0) {
    /* Nothing more: say why if it is not a clean end. (Frames decoded before a failure were
     * delivered by the earlier call; the error comes with this one.) */
    if (d->io_status != ST_OK) {
      d->stream_failed = true;
      return d->io_status;
    }
    if (sf_error(d->sf) != SF_ERR_NO_ERROR) {
      return ST_ERR_DECODE;
    }
    if (d->exact_length && d->position < (uint64_t)d->info.frames) {
      return ST_ERR_DECODE; /* truncated or corrupt: the format promised more frames */
    }
  }
  return ST_OK;
}

static st_status_t sfd_seek_ms(void *handle, uint64_t position_ms, uint64_t *out_position_frames) {
  sfd_decoder_t *d = handle;
  if (d->sf == NULL) {
    return ST_ERR_STATE;
  }
  if (!d->info.seekable) {
    return ST_ERR_UNSUPPORTED;
  }
  uint64_t rate = (uint64_t)d->info.samplerate;
  uint64_t target;
  if (position_ms > (UINT64_MAX - 500) / rate) {
    target = UINT64_MAX;
  } else {
    target = (position_ms * rate + 500) / 1000; /* nearest frame */
  }
  if (d->has_duration && target > (uint64_t)d->info.frames) {
    target = (uint64_t)d->info.frames;
  }
  if (target > (uint64_t)INT64_MAX) {
    return ST_ERR_INVALID_ARG;
  }
  if (d->stream_failed || d->io_status != ST_OK) {
    /* A seek is a fresh attempt after a transient stream error. */
    st_status_t st = sfd_reopen(d);
    if (st != ST_OK) {
      return st;
    }
  }
  sf_count_t r = d->vorbis ? sfd_seek_vorbis(d, target)
                           : sf_seek(d->sf, (sf_count_t)target, SEEK_SET);
  if (r < 0) {
    if (d->io_status != ST_OK) {
      d->stream_failed = true;
      return d->io_status;
    }
    return ST_ERR_DECODE;
  }
  d->position = (uint64_t)r;
  if (out_position_frames != NULL) {
    *out_position_frames = (uint64_t)r;
  }
  return ST_OK;
}

/* ---- Config: there is nothing to configure, so every update applies trivially ------------ */

static const st_config_vtable_t g_config_vtable = ST_SDK_CONFIG_VTABLE_NOTHING;

static void sfd_destroy(void *handle) {
  sfd_decoder_t *d = handle;
  if (d != NULL) {
    sfd_close_file(d);
    free(d);
  }
}

static const st_decoder_vtable_t g_decoder_vtable = {
    .base = {sizeof(st_decoder_vtable_t), ST_CAP_DECODER, &g_config_vtable, sfd_destroy},
    .open = sfd_open,
    .get_info = sfd_get_info,
    .get_metadata_json = sfd_get_metadata_json,
    .read_f32 = sfd_read_f32,
    .seek_ms = sfd_seek_ms,
    .probe = sfd_probe,
};

/* ---- The module ---------------------------------------------------------------------------- */

/* Its decoder_ext_count is the table's capacity until entry sets the number claimed. */
static st_capability_t g_decoder_cap = ST_SDK_DECODER_CAPABILITY(
    SFD_TYPE_ID, "libsndfile (WAV, AIFF, FLAC, Ogg Vorbis, Opus, MP3)",
    "{\"type\":\"object\",\"title\":\"libsndfile decoder\","
    "\"properties\":{},\"additionalProperties\":false}",
    "{}", g_exts);

static const st_capability_t *const g_caps[] = {&g_decoder_cap};

static st_status_t sfd_create_instance(const st_instance_args_t *args, st_instance_t *out_instance,
                                       st_str_t *out_error) {
  if (args == NULL || out_instance == NULL) {
    return ST_ERR_INVALID_ARG;
  }
  if (args->kind != ST_CAP_DECODER || !st_sdk_str_eq(&args->type_id, SFD_TYPE_ID)) {
    return st_sdk_error(out_error, ST_ERR_UNSUPPORTED, "sndfile: unknown capability");
  }
  if (!st_sdk_config_is_object(&args->config_json)) {
    return st_sdk_error(out_error, ST_ERR_INVALID_ARG, "sndfile: the config must be a JSON object");
  }
  sfd_decoder_t *d = calloc(1, sizeof *d);
  if (d == NULL) {
    return ST_ERR_INTERNAL;
  }
  out_instance->handle = d;
  out_instance->vtable = &g_decoder_vtable.base;
  return ST_OK;
}

/* Runs inside stellatune_plugin_entry: the extensions and the version come from libsndfile. */
static bool sfd_entry(const st_host_t *host) {
  (void)host;
  sfd_build_ext_table();
  g_decoder_cap.decoder_ext_count = g_ext_count;
  snprintf(g_metadata, sizeof g_metadata,
           "{\"id\":\"dev.stellatune.sndfile\",\"name\":\"libsndfile decoder\","
           "\"version\":\"1.0.0\",\"abi_version\":%u,"
           "\"description\":\"Decodes WAV, AIFF, FLAC, Ogg Vorbis, Opus and MP3 with %s\","
           "\"author\":\"StellaTune\",\"homepage\":\"https://libsndfile.github.io/libsndfile/\"}",
           ST_PLUGIN_API_VERSION, sf_version_string());
  return true;
}

/* No threads, no global resources: the SDK's shutdown has nothing to join. */
ST_SDK_PLUGIN_EX(g_metadata, g_caps, sfd_create_instance, sfd_entry, NULL)
