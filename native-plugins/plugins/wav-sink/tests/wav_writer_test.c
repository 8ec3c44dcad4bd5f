/*
 * Unit test of wav_writer.c: the RF64 upgrade. A real one needs a 4 GiB file, so the test lowers
 * the writer's RIFF limit and checks that the file is rewritten as RF64 (RF64 id, ds64 chunk,
 * 0xFFFFFFFF sizes) and that ffmpeg reads back the same samples; and that under the limit the
 * file stays plain RIFF.
 *
 *   wav_writer_test <work dir> <ffmpeg>
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness_check.h"
#include "test_platform.h"
#include "wav_writer.h"

static uint32_t le32(const unsigned char *p) {
  return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }

static void run(const char *dir, const char *ffmpeg, wav_sample_format_t format, uint16_t ch,
                uint64_t riff_limit, const char *name) {
  char path[4096], err[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  wav_writer_t w;
  st_audio_spec_t spec = {48000, ch, 0};
  CHECK(wav_writer_open(&w, path, false, spec, format, err, sizeof err) == ST_OK, "open: %s",
        err);
  w.riff_limit = riff_limit;
  w.sync_every = 1000; /* patch often: the upgrade happens mid-recording */
  w.next_sync = 1000;
  enum { kFrames = 10000 };
  float *sig = malloc(sizeof(float) * kFrames * ch);
  for (size_t i = 0; i < (size_t)kFrames * ch; i++) {
    sig[i] = (float)((int)(i * 7919 % 65536) - 32768) / 32768.0f; /* on the 16-bit grid */
  }
  for (size_t f = 0; f < kFrames; f += 999) {
    uint32_t n = kFrames - f < 999 ? (uint32_t)(kFrames - f) : 999;
    CHECK(wav_writer_write(&w, sig + f * ch, n) == ST_OK, "write");
  }
  CHECK(wav_writer_close(&w) == ST_OK, "close");

  FILE *f = fopen(path, "rb");
  unsigned char h[128] = {0};
  size_t got = f != NULL ? fread(h, 1, sizeof h, f) : 0;
  if (f != NULL) {
    fclose(f);
  }
  uint64_t bps = format == WAV_F32 ? 4 : 2;
  uint64_t data = (uint64_t)kFrames * ch * bps;
  bool rf64 = riff_limit < data;
  CHECK(got == sizeof h, "short file");
  if (rf64) {
    CHECK(memcmp(h, "RF64", 4) == 0 && le32(h + 4) == UINT32_MAX, "%s: RF64 header", name);
    CHECK(memcmp(h + 12, "ds64", 4) == 0 && le32(h + 16) == 28, "%s: ds64 chunk", name);
    CHECK(le64(h + 28) == data && le64(h + 36) == kFrames, "%s: ds64 sizes %llu %llu", name,
          (unsigned long long)le64(h + 28), (unsigned long long)le64(h + 36));
  } else {
    CHECK(memcmp(h, "RIFF", 4) == 0 && memcmp(h + 12, "JUNK", 4) == 0, "%s: RIFF", name);
  }

  char cmd[8400];
  snprintf(cmd, sizeof cmd, "'%s' -nostdin -v error -i '%s' -f f32le -c:a pcm_f32le -", ffmpeg,
           path);
  FILE *p = popen(cmd, "r");
  float *back = malloc(sizeof(float) * kFrames * ch + 64);
  size_t n = p != NULL ? fread(back, sizeof(float), (size_t)kFrames * ch + 16, p) : 0;
  int rc = p != NULL ? pclose(p) : -1;
  CHECK(rc == 0 && n == (size_t)kFrames * ch && memcmp(back, sig, n * sizeof(float)) == 0,
        "%s: ffmpeg read %zu samples (rc %d)", name, n, rc);
  printf("%-14s %s %u ch: %s, ffmpeg reads identical samples\n", name,
         format == WAV_F32 ? "f32" : "s16", ch, rf64 ? "RF64 (ds64)" : "RIFF");
  free(back);
  free(sig);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s <work dir> <ffmpeg>\n", argv[0]);
    return 2;
  }
  st_mkdir(argv[1]);
  run(argv[1], argv[2], WAV_F32, 2, UINT32_MAX, "riff_f32.wav");
  run(argv[1], argv[2], WAV_F32, 2, 50000, "rf64_f32.wav");
  run(argv[1], argv[2], WAV_S16, 6, 50000, "rf64_s16_6.wav");
  run(argv[1], argv[2], WAV_F32, 3, 50000, "rf64_f32_3.wav");
  return harness_result();
}
