/*
 * ffmpeg-decoder — the built-in Decoder for the formats libsndfile does not read: M4A/MP4 (AAC,
 * ALAC), CAF, WMA, APE, WavPack, TTA, DSF/DFF, Musepack, MKA/WebM, and AC3/E-AC3/DTS, on top of
 * libavformat and libavcodec (libswresample only converts the decoder's sample format to
 * interleaved float32: no resampling, no remixing).
 *
 * Reading.  libavformat reads through a custom AVIOContext whose read/seek callbacks are the
 * stream table of the open args (stream.h), never a path, so a Subsonic stream and a local file
 * take the same path. Nested opens (a playlist demuxer, an MP4 data reference) are refused by an
 * io_open that fails, and only the demuxers in k_demuxers may open the media, so a hostile file
 * cannot make libavformat touch anything but the given stream.
 *
 * Scores.  For what libsndfile decodes exactly (WAV, AIFF, FLAC, ...) this decoder claims the
 * extension and scores the content lower than sndfile-decoder does, which stays the default there;
 * for the other formats it is the reference reader. The probe uses libavformat's own probe over
 * the bytes the host read (decoder.h, "Choosing by content").
 *
 * Gapless.  Encoder delay and padding come from the container: MP4 edit lists and iTunSMPB, the
 * LAME header of MP3, Matroska/Ogg pre-skip. libavformat turns them into skip-samples side data
 * that libavcodec applies while decoding; an iTunSMPB without an edit list (iTunes' own files) is
 * applied here. What was trimmed is reported in the decoder info. The first output sample is
 * frame 0 of the track, whatever the timestamps of the container say (`origin`).
 *
 * Seeking.  Exact to the frame: seek to the keyframe before the target (minus a pre-roll for
 * lossy codecs, whose first frame after a jump lacks the previous frame's overlap), then decode
 * and discard up to the target. Containers whose timestamps are coarser than a sample (Matroska
 * and ASF count milliseconds) land on a frame whose start is snapped to the frame grid. A demuxer
 * whose seek fails or overshoots falls back to decoding from the start.
 *
 * Errors.  A corrupt packet is skipped (as players do) and remembered; a run of them, a truncated
 * lossless file or a demuxer error ends the track after what was decodable, with ST_ERR_DECODE.
 * A stream error (timeout, network) is passed on from read_f32 as decoder.h asks.
 *
 * Realtime.  read_f32 does no allocation of its own once the output buffer has grown to the
 * largest frame; libavformat and libavcodec allocate packet and frame buffers from their pools.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avstring.h>
#include <libavutil/base64.h>
#include <libavutil/channel_layout.h>
#include <libavutil/dict.h>
#include <libavutil/mathematics.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>

#include "st_sdk.h"

#define FFD_TYPE_ID "ffmpeg"
#define FFD_IO_BUFFER 32768
/* Consecutive undecodable packets after which the rest of the file is taken as garbage. */
#define FFD_MAX_BAD_PACKETS 64
/* Packets read without a decoded frame after which the track ends (a demuxer spinning on junk). */
#define FFD_MAX_IDLE_PACKETS 20000
/* Frames decoded and discarded before a seek target for codecs whose frames overlap. */
#define FFD_LOSSY_PREROLL_FRAMES 8192
/* Covers larger than this are left out of the metadata JSON. */
#define FFD_MAX_COVER_BYTES (8u << 20)

/* The demuxers allowed to open media (libavformat names; one name of a multi-name demuxer is
 * enough). */
static const char k_demuxers[] = "mov,matroska,asf,ape,wv,tta,dsf,iff,mpc,mpc8,ac3,eac3,dts,"
                                 "dtshd,aac,caf,flac,wav,w64,aiff,mp3,ogg,au,truehd,mlp,wsd,"
                                 "loas,tak,shorten,mpegts";
/* Of those, what libsndfile reads exactly (or is the default for): scored below sndfile. */
static const char k_sndfile_formats[] = "flac,wav,w64,aiff,ogg,au,mp3";

/* ---- The extension table -------------------------------------------------------------------- */

/* 100: the reference reader here; 60 for CAF (libsndfile reads its PCM, this decoder its ALAC and
 * AAC: the probe tells them apart); 40 below sndfile-decoder (70..100) for its formats; "*" as a
 * last resort for an unknown extension (a probe still has to accept the content first). */
static const st_ext_score_t k_exts[] = {
    {"m4a", 100, 0, 0}, {"m4b", 100, 0, 0}, {"mp4", 90, 0, 0},  {"alac", 100, 0, 0},
    {"caf", 60, 0, 0},  {"wma", 100, 0, 0}, {"asf", 80, 0, 0},  {"ape", 100, 0, 0},
    {"wv", 100, 0, 0},  {"tta", 100, 0, 0}, {"dsf", 100, 0, 0}, {"dff", 100, 0, 0},
    {"mpc", 100, 0, 0}, {"mp+", 100, 0, 0}, {"mka", 100, 0, 0}, {"webm", 100, 0, 0},
    {"mkv", 60, 0, 0},  {"ac3", 100, 0, 0}, {"eac3", 100, 0, 0}, {"ec3", 100, 0, 0},
    {"dts", 100, 0, 0}, {"aac", 100, 0, 0}, {"tak", 100, 0, 0}, {"shn", 100, 0, 0},
    {"flac", 40, 0, 0}, {"wav", 40, 0, 0},  {"aiff", 40, 0, 0}, {"aif", 40, 0, 0},
    {"ogg", 40, 0, 0},  {"oga", 40, 0, 0},  {"opus", 40, 0, 0}, {"mp3", 40, 0, 0},
    {"w64", 40, 0, 0},  {"*", 1, 0, 0},
};

static char g_metadata[1024];

/* ---- The decoder instance ------------------------------------------------------------------ */

typedef struct ffd_decoder {
  st_stream_t stream;    /* borrowed from the host until destroy or the next open */
  st_status_t io_status; /* the first stream error since the last open or seek, sticky */
  AVIOContext *avio;
  AVFormatContext *fmt;
  AVCodecContext *cc;
  AVStream *st;
  int index;
  SwrContext *swr;
  enum AVSampleFormat swr_in_format;
  AVPacket *pkt;
  AVFrame *frame;

  /* Converted samples of the current frame not yet delivered. */
  float *pend;
  uint32_t pend_cap; /* frames */
  uint32_t pend_off, pend_len;

  uint32_t rate;
  uint32_t channels;
  uint64_t position;    /* the track frame read_f32 delivers next */
  int64_t next_frame;   /* the track frame the next decoded frame starts at (running count) */
  int64_t origin;       /* stream timestamp (samples) of track frame 0 */
  int64_t origin_raw;   /* stream timestamp (samples) of the first decoded sample */
  bool coarse_ts;       /* the container's time base is coarser than a sample */
  bool draining;        /* the demuxer is done; the codec is being flushed */
  bool ended;           /* nothing more to decode */
  bool had_errors;      /* packets were skipped as corrupt */
  bool demux_error;     /* the demuxer stopped on an error, not at the end */
  bool lossless;
  bool has_duration;
  bool exact_duration;  /* the container states the sample count (lossless, edit list, ...) */
  uint64_t duration;    /* track frames, with has_duration */
  uint64_t trim_end;    /* with exact_duration: nothing is delivered at or after this frame */
  uint32_t delay;       /* encoder delay removed from the output */
  uint32_t padding;     /* encoder padding removed from the output */
  uint64_t preroll;     /* frames decoded before a seek target */
  int bad_packets;      /* consecutive */
  int64_t first_pkt_ts; /* timestamp of the first packet (AV_NOPTS_VALUE until one is read) */
  bool seek_by_decoding; /* the demuxer's seek is unreliable: seeks decode from the start */
} ffd_decoder_t;

/* ---- AVIO over the stream table ------------------------------------------------------------ */

static int ffd_avio_read(void *opaque, uint8_t *buf, int size) {
  ffd_decoder_t *d = opaque;
  if (d->io_status != ST_OK) {
    return AVERROR(EIO);
  }
  size_t n = 0;
  st_status_t st = d->stream.io->read(d->stream.handle, buf, (size_t)size, &n);
  if (st != ST_OK) {
    d->io_status = st;
    return AVERROR(EIO);
  }
  if (n == 0) {
    return AVERROR_EOF;
  }
  return (int)(n > (size_t)size ? (size_t)size : n);
}

static int64_t ffd_avio_seek(void *opaque, int64_t offset, int whence) {
  ffd_decoder_t *d = opaque;
  const st_io_vtable_t *io = d->stream.io;
  if (whence & AVSEEK_SIZE) {
    uint64_t size = 0;
    if (io->size != NULL && io->size(d->stream.handle, &size) == ST_OK && size <= INT64_MAX) {
      return (int64_t)size;
    }
    return -1;
  }
  whence &= ~AVSEEK_FORCE;
  st_seek_whence_t w = whence == SEEK_CUR ? ST_SEEK_CUR : whence == SEEK_END ? ST_SEEK_END
                                                                             : ST_SEEK_SET;
  uint64_t pos = 0;
  st_status_t st = io->seek(d->stream.handle, offset, w, &pos);
  if (st != ST_OK) {
    /* Demuxers probe positions on their own; only a transport failure is worth keeping. */
    if (st != ST_ERR_UNSUPPORTED && st != ST_ERR_INVALID_ARG && d->io_status == ST_OK) {
      d->io_status = st;
    }
    return AVERROR(EIO);
  }
  return (int64_t)pos;
}

/* Nested resources (HLS segments, MP4 data references, concat lists) are never opened. */
static int ffd_refuse_io_open(struct AVFormatContext *s, AVIOContext **pb, const char *url,
                              int flags, AVDictionary **options) {
  (void)s;
  (void)pb;
  (void)url;
  (void)flags;
  (void)options;
  return AVERROR(EPERM);
}

/* ---- Helpers ----------------------------------------------------------------------------- */

static bool ffd_in_list(const char *names, const char *list) {
  return names != NULL && av_match_list(names, list, ',') > 0;
}

static void ffd_close_media(ffd_decoder_t *d) {
  if (d->fmt != NULL) {
    avformat_close_input(&d->fmt);
  }
  if (d->avio != NULL) {
    av_freep(&d->avio->buffer);
    avio_context_free(&d->avio);
  }
  avcodec_free_context(&d->cc);
  swr_free(&d->swr);
  av_packet_free(&d->pkt);
  av_frame_free(&d->frame);
  free(d->pend);
  st_stream_t keep = d->stream;
  memset(d, 0, sizeof *d);
  d->stream = keep;
  d->index = -1;
}

/* A timestamp in the stream's time base as samples at the output rate. */
static int64_t ffd_ts_to_samples(const ffd_decoder_t *d, int64_t ts) {
  return av_rescale_q(ts, d->st->time_base, (AVRational){1, (int)d->rate});
}

/* Frames as a timestamp in the stream's time base (rounded down, for seeking before a target). */
static int64_t ffd_samples_to_ts(const ffd_decoder_t *d, int64_t samples) {
  return av_rescale_q_rnd(samples, (AVRational){1, (int)d->rate}, d->st->time_base,
                          AV_ROUND_DOWN | AV_ROUND_PASS_MINMAX);
}

static bool ffd_parse_itunsmpb(const char *v, uint32_t *delay, uint32_t *padding,
                               uint64_t *total) {
  unsigned a = 0, b = 0, c = 0;
  unsigned long long n = 0;
  if (v == NULL || sscanf(v, " %x %x %x %llx", &a, &b, &c, &n) != 4) {
    return false;
  }
  *delay = b;
  *padding = c;
  *total = n;
  return b > 0 || c > 0;
}

/* ---- Decoding ------------------------------------------------------------------------------ */

/* Converts d->frame into the pending buffer. */
static st_status_t ffd_convert(ffd_decoder_t *d) {
  AVFrame *f = d->frame;
  if (f->nb_samples <= 0) {
    d->pend_off = d->pend_len = 0;
    return ST_OK;
  }
  if ((uint32_t)f->ch_layout.nb_channels != d->channels || (uint32_t)f->sample_rate != d->rate) {
    return ST_ERR_DECODE; /* a mid-stream format change: the opened spec would lie */
  }
  if (d->swr == NULL || f->format != (int)d->swr_in_format) {
    swr_free(&d->swr);
    AVChannelLayout layout = {0};
    av_channel_layout_copy(&layout, &f->ch_layout);
    int r = swr_alloc_set_opts2(&d->swr, &layout, AV_SAMPLE_FMT_FLT, f->sample_rate, &layout,
                                f->format, f->sample_rate, 0, NULL);
    av_channel_layout_uninit(&layout);
    if (r < 0 || swr_init(d->swr) < 0) {
      swr_free(&d->swr);
      return ST_ERR_DECODE;
    }
    d->swr_in_format = f->format;
  }
  if ((uint32_t)f->nb_samples > d->pend_cap) {
    float *grown = realloc(d->pend, (size_t)f->nb_samples * d->channels * sizeof(float));
    if (grown == NULL) {
      return ST_ERR_INTERNAL;
    }
    d->pend = grown;
    d->pend_cap = (uint32_t)f->nb_samples;
  }
  uint8_t *out[1] = {(uint8_t *)d->pend};
  int n = swr_convert(d->swr, out, (int)d->pend_cap, (const uint8_t **)f->extended_data,
                      f->nb_samples);
  if (n < 0) {
    return ST_ERR_DECODE;
  }
  d->pend_off = 0;
  d->pend_len = (uint32_t)n;
  return ST_OK;
}

/* Decodes the next frame into d->frame. 1: a frame; 0: the end; <0: -status (stream error or
 * the file gave up). */
static int ffd_decode_frame(ffd_decoder_t *d) {
  int idle = 0;
  for (;;) {
    int r = avcodec_receive_frame(d->cc, d->frame);
    if (r == 0) {
      d->bad_packets = 0;
      return 1;
    }
    if (r == AVERROR_EOF) {
      return 0;
    }
    if (r != AVERROR(EAGAIN)) {
      d->had_errors = true;
      if (++d->bad_packets > FFD_MAX_BAD_PACKETS) {
        return -ST_ERR_DECODE;
      }
      continue;
    }
    if (d->draining) {
      return 0;
    }
    if (++idle > FFD_MAX_IDLE_PACKETS) {
      d->had_errors = true;
      return -ST_ERR_DECODE;
    }
    r = av_read_frame(d->fmt, d->pkt);
    if (r < 0) {
      if (d->io_status != ST_OK) {
        return -d->io_status;
      }
      /* EIO without a stream error is a demuxer looking for trailing tags on a stream that
       * cannot seek (WavPack, APE): the end, not damage. */
          if (r != AVERROR_EOF && r != AVERROR(EIO)) {
        d->demux_error = true;
      }
      d->draining = true;
      avcodec_send_packet(d->cc, NULL);
      continue;
    }
    if (d->pkt->stream_index != d->index) {
      av_packet_unref(d->pkt);
      continue;
    }
    if (d->first_pkt_ts == AV_NOPTS_VALUE) {
      d->first_pkt_ts = d->pkt->pts != AV_NOPTS_VALUE ? d->pkt->pts : d->pkt->dts;
      if (d->first_pkt_ts == AV_NOPTS_VALUE) {
        d->first_pkt_ts = INT64_MIN; /* read, but without a timestamp */
      }
    }
    r = avcodec_send_packet(d->cc, d->pkt);
    av_packet_unref(d->pkt);
    if (r < 0 && r != AVERROR(EAGAIN)) {
      d->had_errors = true;
      if (++d->bad_packets > FFD_MAX_BAD_PACKETS) {
        return -ST_ERR_DECODE;
      }
    }
  }
}

/* Where the decoded frame starts on the track's timeline (negative: before frame 0, encoder
 * delay): its timestamp when `use_ts` (after a seek), else the running count. */
static int64_t ffd_frame_start(ffd_decoder_t *d, bool use_ts) {
  int64_t ts = d->frame->best_effort_timestamp;
  if (!use_ts || ts == AV_NOPTS_VALUE) {
    return d->next_frame;
  }
  int64_t start = ffd_ts_to_samples(d, ts) - d->origin;
  if (d->coarse_ts && d->frame->nb_samples > 0) {
    /* Millisecond timestamps: the true start is on the grid of (equal) frame sizes. */
    int64_t n = d->frame->nb_samples;
    start = (start >= 0 ? start + n / 2 : start - n / 2) / n * n;
  }
  return start;
}

/* Places the converted frame that starts at track frame `begin`: drops what lies before
 * d->position and at or after trim_end. False when nothing of it is to be delivered. */
static bool ffd_place(ffd_decoder_t *d, int64_t begin) {
  int64_t end = begin + (int64_t)d->pend_len;
  d->next_frame = end;
  if (d->exact_duration && end > (int64_t)d->trim_end) {
    int64_t over = end - (int64_t)d->trim_end;
    if (over >= (int64_t)d->pend_len) {
      d->ended = true;
      d->pend_off = d->pend_len = 0;
      return false;
    }
    d->pend_len -= (uint32_t)over;
    end = (int64_t)d->trim_end;
  }
  int64_t pos = (int64_t)d->position;
  if (end <= pos) {
    d->pend_off = d->pend_len = 0;
    return false; /* entirely before the target: encoder delay, or a seek's decode-and-discard */
  }
  if (begin < pos) {
    d->pend_off = (uint32_t)(pos - begin);
  } else {
    d->pend_off = 0;
    /* begin > pos: a gap in the timestamps (a skipped corrupt packet); the audio resumes here. */
    d->position = (uint64_t)begin;
  }
  return true;
}

/* Produces the next batch of pending samples (ffd_place decides what of each frame counts).
 * Returns ST_OK with pend_len == 0 at the end. */
static st_status_t ffd_fill(ffd_decoder_t *d, bool use_ts) {
  for (;;) {
    if (d->ended) {
      d->pend_off = d->pend_len = 0;
      return ST_OK;
    }
    int r = ffd_decode_frame(d);
    if (r < 0) {
      d->ended = true;
      return (st_status_t)-r;
    }
    if (r == 0) {
      d->ended = true;
      d->pend_off = d->pend_len = 0;
      return ST_OK;
    }
    int64_t start = ffd_frame_start(d, use_ts);
    use_ts = false;
    st_status_t st = ffd_convert(d);
    if (st != ST_OK) {
      d->ended = true;
      return st;
    }
    if (ffd_place(d, start)) {
      return ST_OK;
    }
  }
}


/* ---- The LAME header of MP3 ------------------------------------------------------------------ */

typedef struct ffd_lame {
  bool found;
  uint32_t frames;  /* MPEG frames in the stream (Xing/Info) */
  uint32_t spf;     /* samples per frame */
  uint32_t delay;   /* encoder delay (LAME), without the decoder's 529 */
  uint32_t padding; /* encoder padding (LAME) */
} ffd_lame_t;

/* Reads `len` bytes at `offset` through the stream table; false on any failure. */
static bool ffd_read_at(ffd_decoder_t *d, uint64_t offset, uint8_t *buf, size_t len) {
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

/* libavformat applies the LAME header's delay and padding but does not expose them: read the
 * header of the first frame (after an ID3v2 tag) to report them. The stream is rewound after. */
static ffd_lame_t ffd_read_lame(ffd_decoder_t *d) {
  ffd_lame_t l = {0};
  uint8_t b[512];
  uint64_t at = 0;
  if (ffd_read_at(d, 0, b, 10) && memcmp(b, "ID3", 3) == 0) {
    at = 10 + ((uint64_t)(b[6] & 0x7F) << 21 | (uint64_t)(b[7] & 0x7F) << 14 |
               (uint64_t)(b[8] & 0x7F) << 7 | (uint64_t)(b[9] & 0x7F)) +
         ((b[5] & 0x10) ? 10 : 0);
  }
  if (ffd_read_at(d, at, b, sizeof b) && b[0] == 0xFF && (b[1] & 0xE0) == 0xE0) {
    unsigned version = (b[1] >> 3) & 3, layer = (b[1] >> 1) & 3, mono = (b[3] >> 6) == 3;
    if (layer == 1) { /* layer III */
      bool mpeg1 = version == 3;
      size_t side = mpeg1 ? (mono ? 17 : 32) : (mono ? 9 : 17);
      const uint8_t *x = b + 4 + side;
      if ((memcmp(x, "Xing", 4) == 0 || memcmp(x, "Info", 4) == 0) && (x[7] & 1)) {
        l.frames = (uint32_t)x[8] << 24 | (uint32_t)x[9] << 16 | (uint32_t)x[10] << 8 | x[11];
        l.spf = mpeg1 ? 1152 : 576;
        size_t off = 8 + 4; /* flags, frames */
        off += (x[7] & 2) ? 4 : 0;   /* bytes */
        off += (x[7] & 4) ? 100 : 0; /* TOC */
        off += (x[7] & 8) ? 4 : 0;   /* quality */
        const uint8_t *lame = x + off;
        if (lame + 24 <= b + sizeof b && (memcmp(lame, "LAME", 4) == 0 || memcmp(lame, "Lavc", 4) == 0 ||
                                          memcmp(lame, "Lavf", 4) == 0)) {
          l.delay = (uint32_t)lame[21] << 4 | lame[22] >> 4;
          l.padding = (uint32_t)(lame[22] & 0x0F) << 8 | lame[23];
          l.found = true;
        }
      }
    }
  }
  uint64_t pos = 0;
  d->stream.io->seek(d->stream.handle, 0, ST_SEEK_SET, &pos);
  return l;
}

/* ---- Open ----------------------------------------------------------------------------------- */

static st_status_t ffd_fail(ffd_decoder_t *d, st_str_t *out_error, st_status_t code,
                            const char *what, int averr) {
  st_status_t st = d->io_status != ST_OK ? d->io_status : code;
  char buf[AV_ERROR_MAX_STRING_SIZE] = "";
  if (averr < 0) {
    av_strerror(averr, buf, sizeof buf);
  }
  ffd_close_media(d);
  if (st != code) {
    return st_sdk_error(out_error, st, "ffmpeg: reading the stream failed (%s)", what);
  }
  return st_sdk_error(out_error, st, "ffmpeg: %s%s%s", what, buf[0] ? ": " : "", buf);
}

static int par_frame_size(const ffd_decoder_t *d) {
  return d->st->codecpar->frame_size > 0 ? d->st->codecpar->frame_size : d->cc->frame_size;
}

static void ffd_find_gapless(ffd_decoder_t *d) {
  AVCodecParameters *par = d->st->codecpar;
  /* What libavformat had libavcodec skip at the start (an edit list's discarded packets, skip
   * samples) shows as the first output sample's offset from the first packet's timestamp. */
  if (d->first_pkt_ts != AV_NOPTS_VALUE && d->first_pkt_ts != INT64_MIN &&
      d->origin > ffd_ts_to_samples(d, d->first_pkt_ts) && !d->coarse_ts) {
    d->delay = (uint32_t)(d->origin - ffd_ts_to_samples(d, d->first_pkt_ts));
  }
  if (par->trailing_padding > 0) {
    d->padding = (uint32_t)par->trailing_padding;
  }
  const AVDictionaryEntry *smpb = av_dict_get(d->fmt->metadata, "iTunSMPB", NULL, 0);
  if (smpb == NULL) {
    smpb = av_dict_get(d->st->metadata, "iTunSMPB", NULL, 0);
  }
  uint32_t sdelay = 0, spad = 0;
  uint64_t stotal = 0;
  if (smpb != NULL && ffd_parse_itunsmpb(smpb->value, &sdelay, &spad, &stotal)) {
    if (d->delay == 0 && sdelay > 0) {
      /* No edit list did it: track frame 0 is the first sample after the priming ones. */
      d->origin += sdelay;
      d->delay = sdelay;
    }
    d->padding = spad;
    if (stotal > 0) {
      d->duration = stotal;
      d->has_duration = true;
      d->exact_duration = true;
      d->trim_end = stotal;
    }
  }
}

static st_status_t ffd_open(void *handle, const st_decoder_open_args_t *args,
                            st_str_t *out_error) {
  ffd_decoder_t *d = handle;
  if (args == NULL || args->struct_size < sizeof(st_decoder_open_args_t) ||
      args->stream.io == NULL || args->stream.io->read == NULL) {
    return st_sdk_error(out_error, ST_ERR_INVALID_ARG, "ffmpeg: open needs a readable stream");
  }
  ffd_close_media(d);
  d->stream = args->stream;
  d->io_status = ST_OK;
  d->first_pkt_ts = AV_NOPTS_VALUE;
  bool seekable = d->stream.io->seek != NULL;
  if (seekable) {
    uint64_t pos = 0;
    st_status_t st = d->stream.io->seek(d->stream.handle, 0, ST_SEEK_SET, &pos);
    if (st == ST_ERR_UNSUPPORTED) {
      seekable = false;
    } else if (st != ST_OK) {
      return st_sdk_error(out_error, st, "ffmpeg: cannot rewind the stream");
    }
  }

  ffd_lame_t lame = {0};
  if (seekable) {
    lame = ffd_read_lame(d);
  }

  uint8_t *buf = av_malloc(FFD_IO_BUFFER);
  d->avio = buf != NULL ? avio_alloc_context(buf, FFD_IO_BUFFER, 0, d, ffd_avio_read, NULL,
                                             seekable ? ffd_avio_seek : NULL)
                        : NULL;
  d->fmt = avformat_alloc_context();
  d->pkt = av_packet_alloc();
  d->frame = av_frame_alloc();
  if (d->avio == NULL || d->fmt == NULL || d->pkt == NULL || d->frame == NULL) {
    if (d->avio == NULL) {
      av_free(buf);
    }
    return ffd_fail(d, out_error, ST_ERR_INTERNAL, "out of memory", 0);
  }
  d->avio->seekable = seekable ? AVIO_SEEKABLE_NORMAL : 0;
  d->fmt->pb = d->avio;
  d->fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
  d->fmt->io_open = ffd_refuse_io_open;
  d->fmt->format_whitelist = av_strdup(k_demuxers);
  d->fmt->probesize = 1 << 20;
  d->fmt->max_analyze_duration = 2 * AV_TIME_BASE;
  int r = avformat_open_input(&d->fmt, "", NULL, NULL);
  if (r < 0) {
    /* avformat_open_input frees the context on failure; the AVIO is still ours. */
    d->fmt = NULL;
    return ffd_fail(d, out_error, ST_ERR_DECODE, "not a format this decoder reads", r);
  }
  r = avformat_find_stream_info(d->fmt, NULL);
  if (r < 0 && d->io_status != ST_OK) {
    return ffd_fail(d, out_error, ST_ERR_DECODE, "cannot read the stream info", r);
  }
  const AVCodec *codec = NULL;
  r = av_find_best_stream(d->fmt, AVMEDIA_TYPE_AUDIO, -1, -1, &codec, 0);
  if (r < 0 || codec == NULL) {
    return ffd_fail(d, out_error, ST_ERR_DECODE, "no decodable audio stream", r);
  }
  d->index = r;
  d->st = d->fmt->streams[r];
  for (unsigned i = 0; i < d->fmt->nb_streams; i++) {
    if ((int)i != d->index) {
      d->fmt->streams[i]->discard = AVDISCARD_ALL;
    }
  }
  d->cc = avcodec_alloc_context3(codec);
  if (d->cc == NULL) {
    return ffd_fail(d, out_error, ST_ERR_INTERNAL, "out of memory", 0);
  }
  r = avcodec_parameters_to_context(d->cc, d->st->codecpar);
  if (r >= 0) {
    d->cc->pkt_timebase = d->st->time_base;
    d->cc->thread_count = 1;
    d->cc->request_sample_fmt = AV_SAMPLE_FMT_FLT;
    r = avcodec_open2(d->cc, codec, NULL);
  }
  if (r < 0) {
    return ffd_fail(d, out_error, ST_ERR_DECODE, "cannot open the codec", r);
  }

  /* Decode the first frame: the true output format (HE-AAC doubles the rate, PS adds a channel)
   * and the timestamp of the first output sample are only known then. */
  d->rate = d->cc->sample_rate > 0 ? (uint32_t)d->cc->sample_rate : 0;
  r = ffd_decode_frame(d);
  if (r <= 0) {
    return ffd_fail(d, out_error, r < 0 ? (st_status_t)-r : ST_ERR_DECODE,
                    "no audio could be decoded", 0);
  }
  if (d->frame->sample_rate <= 0 || d->frame->ch_layout.nb_channels <= 0 ||
      d->frame->ch_layout.nb_channels > 32) {
    return ffd_fail(d, out_error, ST_ERR_DECODE, "the media declares an invalid format", 0);
  }
  d->rate = (uint32_t)d->frame->sample_rate;
  d->channels = (uint32_t)d->frame->ch_layout.nb_channels;
  int64_t first_ts = d->frame->best_effort_timestamp;
  d->origin = first_ts != AV_NOPTS_VALUE ? ffd_ts_to_samples(d, first_ts) : 0;
  d->origin_raw = d->origin;
  d->coarse_ts = av_cmp_q(d->st->time_base, (AVRational){1, (int)d->rate}) > 0;

  const AVCodecDescriptor *desc = avcodec_descriptor_get(d->cc->codec_id);
  /* WavPack is marked both (its hybrid mode is lossy without the correction file, which this
   * decoder never opens); it is counted lossless, as nearly every WavPack file is. */
  d->lossless = desc != NULL && (desc->props & AV_CODEC_PROP_LOSSLESS) &&
                (!(desc->props & AV_CODEC_PROP_LOSSY) || d->cc->codec_id == AV_CODEC_ID_WAVPACK);
  d->preroll = d->lossless ? 0 : FFD_LOSSY_PREROLL_FRAMES;
  if (d->st->codecpar->seek_preroll > 0 && (uint64_t)d->st->codecpar->seek_preroll > d->preroll) {
    d->preroll = (uint64_t)d->st->codecpar->seek_preroll;
  }

  /* A time base coarser than 0.1 s (Musepack SV8 counts in 1.67 s units) gives no useful
   * duration. */
  bool duration_usable = av_cmp_q(d->st->time_base, (AVRational){1, 10}) <= 0;
  if (duration_usable && d->st->duration != AV_NOPTS_VALUE && d->st->duration > 0) {
    int64_t end = ffd_ts_to_samples(d, d->st->duration);
    if (d->st->start_time != AV_NOPTS_VALUE) {
      end += ffd_ts_to_samples(d, d->st->start_time) - d->origin;
    }
    if (end > 0) {
      d->duration = (uint64_t)end;
      d->has_duration = true;
    }
  } else if (duration_usable && d->fmt->duration != AV_NOPTS_VALUE && d->fmt->duration > 0) {
    d->duration = (uint64_t)av_rescale(d->fmt->duration, d->rate, AV_TIME_BASE);
    d->has_duration = true;
  }
  ffd_find_gapless(d);
  /* MP4 states the track's length in samples (an edit list's, or the sample table's): it ends
   * the output there (the encoder padding of AAC) and a shorter decode is a truncated file. */
  if (d->has_duration && !d->exact_duration && !d->coarse_ts &&
      ffd_in_list(d->fmt->iformat->name, "mov")) {
    d->exact_duration = true;
    d->trim_end = d->duration;
  }
  if (d->exact_duration && !d->lossless && d->padding == 0 && par_frame_size(d) > 0 &&
      d->st->nb_frames > 0) {
    uint64_t coded = (uint64_t)d->st->nb_frames * (uint64_t)par_frame_size(d);
    if (coded > d->duration + d->delay) {
      d->padding = (uint32_t)(coded - d->duration - d->delay);
    }
  }
  if (lame.found && lame.frames > 0 && ffd_in_list(d->fmt->iformat->name, "mp3")) {
    /* libavformat skips delay + 529 (the decoder's own delay) at the start and ends 529 before
     * the padding does. */
    uint64_t coded = (uint64_t)lame.frames * lame.spf;
    if (coded > (uint64_t)lame.delay + lame.padding) {
      d->delay = lame.delay + 529;
      d->padding = lame.padding > 529 ? lame.padding - 529 : 0;
      d->duration = coded - lame.delay - lame.padding;
      d->has_duration = true;
      d->exact_duration = true;
      d->trim_end = d->duration;
    }
  }
  /* Musepack's demuxers land on the wrong frame after av_seek_frame; it decodes fast. */
  d->seek_by_decoding = ffd_in_list(d->fmt->iformat->name, "mpc,mpc8");

  d->position = 0;
  int64_t start = ffd_frame_start(d, true);
  st_status_t st = ffd_convert(d);
  if (st != ST_OK) {
    return ffd_fail(d, out_error, st, "cannot convert the decoded samples", 0);
  }
  ffd_place(d, start);
  return ST_OK;
}

/* ---- Info, metadata ------------------------------------------------------------------------ */

static st_status_t ffd_get_info(void *handle, st_decoder_info_t *out_info) {
  const ffd_decoder_t *d = handle;
  if (out_info == NULL || out_info->struct_size == 0) {
    return ST_ERR_INVALID_ARG;
  }
  if (d->fmt == NULL) {
    return ST_ERR_STATE;
  }
  st_decoder_info_t info;
  memset(&info, 0, sizeof info);
  info.struct_size = out_info->struct_size;
  if (d->fmt->pb != NULL && (d->fmt->pb->seekable & AVIO_SEEKABLE_NORMAL)) {
    info.flags |= ST_DECODER_SEEKABLE;
  }
  if (d->has_duration) {
    info.flags |= ST_DECODER_HAS_DURATION;
    info.duration_frames = d->duration;
  }
  if (d->lossless) {
    info.flags |= ST_DECODER_LOSSLESS;
  }
  info.spec.sample_rate = d->rate;
  info.spec.channels = (uint16_t)d->channels;
  info.encoder_delay_frames = d->delay;
  info.encoder_padding_frames = d->padding;
  size_t n = out_info->struct_size < sizeof info ? out_info->struct_size : sizeof info;
  memcpy(out_info, &info, n);
  return ST_OK;
}

/* Keys as the library and the UI know them; other tags pass through lowercased. */
static const char *ffd_tag_key(const char *key, char *buf, size_t cap) {
  static const struct {
    const char *from;
    const char *to;
  } map[] = {
      {"album_artist", "album_artist"}, {"albumartist", "album_artist"},
      {"album artist", "album_artist"}, {"tracknumber", "track"},
      {"discnumber", "disc"},           {"year", "date"},
      {"encoded_by", "encoded_by"},     {"wm/albumartist", "album_artist"},
      {"wm/tracknumber", "track"},      {"wm/year", "date"},
      {"wm/genre", "genre"},            {"wm/partofset", "disc"},
      {"author", "artist"},
  };
  size_t i = 0;
  for (; key[i] != '\0' && i + 1 < cap; i++) {
    char c = key[i];
    buf[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  buf[i] = '\0';
  for (size_t k = 0; k < sizeof map / sizeof map[0]; k++) {
    if (strcmp(buf, map[k].from) == 0) {
      return map[k].to;
    }
  }
  return buf;
}

static bool ffd_is_utf8(const unsigned char *s) {
  while (*s != 0) {
    unsigned c = *s;
    int more = c < 0x80 ? 0 : (c >= 0xC2 && c <= 0xDF) ? 1 : (c >= 0xE0 && c <= 0xEF) ? 2
                          : (c >= 0xF0 && c <= 0xF4) ? 3 : -1;
    if (more < 0) {
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

/* Container bookkeeping libavformat reports as metadata; not tags a listener set. */
static const char k_not_tags[] = "major_brand,minor_version,compatible_brands,handler_name,"
                                 "vendor_id,language,creation_time,duration,itunsmpb,itunnorm";

static void ffd_add_tags(cJSON *tags, const AVDictionary *dict) {
  const AVDictionaryEntry *e = NULL;
  while ((e = av_dict_get(dict, "", e, AV_DICT_IGNORE_SUFFIX)) != NULL) {
    if (e->value == NULL || e->value[0] == '\0' || !ffd_is_utf8((const unsigned char *)e->value)) {
      continue;
    }
    char buf[128];
    const char *key = ffd_tag_key(e->key, buf, sizeof buf);
    if (ffd_in_list(key, k_not_tags)) {
      continue;
    }
    if (!cJSON_HasObjectItem(tags, key)) {
      cJSON_AddStringToObject(tags, key, e->value);
    }
  }
}

static void ffd_add_cover(cJSON *doc, const AVFormatContext *fmt) {
  for (unsigned i = 0; i < fmt->nb_streams; i++) {
    const AVStream *s = fmt->streams[i];
    if (!(s->disposition & AV_DISPOSITION_ATTACHED_PIC) || s->attached_pic.size <= 0 ||
        (unsigned)s->attached_pic.size > FFD_MAX_COVER_BYTES) {
      continue;
    }
    const char *mime = s->codecpar->codec_id == AV_CODEC_ID_PNG    ? "image/png"
                       : s->codecpar->codec_id == AV_CODEC_ID_MJPEG ? "image/jpeg"
                       : s->codecpar->codec_id == AV_CODEC_ID_BMP   ? "image/bmp"
                       : s->codecpar->codec_id == AV_CODEC_ID_GIF   ? "image/gif"
                       : s->codecpar->codec_id == AV_CODEC_ID_WEBP  ? "image/webp"
                                                                    : "application/octet-stream";
    size_t cap = AV_BASE64_SIZE((size_t)s->attached_pic.size);
    char *b64 = malloc(cap);
    if (b64 == NULL || av_base64_encode(b64, (int)cap, s->attached_pic.data,
                                        s->attached_pic.size) == NULL) {
      free(b64);
      return;
    }
    cJSON *cover = cJSON_AddObjectToObject(doc, "cover");
    if (cover != NULL) {
      cJSON_AddStringToObject(cover, "mime_type", mime);
      if (s->codecpar->width > 0 && s->codecpar->height > 0) {
        cJSON_AddNumberToObject(cover, "width", s->codecpar->width);
        cJSON_AddNumberToObject(cover, "height", s->codecpar->height);
      }
      cJSON_AddNumberToObject(cover, "bytes", s->attached_pic.size);
      cJSON_AddStringToObject(cover, "data_base64", b64);
    }
    free(b64);
    return;
  }
}

static st_status_t ffd_get_metadata_json(void *handle, st_str_t *out_json) {
  ffd_decoder_t *d = handle;
  if (out_json == NULL) {
    return ST_ERR_INVALID_ARG;
  }
  out_json->ptr = NULL;
  out_json->len = 0;
  if (d->fmt == NULL) {
    return ST_ERR_STATE;
  }
  cJSON *doc = cJSON_CreateObject();
  if (doc == NULL) {
    return ST_ERR_INTERNAL;
  }
  const AVCodecParameters *par = d->st->codecpar;
  cJSON_AddStringToObject(doc, "codec", avcodec_get_name(par->codec_id));
  char container[32];
  av_strlcpy(container, d->fmt->iformat->name, sizeof container);
  container[strcspn(container, ",")] = '\0';
  cJSON_AddStringToObject(doc, "container", container);
  int bits = par->bits_per_raw_sample > 0 ? par->bits_per_raw_sample : 0;
  if (bits == 0 && d->lossless && par->bits_per_coded_sample > 0) {
    bits = par->bits_per_coded_sample;
  }
  if (bits > 0 && d->lossless) {
    cJSON_AddNumberToObject(doc, "bits_per_sample", bits);
  }
  cJSON_AddNumberToObject(doc, "sample_rate", d->rate);
  cJSON_AddNumberToObject(doc, "channels", d->channels);
  int64_t bit_rate = par->bit_rate > 0 ? par->bit_rate : d->fmt->bit_rate;
  if (bit_rate > 0) {
    cJSON_AddNumberToObject(doc, "bitrate_kbps", (double)((bit_rate + 500) / 1000));
  }
  if (par->codec_id == AV_CODEC_ID_DSD_LSBF || par->codec_id == AV_CODEC_ID_DSD_MSBF ||
      par->codec_id == AV_CODEC_ID_DSD_LSBF_PLANAR || par->codec_id == AV_CODEC_ID_DSD_MSBF_PLANAR) {
    cJSON_AddNumberToObject(doc, "dsd_rate", (double)d->rate * 8.0);
  }
  cJSON *gapless = cJSON_AddObjectToObject(doc, "gapless");
  if (gapless != NULL) {
    cJSON_AddNumberToObject(gapless, "encoder_delay", d->delay);
    cJSON_AddNumberToObject(gapless, "encoder_padding", d->padding);
  }
  cJSON *tags = cJSON_AddObjectToObject(doc, "tags");
  if (tags != NULL) {
    ffd_add_tags(tags, d->fmt->metadata);
    ffd_add_tags(tags, d->st->metadata);
  }
  ffd_add_cover(doc, d->fmt);
  st_status_t st = st_sdk_str_copy_foreign(out_json, cJSON_PrintUnformatted(doc), cJSON_free);
  cJSON_Delete(doc);
  return st;
}

/* ---- Read, seek ----------------------------------------------------------------------------- */

/* The status that ends a track after its decodable part. */
static st_status_t ffd_end_status(const ffd_decoder_t *d) {
  if (d->io_status != ST_OK) {
    return d->io_status;
  }
  /* Junk after the last frame the header promised (a WavPack's trailing APE tag, which a
   * demuxer on a stream without seek cannot skip) ends the track, it does not damage it. */
  bool complete = d->has_duration && d->position >= d->duration;
  if (d->had_errors || (d->demux_error && !complete)) {
    return ST_ERR_DECODE;
  }
  if (d->exact_duration && d->position < d->trim_end) {
    return ST_ERR_DECODE; /* truncated: the container promised more frames */
  }
  if (d->lossless && d->has_duration && d->position + d->rate / 4 < d->duration) {
    return ST_ERR_DECODE; /* a lossless file ending well before the length its header states */
  }
  return ST_OK;
}

static st_status_t ffd_read_f32(void *handle, float *out, uint32_t frames, uint32_t *out_frames) {
  ffd_decoder_t *d = handle;
  if (out_frames == NULL) {
    return ST_ERR_INVALID_ARG;
  }
  *out_frames = 0;
  if (d->fmt == NULL) {
    return ST_ERR_STATE;
  }
  if (frames == 0) {
    return ST_OK;
  }
  if (out == NULL) {
    return ST_ERR_INVALID_ARG;
  }
  uint32_t done = 0;
  while (done < frames) {
    if (d->pend_off >= d->pend_len) {
      if (d->ended) {
        break;
      }
      st_status_t st = ffd_fill(d, false);
      if (st != ST_OK) {
        if (done > 0) {
          break; /* deliver what was decoded; the error comes with the next call */
        }
        return st == ST_ERR_DECODE ? ffd_end_status(d) == ST_OK ? ST_ERR_DECODE : ffd_end_status(d)
                                   : st;
      }
      if (d->pend_len == 0) {
        break;
      }
    }
    uint32_t n = d->pend_len - d->pend_off;
    if (n > frames - done) {
      n = frames - done;
    }
    memcpy(out + (size_t)done * d->channels, d->pend + (size_t)d->pend_off * d->channels,
           (size_t)n * d->channels * sizeof(float));
    d->pend_off += n;
    done += n;
    d->position += n;
  }
  *out_frames = done;
  if (done == 0 && d->ended) {
    return ffd_end_status(d);
  }
  return ST_OK;
}

/* Decodes from the start and discards up to `target`: the exact path for demuxers that cannot
 * seek well. */
static st_status_t ffd_seek_from_start(ffd_decoder_t *d, uint64_t target) {
  if (avformat_seek_file(d->fmt, d->index, INT64_MIN, d->st->start_time != AV_NOPTS_VALUE ? d->st->start_time : 0,
                         INT64_MAX, 0) < 0 &&
      av_seek_frame(d->fmt, d->index, 0, AVSEEK_FLAG_BYTE) < 0) {
    return d->io_status != ST_OK ? d->io_status : ST_ERR_DECODE;
  }
  avcodec_flush_buffers(d->cc);
  d->draining = d->ended = false;
  d->pend_off = d->pend_len = 0;
  d->next_frame = -(int64_t)(d->origin - d->origin_raw);
  d->position = target;
  return ffd_fill(d, true);
}

static st_status_t ffd_seek_ms(void *handle, uint64_t position_ms, uint64_t *out_position_frames) {
  ffd_decoder_t *d = handle;
  if (d->fmt == NULL) {
    return ST_ERR_STATE;
  }
  if (!(d->fmt->pb->seekable & AVIO_SEEKABLE_NORMAL)) {
    return ST_ERR_UNSUPPORTED;
  }
  uint64_t target = position_ms > (UINT64_MAX - 500) / d->rate ? UINT64_MAX
                                                                : (position_ms * d->rate + 500) / 1000;
  if (d->exact_duration && target > d->duration) {
    target = d->duration; /* an estimated duration may be short: seeking past it is allowed */
  }
  if (target > (uint64_t)INT64_MAX / 2) {
    return ST_ERR_INVALID_ARG;
  }
  d->io_status = ST_OK; /* a seek is a fresh attempt after a transient stream error */
  d->had_errors = d->demux_error = false;
  d->bad_packets = 0;

  st_status_t st;
  uint64_t from = target > d->preroll ? target - d->preroll : 0;
  if (from == 0 || d->seek_by_decoding) {
    st = ffd_seek_from_start(d, target);
  } else {
    int64_t ts = ffd_samples_to_ts(d, (int64_t)from + d->origin);
    int r = av_seek_frame(d->fmt, d->index, ts, AVSEEK_FLAG_BACKWARD);
    if (r < 0) {
      st = ffd_seek_from_start(d, target);
    } else {
      avcodec_flush_buffers(d->cc);
      d->draining = d->ended = false;
      d->pend_off = d->pend_len = 0;
      d->position = target;
      d->next_frame = (int64_t)from;
      st = ffd_fill(d, true);
      if (st == ST_OK && (d->position > target || (d->pend_len == 0 && d->has_duration &&
                                                   target < d->duration))) {
        /* The demuxer landed after the target (no index, a coarse one) or nowhere: start over. */
        d->io_status = ST_OK;
        d->had_errors = d->demux_error = false;
        st = ffd_seek_from_start(d, target);
      }
    }
  }
  if (st != ST_OK) {
    d->ended = true;
    return st;
  }
  if (out_position_frames != NULL) {
    *out_position_frames = d->position;
  }
  return ST_OK;
}

/* ---- Probe ---------------------------------------------------------------------------------- */

static uint32_t ffd_probe(void *handle, const st_decoder_probe_args_t *args) {
  (void)handle;
  if (args == NULL || args->struct_size < sizeof(st_decoder_probe_args_t) || args->head == NULL ||
      args->head_len == 0 || args->head_len > ST_DECODER_PROBE_BYTES) {
    return 0;
  }
  /* libavformat's probes may read AVPROBE_PADDING_SIZE bytes past the end: pad with zeros. */
  unsigned char *buf = av_mallocz(args->head_len + AVPROBE_PADDING_SIZE);
  if (buf == NULL) {
    return 0;
  }
  memcpy(buf, args->head, args->head_len);
  AVProbeData pd = {.filename = "", .buf = buf, .buf_size = (int)args->head_len, .mime_type = NULL};
  int score = 0;
  const AVInputFormat *f = av_probe_input_format3(&pd, 1, &score);
  uint32_t result = 0;
  if (f != NULL && ffd_in_list(f->name, k_demuxers) && score > 0) {
    result = score > (int)ST_DECODER_PROBE_CERTAIN ? ST_DECODER_PROBE_CERTAIN : (uint32_t)score;
    bool sndfile_reads = ffd_in_list(f->name, k_sndfile_formats);
    if (strcmp(f->name, "caf") == 0 && args->head_len >= 32 && memcmp(buf + 8, "desc", 4) == 0) {
      /* CAF: libsndfile reads its PCM; the ALAC and AAC in it are this decoder's. (The desc
       * chunk follows the 8-byte file header; its format ID follows the 8-byte sample rate.) */
      sndfile_reads = memcmp(buf + 28, "lpcm", 4) == 0 || memcmp(buf + 28, "ulaw", 4) == 0 ||
                      memcmp(buf + 28, "alaw", 4) == 0;
    }
    if (sndfile_reads && result > 40) {
      result = 40;
    }
  }
  av_free(buf);
  return result;
}

/* ---- Config: nothing to configure ------------------------------------------------------------ */

static const st_config_vtable_t g_config_vtable = ST_SDK_CONFIG_VTABLE_NOTHING;

static void ffd_destroy(void *handle) {
  ffd_decoder_t *d = handle;
  if (d != NULL) {
    ffd_close_media(d);
    free(d);
  }
}

static const st_decoder_vtable_t g_decoder_vtable = {
    .base = {sizeof(st_decoder_vtable_t), ST_CAP_DECODER, &g_config_vtable, ffd_destroy},
    .open = ffd_open,
    .get_info = ffd_get_info,
    .get_metadata_json = ffd_get_metadata_json,
    .read_f32 = ffd_read_f32,
    .seek_ms = ffd_seek_ms,
    .probe = ffd_probe,
};

/* ---- The module ---------------------------------------------------------------------------- */

static const st_capability_t g_decoder_cap = ST_SDK_DECODER_CAPABILITY(
    FFD_TYPE_ID, "FFmpeg (M4A/AAC/ALAC, WMA, APE, WavPack, TTA, DSD, Musepack, MKA)",
    "{\"type\":\"object\",\"title\":\"FFmpeg decoder\","
    "\"properties\":{},\"additionalProperties\":false}",
    "{}", k_exts);

static const st_capability_t *const g_caps[] = {&g_decoder_cap};

static st_status_t ffd_create_instance(const st_instance_args_t *args, st_instance_t *out_instance,
                                       st_str_t *out_error) {
  if (args == NULL || out_instance == NULL) {
    return ST_ERR_INVALID_ARG;
  }
  if (args->kind != ST_CAP_DECODER || !st_sdk_str_eq(&args->type_id, FFD_TYPE_ID)) {
    return st_sdk_error(out_error, ST_ERR_UNSUPPORTED, "ffmpeg: unknown capability");
  }
  if (!st_sdk_config_is_object(&args->config_json)) {
    return st_sdk_error(out_error, ST_ERR_INVALID_ARG, "ffmpeg: the config must be a JSON object");
  }
  ffd_decoder_t *d = calloc(1, sizeof *d);
  if (d == NULL) {
    return ST_ERR_INTERNAL;
  }
  d->index = -1;
  out_instance->handle = d;
  out_instance->vtable = &g_decoder_vtable.base;
  return ST_OK;
}

static bool ffd_entry(const st_host_t *host) {
  (void)host;
  /* libav* logs corrupt-data warnings to stderr by default; the structured errors say enough. */
  av_log_set_level(AV_LOG_QUIET);
  unsigned fv = avformat_version(), cv = avcodec_version();
  snprintf(g_metadata, sizeof g_metadata,
           "{\"id\":\"dev.stellatune.ffmpeg\",\"name\":\"FFmpeg decoder\","
           "\"version\":\"1.0.0\",\"abi_version\":%u,"
           "\"description\":\"Decodes M4A/MP4 (AAC, ALAC), CAF, WMA, APE, WavPack, TTA, DSF/DFF, "
           "Musepack and MKA/WebM with libavformat %u.%u and libavcodec %u.%u\","
           "\"author\":\"StellaTune\",\"homepage\":\"https://ffmpeg.org/\"}",
           ST_PLUGIN_API_VERSION, fv >> 16, (fv >> 8) & 0xFF, cv >> 16, (cv >> 8) & 0xFF);
  return true;
}

/* No threads (thread_count 1), no global state beyond the log level. */
ST_SDK_PLUGIN_EX(g_metadata, g_caps, ffd_create_instance, ffd_entry, NULL)
