/* net_unit_test.c — the pieces of the network plugins that need no server: MD5 for Subsonic token
 * auth (RFC 1321 test suite), query encoding, and the HTTP/libcurl status mapping. The plugins
 * against real servers are tested from TypeScript (src-main/test/network). */
#include <stdio.h>
#include <string.h>

#include "md5.h"
#include "st_http.h"

static int failures;

#define CHECK(cond)                                                   \
  do {                                                                \
    if (!(cond)) {                                                    \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      failures++;                                                     \
    }                                                                 \
  } while (0)

static void check_md5(const char *in, const char *want) {
  char hex[33];
  md5_hex(in, strlen(in), hex);
  if (strcmp(hex, want) != 0) {
    fprintf(stderr, "md5(\"%s\") = %s, want %s\n", in, hex, want);
    failures++;
  }
}

int main(void) {
  /* RFC 1321 appendix A.5, plus the Subsonic API documentation's token example. */
  check_md5("", "d41d8cd98f00b204e9800998ecf8427e");
  check_md5("a", "0cc175b9c0f1b6a831c399e269772661");
  check_md5("abc", "900150983cd24fb0d6963f7d28e17f72");
  check_md5("message digest", "f96b697d7cb7938d525a2f31aaf161d0");
  check_md5("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b");
  check_md5("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            "d174ab98d277d9f5a5611c2c9f419d9f");
  check_md5("12345678901234567890123456789012345678901234567890123456789012345678901234567890",
            "57edf4a22be3c955ac49da2e2107b67a");
  check_md5("sesamec19b2d", "26719a1196d2a940705a59634eb18eab");
  /* Lengths around the 55/56/64-byte padding boundaries. */
  check_md5("0123456789012345678901234567890123456789012345678901234", "6e7a4fc92eb1c3f6e652425bcc8d44b5");
  check_md5("01234567890123456789012345678901234567890123456789012345", "8af270b2847610e742b0791b53648c09");
  check_md5("0123456789012345678901234567890123456789012345678901234567890123", "7f7bfd348709deeaace19e3f535f8c54");

  st_http_buf_t b = {0};
  st_http_buf_add(&b, "http://h/rest/ping");
  st_http_buf_param(&b, "u", "al ice");
  st_http_buf_param(&b, "q", "a&b=c/d~e_f.g-h\xc3\xbc");
  char *url = st_http_buf_take(&b);
  CHECK(url != NULL && strcmp(url, "http://h/rest/ping?u=al%20ice&q=a%26b%3Dc%2Fd~e_f.g-h%C3%BC") == 0);
  if (url != NULL) printf("%s\n", url);
  st_sdk_free(url);

  CHECK(st_http_status_code(200) == ST_OK && st_http_status_code(206) == ST_OK);
  CHECK(st_http_status_code(401) == ST_ERR_AUTH && st_http_status_code(403) == ST_ERR_AUTH);
  CHECK(st_http_status_code(404) == ST_ERR_NOT_FOUND && st_http_status_code(410) == ST_ERR_NOT_FOUND);
  CHECK(st_http_status_code(500) == ST_ERR_NETWORK && st_http_status_code(503) == ST_ERR_NETWORK);
  CHECK(st_http_status_code(400) == ST_ERR_IO);

  char err[256];
  CHECK(st_http_curl_status(CURLE_COULDNT_CONNECT, "", err, sizeof err) == ST_ERR_NETWORK);
  CHECK(st_http_curl_status(CURLE_RECV_ERROR, "", err, sizeof err) == ST_ERR_NETWORK);
  CHECK(st_http_curl_status(CURLE_OPERATION_TIMEDOUT, "", err, sizeof err) == ST_ERR_TIMEOUT);
  CHECK(st_http_curl_status(CURLE_PARTIAL_FILE, "", err, sizeof err) == ST_ERR_IO);
  CHECK(strstr(err, "truncated") != NULL);
  CHECK(st_http_curl_status(CURLE_URL_MALFORMAT, "bad url", err, sizeof err) == ST_ERR_INVALID_ARG);
  CHECK(strcmp(err, "bad url") == 0);

  if (failures == 0) printf("net_unit_test: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
