/* subsonic_source.c — dev.stellatune.subsonic: a SourceCatalog for servers that speak the
 * Subsonic API (Subsonic, OpenSubsonic, Navidrome, Airsonic, Gonic, Supysonic).
 *
 * list_items requests (source.h shapes; "offset"/"limit" page where the API pages):
 *   {"action":"browse"}                      the root: Albums, Artists, Playlists folders
 *   {"action":"browse","id":<item id>}       what an album/artist/playlist/folder item holds
 *   {"action":"search","query":"…"}          search3: artists, albums, then tracks
 *   {"action":"albums","type":"newest"}      getAlbumList2 (type, offset, limit; fromYear/toYear
 *                                            for byYear, genre for byGenre)
 *   {"action":"album","id":…}                getAlbum: its tracks
 *   {"action":"artists"} / {"action":"artist","id":…}     getArtists / getArtist's albums
 *   {"action":"playlists"} / {"action":"playlist","id":…} getPlaylists / getPlaylist's tracks
 *   {"action":"ping"}                        checks the server and the credentials
 * Item ids carry their kind ("tr:", "al:", "ar:", "pl:", "menu:") so browse can dispatch; the
 * server's own id is in "song_id"/"album_id"/"artist_id"/"playlist_id". Tracks carry everything
 * open_stream needs (song_id, suffix, content_type, size) and a cover_url (getCoverArt).
 *
 * Authentication: token + salt (t = md5(password + salt), a fresh salt per request, API 1.13.0),
 * or — only with "plain_password": true, for servers without token support such as Supysonic or
 * LDAP-backed ones — the password hex-encoded ("p=enc:…"). Errors: the server's Subsonic error
 * codes become ST_ERR_AUTH (40, 41, 50), ST_ERR_NOT_FOUND (70), ST_ERR_INVALID_ARG (10),
 * ST_ERR_UNSUPPORTED (20, 30); transport errors as st_http.h says.
 *
 * Threads: every network call runs in an SDK op on the plugin's worker pool (up to 32 at once),
 * waiting on the op's cancel fd so cancel aborts the transfer at once; stream reads run on the
 * host's decode thread (http_stream.c). Ops copy the config they need at begin, so a hot-applied
 * config never races them; shutdown joins the workers (SDK) and releases libcurl. */
#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <bcrypt.h> /* after windows.h */
#else
#include <fcntl.h>
#include <unistd.h>
#endif

#include "http_stream.h"
#include "md5.h"
#include "st_http.h"
#include "st_sdk.h"

#define TYPE_ID "subsonic"
#define PLUGIN_VERSION "1.0.0"
#define CLIENT_NAME "StellaTune"
#define DEFAULT_LIMIT 50
#define MAX_LIMIT 500
#define MAX_JSON_BYTES ((size_t)16 << 20)

/* ---- Config ------------------------------------------------------------------------------- */

static const char k_schema[] =
    "{\"type\":\"object\",\"additionalProperties\":false,"
    "\"properties\":{"
    "\"server_url\":{\"type\":\"string\",\"title\":\"Server URL\","
    "\"description\":\"e.g. https://music.example.org (the /rest API lives below it)\","
    "\"pattern\":\"^$|^https?://\",\"default\":\"\"},"
    "\"username\":{\"type\":\"string\",\"title\":\"User name\",\"default\":\"\"},"
    "\"password\":{\"type\":\"string\",\"title\":\"Password\",\"format\":\"password\","
    "\"default\":\"\"},"
    "\"plain_password\":{\"type\":\"boolean\",\"title\":\"Send the password itself\","
    "\"description\":\"For servers without token authentication (Supysonic, LDAP users). "
    "Sends the password hex-encoded with every request; use HTTPS.\",\"default\":false},"
    "\"timeout_ms\":{\"type\":\"integer\",\"title\":\"Request timeout (ms)\",\"minimum\":500,"
    "\"maximum\":120000,\"default\":10000},"
    "\"max_bitrate_kbps\":{\"type\":\"integer\",\"title\":\"Maximum bit rate (kbps, 0 = no "
    "limit)\",\"minimum\":0,\"maximum\":2000,\"default\":0},"
    "\"format\":{\"type\":\"string\",\"title\":\"Stream format\","
    "\"description\":\"original = the file as stored; otherwise the server transcodes\","
    "\"enum\":[\"original\",\"mp3\",\"opus\",\"ogg\",\"flac\"],\"default\":\"original\"}"
    "},"
    "\"x-stellatune-actions\":["
    "{\"action\":\"browse\",\"label\":\"Browse\"},"
    "{\"action\":\"search\",\"label\":\"Search\",\"query\":true},"
    "{\"action\":\"albums\",\"label\":\"Albums\",\"types\":[\"alphabeticalByName\","
    "\"alphabeticalByArtist\",\"newest\",\"recent\",\"frequent\",\"random\",\"starred\","
    "\"byYear\",\"byGenre\"]},"
    "{\"action\":\"album\",\"label\":\"Album\",\"id\":true},"
    "{\"action\":\"artists\",\"label\":\"Artists\"},"
    "{\"action\":\"artist\",\"label\":\"Artist\",\"id\":true},"
    "{\"action\":\"playlists\",\"label\":\"Playlists\"},"
    "{\"action\":\"playlist\",\"label\":\"Playlist\",\"id\":true},"
    "{\"action\":\"ping\",\"label\":\"Test connection\"}]}";

static const char k_default_config[] =
    "{\"server_url\":\"\",\"username\":\"\",\"password\":\"\",\"plain_password\":false,"
    "\"timeout_ms\":10000,\"max_bitrate_kbps\":0,\"format\":\"original\"}";

typedef struct subsonic_config {
  char *server_url; /* without a trailing slash */
  char *username;
  char *password;
  bool plain_password;
  uint32_t timeout_ms;
  uint32_t max_bitrate_kbps;
  char *format; /* "original" or a transcoding target */
} subsonic_config_t;

static void config_free(subsonic_config_t *c) {
  free(c->server_url);
  free(c->username);
  free(c->password);
  free(c->format);
  memset(c, 0, sizeof *c);
}

static const char *get_string(const cJSON *obj, const char *name) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A number or a numeric string (servers differ), else `fallback`. */
static double get_number(const cJSON *obj, const char *name, double fallback) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
  if (cJSON_IsNumber(v)) return v->valuedouble;
  if (cJSON_IsString(v) && v->valuestring[0] != '\0') {
    char *end = NULL;
    double d = strtod(v->valuestring, &end);
    if (end != NULL && *end == '\0') return d;
  }
  return fallback;
}

/* Parses a config (missing keys take their defaults); false with a reason on a bad one. */
static bool config_parse(const st_str_t *json, subsonic_config_t *out, st_str_t *out_error) {
  memset(out, 0, sizeof *out);
  cJSON *doc = json != NULL && json->ptr != NULL && json->len > 0
                   ? cJSON_ParseWithLength(json->ptr, json->len)
                   : cJSON_CreateObject();
  if (!cJSON_IsObject(doc)) {
    cJSON_Delete(doc);
    st_sdk_set_error(out_error, "the config is not a JSON object");
    return false;
  }
  const char *url = get_string(doc, "server_url");
  const char *user = get_string(doc, "username");
  const char *pass = get_string(doc, "password");
  const char *format = get_string(doc, "format");
  double timeout = get_number(doc, "timeout_ms", 10000);
  double bitrate = get_number(doc, "max_bitrate_kbps", 0);
  const cJSON *plain = cJSON_GetObjectItemCaseSensitive(doc, "plain_password");
  const char *why = NULL;
  if (url != NULL && url[0] != '\0' && strncmp(url, "http://", 7) != 0 &&
      strncmp(url, "https://", 8) != 0)
    why = "server_url must start with http:// or https://";
  else if (timeout < 500 || timeout > 120000)
    why = "timeout_ms must be between 500 and 120000";
  else if (bitrate < 0 || bitrate > 2000)
    why = "max_bitrate_kbps must be between 0 and 2000";
  else if (format != NULL && strcmp(format, "original") != 0 && strcmp(format, "mp3") != 0 &&
           strcmp(format, "opus") != 0 && strcmp(format, "ogg") != 0 && strcmp(format, "flac") != 0)
    why = "format must be original, mp3, opus, ogg or flac";
  if (why != NULL) {
    cJSON_Delete(doc);
    st_sdk_set_error(out_error, "%s", why);
    return false;
  }
  out->server_url = strdup(url != NULL ? url : "");
  out->username = strdup(user != NULL ? user : "");
  out->password = strdup(pass != NULL ? pass : "");
  out->format = strdup(format != NULL ? format : "original");
  out->plain_password = cJSON_IsTrue(plain);
  out->timeout_ms = (uint32_t)timeout;
  out->max_bitrate_kbps = (uint32_t)bitrate;
  cJSON_Delete(doc);
  if (out->server_url == NULL || out->username == NULL || out->password == NULL ||
      out->format == NULL) {
    config_free(out);
    st_sdk_set_error(out_error, "out of memory");
    return false;
  }
  size_t n = strlen(out->server_url);
  while (n > 0 && out->server_url[n - 1] == '/') out->server_url[--n] = '\0';
  return true;
}

static bool config_copy(const subsonic_config_t *from, subsonic_config_t *to) {
  to->server_url = strdup(from->server_url);
  to->username = strdup(from->username);
  to->password = strdup(from->password);
  to->format = strdup(from->format);
  to->plain_password = from->plain_password;
  to->timeout_ms = from->timeout_ms;
  to->max_bitrate_kbps = from->max_bitrate_kbps;
  if (to->server_url == NULL || to->username == NULL || to->password == NULL ||
      to->format == NULL) {
    config_free(to);
    return false;
  }
  return true;
}

/* ---- Requests ----------------------------------------------------------------------------- */

/* A salt per request: 6 random bytes as hex (urandom or the system RNG on Windows, else the
 * clock and a counter). */
static void make_salt(char out[13]) {
  static atomic_uint counter;
  unsigned char bytes[6];
#ifdef _WIN32
  bool random_ok = BCryptGenRandom(NULL, bytes, sizeof bytes, BCRYPT_USE_SYSTEM_PREFERRED_RNG) == 0;
#else
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  ssize_t got = fd >= 0 ? read(fd, bytes, sizeof bytes) : -1;
  if (fd >= 0) close(fd);
  bool random_ok = got == (ssize_t)sizeof bytes;
#endif
  if (!random_ok) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned mix = (unsigned)ts.tv_nsec ^ (unsigned)ts.tv_sec * 2654435761u ^
                   atomic_fetch_add(&counter, 1u) * 40503u;
    for (size_t i = 0; i < sizeof bytes; i++) bytes[i] = (unsigned char)(mix >> (i * 5));
  }
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < sizeof bytes; i++) {
    out[i * 2] = hex[bytes[i] >> 4];
    out[i * 2 + 1] = hex[bytes[i] & 15];
  }
  out[12] = '\0';
}

/* Starts "<server>/rest/<method>?u=…&<auth>&v=…&c=…&f=json" in b. */
static void begin_url(st_http_buf_t *b, const subsonic_config_t *c, const char *method) {
  st_http_buf_addf(b, "%s/rest/%s", c->server_url, method);
  st_http_buf_param(b, "u", c->username);
  if (c->plain_password) {
    static const char hex[] = "0123456789abcdef";
    size_t n = strlen(c->password);
    char *enc = malloc(4 + n * 2 + 1);
    if (enc == NULL) {
      b->broken = true;
      return;
    }
    memcpy(enc, "enc:", 4);
    for (size_t i = 0; i < n; i++) {
      enc[4 + i * 2] = hex[(unsigned char)c->password[i] >> 4];
      enc[4 + i * 2 + 1] = hex[(unsigned char)c->password[i] & 15];
    }
    enc[4 + n * 2] = '\0';
    st_http_buf_param(b, "p", enc);
    free(enc);
    st_http_buf_param(b, "v", "1.12.0");
  } else {
    char salt[13], token[33];
    make_salt(salt);
    size_t n = strlen(c->password);
    char *joined = malloc(n + sizeof salt);
    if (joined == NULL) {
      b->broken = true;
      return;
    }
    memcpy(joined, c->password, n);
    memcpy(joined + n, salt, sizeof salt);
    md5_hex(joined, n + 12, token);
    free(joined);
    st_http_buf_param(b, "t", token);
    st_http_buf_param(b, "s", salt);
    st_http_buf_param(b, "v", "1.13.0");
  }
  st_http_buf_param(b, "c", CLIENT_NAME);
  st_http_buf_param(b, "f", "json");
}

static void param_int(st_http_buf_t *b, const char *name, long value) {
  char text[32];
  snprintf(text, sizeof text, "%ld", value);
  st_http_buf_param(b, name, text);
}

static st_status_t subsonic_error_status(int code) {
  switch (code) {
    case 10: return ST_ERR_INVALID_ARG;
    case 20:
    case 30: return ST_ERR_UNSUPPORTED;
    case 40:
    case 41:
    case 50:
    case 60: return ST_ERR_AUTH;
    case 70: return ST_ERR_NOT_FOUND;
    default: return ST_ERR_IO;
  }
}

/* Fails the op with the Subsonic error in `envelope` ("subsonic-response" with status failed). */
static void fail_with_subsonic_error(st_sdk_op_t *op, const subsonic_config_t *c,
                                     const cJSON *envelope) {
  const cJSON *error = cJSON_GetObjectItemCaseSensitive(envelope, "error");
  int code = (int)get_number(error, "code", 0);
  const char *message = get_string(error, "message");
  const char *hint = "";
  if (!c->plain_password && (code == 41 || code == 10 || code == 40))
    hint = " (if this server has no token authentication, e.g. Supysonic, turn on "
           "\"plain_password\")";
  st_sdk_op_fail(op, subsonic_error_status(code), "the server refused: %s [Subsonic error %d]%s",
                 message != NULL ? message : "no message", code, hint);
}

/* GETs `url` and returns the "subsonic-response" object's document (caller deletes *out_doc), or
 * NULL after failing the op. */
static const cJSON *call_api(st_sdk_op_t *op, const subsonic_config_t *c, char *url,
                             cJSON **out_doc) {
  *out_doc = NULL;
  if (url == NULL) {
    st_sdk_op_fail(op, ST_ERR_INTERNAL, "out of memory");
    return NULL;
  }
  st_http_opts_t opts = {c->timeout_ms, MAX_JSON_BYTES, CLIENT_NAME "/" PLUGIN_VERSION};
  st_http_response_t res;
  char err[CURL_ERROR_SIZE + 128];
  st_status_t st = st_http_get(op, url, &opts, &res, err, sizeof err);
  free(url);
  if (st != ST_OK) {
    if (st != ST_ERR_CANCELLED)
      st_sdk_op_fail(op, st, "%s: %s", c->server_url, err);
    return NULL;
  }
  cJSON *doc = cJSON_ParseWithLength(res.body, res.len);
  const cJSON *envelope = cJSON_GetObjectItemCaseSensitive(doc, "subsonic-response");
  long http = res.status;
  st_http_response_free(&res);
  if (cJSON_IsObject(envelope)) {
    const char *status = get_string(envelope, "status");
    if (status != NULL && strcmp(status, "ok") == 0 && http >= 200 && http < 300) {
      *out_doc = doc;
      return envelope;
    }
    if (status != NULL && strcmp(status, "failed") == 0) {
      fail_with_subsonic_error(op, c, envelope);
      cJSON_Delete(doc);
      return NULL;
    }
  }
  cJSON_Delete(doc);
  st_status_t mapped = st_http_status_code(http);
  if (mapped != ST_OK)
    st_sdk_op_fail(op, mapped, "%s answered HTTP %ld", c->server_url, http);
  else
    st_sdk_op_fail(op, ST_ERR_IO, "%s sent a malformed answer (not a Subsonic JSON response)",
                   c->server_url);
  return NULL;
}

/* ---- Items -------------------------------------------------------------------------------- */

static void add_str(cJSON *item, const char *name, const char *value) {
  if (value != NULL && value[0] != '\0') cJSON_AddStringToObject(item, name, value);
}

static void add_prefixed(cJSON *item, const char *name, const char *prefix, const char *value) {
  if (value == NULL) return;
  char *id = malloc(strlen(prefix) + strlen(value) + 1);
  if (id == NULL) return;
  strcpy(id, prefix);
  strcat(id, value);
  cJSON_AddStringToObject(item, name, id);
  free(id);
}

/* The id as a string: servers send strings, some old ones numbers. */
static const char *id_of(const cJSON *obj, const char *name, char *scratch, size_t len) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
  if (cJSON_IsString(v)) return v->valuestring;
  if (cJSON_IsNumber(v)) {
    snprintf(scratch, len, "%.0f", v->valuedouble);
    return scratch;
  }
  return NULL;
}

static void add_cover(cJSON *item, const subsonic_config_t *c, const cJSON *obj) {
  char scratch[32];
  const char *cover = id_of(obj, "coverArt", scratch, sizeof scratch);
  if (cover == NULL) return;
  st_http_buf_t b = {0};
  begin_url(&b, c, "getCoverArt");
  st_http_buf_param(&b, "id", cover);
  char *url = st_http_buf_take(&b);
  if (url != NULL) cJSON_AddStringToObject(item, "cover_url", url);
  free(url);
}

static void add_int(cJSON *item, const char *name, const cJSON *obj, const char *key,
                    double scale) {
  double v = get_number(obj, key, -1);
  if (v >= 0) cJSON_AddNumberToObject(item, name, (double)(long long)(v * scale));
}

static cJSON *song_item(const subsonic_config_t *c, const cJSON *song) {
  char s1[32], s2[32], s3[32];
  const char *id = id_of(song, "id", s1, sizeof s1);
  if (id == NULL) return NULL;
  cJSON *item = cJSON_CreateObject();
  add_prefixed(item, "id", "tr:", id);
  cJSON_AddStringToObject(item, "kind", "track");
  cJSON_AddStringToObject(item, "song_id", id);
  const char *title = get_string(song, "title");
  add_str(item, "title", title != NULL ? title : id);
  add_str(item, "artist", get_string(song, "artist"));
  add_str(item, "album", get_string(song, "album"));
  add_str(item, "album_id", id_of(song, "albumId", s2, sizeof s2));
  add_str(item, "artist_id", id_of(song, "artistId", s3, sizeof s3));
  add_int(item, "duration_ms", song, "duration", 1000);
  add_int(item, "track_no", song, "track", 1);
  add_int(item, "disc_no", song, "discNumber", 1);
  add_int(item, "year", song, "year", 1);
  add_str(item, "genre", get_string(song, "genre"));
  add_str(item, "suffix", get_string(song, "suffix"));
  add_str(item, "content_type", get_string(song, "contentType"));
  add_int(item, "size", song, "size", 1);
  add_int(item, "bitrate_kbps", song, "bitRate", 1);
  add_cover(item, c, song);
  return item;
}

static cJSON *album_item(const subsonic_config_t *c, const cJSON *album) {
  char s1[32], s2[32];
  const char *id = id_of(album, "id", s1, sizeof s1);
  if (id == NULL) return NULL;
  cJSON *item = cJSON_CreateObject();
  add_prefixed(item, "id", "al:", id);
  cJSON_AddStringToObject(item, "kind", "album");
  cJSON_AddStringToObject(item, "album_id", id);
  const char *name = get_string(album, "name");
  add_str(item, "title", name != NULL ? name : get_string(album, "title"));
  add_str(item, "artist", get_string(album, "artist"));
  add_str(item, "artist_id", id_of(album, "artistId", s2, sizeof s2));
  add_int(item, "duration_ms", album, "duration", 1000);
  add_int(item, "song_count", album, "songCount", 1);
  add_int(item, "year", album, "year", 1);
  add_str(item, "genre", get_string(album, "genre"));
  add_cover(item, c, album);
  return item;
}

static cJSON *artist_item(const subsonic_config_t *c, const cJSON *artist) {
  char s1[32];
  const char *id = id_of(artist, "id", s1, sizeof s1);
  if (id == NULL) return NULL;
  cJSON *item = cJSON_CreateObject();
  add_prefixed(item, "id", "ar:", id);
  cJSON_AddStringToObject(item, "kind", "artist");
  cJSON_AddStringToObject(item, "artist_id", id);
  add_str(item, "title", get_string(artist, "name"));
  add_int(item, "album_count", artist, "albumCount", 1);
  add_cover(item, c, artist);
  return item;
}

static cJSON *playlist_item(const subsonic_config_t *c, const cJSON *pl) {
  char s1[32];
  const char *id = id_of(pl, "id", s1, sizeof s1);
  if (id == NULL) return NULL;
  cJSON *item = cJSON_CreateObject();
  add_prefixed(item, "id", "pl:", id);
  cJSON_AddStringToObject(item, "kind", "playlist");
  cJSON_AddStringToObject(item, "playlist_id", id);
  add_str(item, "title", get_string(pl, "name"));
  add_str(item, "artist", get_string(pl, "owner"));
  add_int(item, "duration_ms", pl, "duration", 1000);
  add_int(item, "song_count", pl, "songCount", 1);
  add_cover(item, c, pl);
  return item;
}

static cJSON *folder_item(const char *id, const char *title) {
  cJSON *item = cJSON_CreateObject();
  cJSON_AddStringToObject(item, "id", id);
  cJSON_AddStringToObject(item, "kind", "folder");
  cJSON_AddStringToObject(item, "title", title);
  return item;
}

typedef cJSON *(*item_fn)(const subsonic_config_t *c, const cJSON *obj);

/* Appends an item per element of parent[name] (an array, or one object as some servers send for
 * a single element); returns how many. */
static int add_items(cJSON *items, const subsonic_config_t *c, const cJSON *parent,
                     const char *name, item_fn make) {
  const cJSON *list = cJSON_GetObjectItemCaseSensitive(parent, name);
  int count = 0;
  if (cJSON_IsObject(list)) {
    cJSON *item = make(c, list);
    if (item != NULL) cJSON_AddItemToArray(items, item), count++;
    return count;
  }
  const cJSON *el;
  cJSON_ArrayForEach(el, list) {
    cJSON *item = make(c, el);
    if (item != NULL) cJSON_AddItemToArray(items, item), count++;
  }
  return count;
}

/* ---- list_items --------------------------------------------------------------------------- */

typedef enum list_action {
  ACT_BROWSE_ROOT,
  ACT_SEARCH,
  ACT_ALBUMS,
  ACT_ALBUM,
  ACT_ARTISTS,
  ACT_ARTIST,
  ACT_PLAYLISTS,
  ACT_PLAYLIST,
  ACT_PING,
} list_action_t;

typedef struct list_job {
  subsonic_config_t config;
  st_status_t error_code; /* a request refused at begin, failed in the work */
  char error[160];
  list_action_t action;
  char *id; /* the server's id (prefix stripped) */
  char *query;
  char *type;
  char *genre;
  long from_year, to_year;
  long offset, limit;
} list_job_t;

static void list_job_free(void *ctx) {
  list_job_t *job = ctx;
  config_free(&job->config);
  free(job->id);
  free(job->query);
  free(job->type);
  free(job->genre);
  free(job);
}

static void complete_items(st_sdk_op_t *op, cJSON *out) {
  char *text = cJSON_PrintUnformatted(out);
  cJSON_Delete(out);
  if (text == NULL) st_sdk_op_fail(op, ST_ERR_INTERNAL, "out of memory");
  else st_sdk_op_complete_json_owned(op, text, strlen(text));
}

static cJSON *new_result(cJSON **out_items) {
  cJSON *out = cJSON_CreateObject();
  *out_items = cJSON_AddArrayToObject(out, "items");
  return out;
}

static void list_work(st_sdk_op_t *op, void *ctx) {
  list_job_t *job = ctx;
  const subsonic_config_t *c = &job->config;
  if (job->error_code != ST_OK) {
    st_sdk_op_fail(op, job->error_code, "%s", job->error);
    return;
  }
  if (job->action == ACT_BROWSE_ROOT) {
    cJSON *items;
    cJSON *out = new_result(&items);
    cJSON_AddItemToArray(items, folder_item("menu:albums", "Albums"));
    cJSON_AddItemToArray(items, folder_item("menu:artists", "Artists"));
    cJSON_AddItemToArray(items, folder_item("menu:playlists", "Playlists"));
    complete_items(op, out);
    return;
  }
  if (c->server_url[0] == '\0') {
    st_sdk_op_fail(op, ST_ERR_INVALID_ARG, "no server configured: set server_url, username and "
                                           "password in the plugin's settings");
    return;
  }
  st_http_buf_t b = {0};
  switch (job->action) {
    case ACT_PING: begin_url(&b, c, "ping"); break;
    case ACT_SEARCH:
      begin_url(&b, c, "search3");
      st_http_buf_param(&b, "query", job->query != NULL ? job->query : "");
      param_int(&b, "artistCount", job->limit);
      param_int(&b, "artistOffset", job->offset);
      param_int(&b, "albumCount", job->limit);
      param_int(&b, "albumOffset", job->offset);
      param_int(&b, "songCount", job->limit);
      param_int(&b, "songOffset", job->offset);
      break;
    case ACT_ALBUMS:
      begin_url(&b, c, "getAlbumList2");
      st_http_buf_param(&b, "type", job->type != NULL ? job->type : "alphabeticalByName");
      param_int(&b, "size", job->limit);
      param_int(&b, "offset", job->offset);
      if (job->type != NULL && strcmp(job->type, "byYear") == 0) {
        param_int(&b, "fromYear", job->from_year);
        param_int(&b, "toYear", job->to_year);
      }
      if (job->genre != NULL) st_http_buf_param(&b, "genre", job->genre);
      break;
    case ACT_ALBUM:
      begin_url(&b, c, "getAlbum");
      st_http_buf_param(&b, "id", job->id);
      break;
    case ACT_ARTISTS: begin_url(&b, c, "getArtists"); break;
    case ACT_ARTIST:
      begin_url(&b, c, "getArtist");
      st_http_buf_param(&b, "id", job->id);
      break;
    case ACT_PLAYLISTS: begin_url(&b, c, "getPlaylists"); break;
    case ACT_PLAYLIST:
      begin_url(&b, c, "getPlaylist");
      st_http_buf_param(&b, "id", job->id);
      break;
    case ACT_BROWSE_ROOT: break;
  }
  cJSON *doc;
  const cJSON *r = call_api(op, c, st_http_buf_take(&b), &doc);
  if (r == NULL) return;

  cJSON *items;
  cJSON *out = new_result(&items);
  bool full_page = false; /* another page may follow */
  switch (job->action) {
    case ACT_PING: {
      cJSON *server = cJSON_AddObjectToObject(out, "server");
      add_str(server, "api_version", get_string(r, "version"));
      add_str(server, "type", get_string(r, "type"));
      add_str(server, "server_version", get_string(r, "serverVersion"));
      cJSON_AddBoolToObject(server, "open_subsonic",
                            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "openSubsonic")));
      cJSON_AddBoolToObject(out, "ok", true);
      break;
    }
    case ACT_SEARCH: {
      const cJSON *res = cJSON_GetObjectItemCaseSensitive(r, "searchResult3");
      int a = add_items(items, c, res, "artist", artist_item);
      int al = add_items(items, c, res, "album", album_item);
      int s = add_items(items, c, res, "song", song_item);
      full_page = a >= job->limit || al >= job->limit || s >= job->limit;
      break;
    }
    case ACT_ALBUMS: {
      const cJSON *res = cJSON_GetObjectItemCaseSensitive(r, "albumList2");
      full_page = add_items(items, c, res, "album", album_item) >= job->limit;
      break;
    }
    case ACT_ALBUM: {
      const cJSON *album = cJSON_GetObjectItemCaseSensitive(r, "album");
      add_items(items, c, album, "song", song_item);
      cJSON *head = album_item(c, album);
      if (head != NULL) cJSON_AddItemToObject(out, "album", head);
      break;
    }
    case ACT_ARTISTS: {
      /* getArtists is one index for the whole server; page through it here. */
      cJSON *all = cJSON_CreateArray();
      const cJSON *index;
      cJSON_ArrayForEach(index, cJSON_GetObjectItemCaseSensitive(
                                    cJSON_GetObjectItemCaseSensitive(r, "artists"), "index")) {
        add_items(all, c, index, "artist", artist_item);
      }
      int n = cJSON_GetArraySize(all);
      for (long i = job->offset; i < n && i < job->offset + job->limit; i++)
        cJSON_AddItemToArray(items, cJSON_DetachItemFromArray(all, (int)job->offset));
      full_page = job->offset + job->limit < n;
      cJSON_AddNumberToObject(out, "total", n);
      cJSON_Delete(all);
      break;
    }
    case ACT_ARTIST: {
      const cJSON *artist = cJSON_GetObjectItemCaseSensitive(r, "artist");
      add_items(items, c, artist, "album", album_item);
      cJSON *head = artist_item(c, artist);
      if (head != NULL) cJSON_AddItemToObject(out, "artist", head);
      break;
    }
    case ACT_PLAYLISTS:
      add_items(items, c, cJSON_GetObjectItemCaseSensitive(r, "playlists"), "playlist",
                playlist_item);
      break;
    case ACT_PLAYLIST: {
      const cJSON *pl = cJSON_GetObjectItemCaseSensitive(r, "playlist");
      add_items(items, c, pl, "entry", song_item);
      cJSON *head = playlist_item(c, pl);
      if (head != NULL) cJSON_AddItemToObject(out, "playlist", head);
      break;
    }
    case ACT_BROWSE_ROOT: break;
  }
  if (full_page) cJSON_AddNumberToObject(out, "next_offset", (double)(job->offset + job->limit));
  cJSON_Delete(doc);
  complete_items(op, out);
}

/* The server id behind an item id: "al:123" -> "123" (the prefix must match when present). */
static const char *strip_prefix(const char *id, const char *prefix) {
  size_t n = strlen(prefix);
  return strncmp(id, prefix, n) == 0 ? id + n : id;
}

/* Fills the job from a request; a malformed request becomes an error the work reports. */
static void list_job_parse(list_job_t *job, const st_str_t *request_json) {
  cJSON *req = request_json != NULL && request_json->ptr != NULL && request_json->len > 0
                   ? cJSON_ParseWithLength(request_json->ptr, request_json->len)
                   : cJSON_CreateObject();
  if (!cJSON_IsObject(req)) {
    job->error_code = ST_ERR_INVALID_ARG;
    snprintf(job->error, sizeof job->error, "the request is not a JSON object");
    cJSON_Delete(req);
    return;
  }
  const char *action = get_string(req, "action");
  const char *id = get_string(req, "id");
  const char *query = get_string(req, "query");
  const char *type = get_string(req, "type");
  const char *genre = get_string(req, "genre");
  job->offset = (long)get_number(req, "offset", 0);
  job->limit = (long)get_number(req, "limit", DEFAULT_LIMIT);
  job->from_year = (long)get_number(req, "fromYear", 0);
  job->to_year = (long)get_number(req, "toYear", 9999);
  if (job->offset < 0) job->offset = 0;
  if (job->limit <= 0) job->limit = DEFAULT_LIMIT;
  if (job->limit > MAX_LIMIT) job->limit = MAX_LIMIT;
  if (action == NULL || action[0] == '\0') action = "browse";

  const char *need_id = NULL;
  if (strcmp(action, "browse") == 0) {
    if (id == NULL || id[0] == '\0') job->action = ACT_BROWSE_ROOT;
    else if (strcmp(id, "menu:albums") == 0) job->action = ACT_ALBUMS;
    else if (strcmp(id, "menu:artists") == 0) job->action = ACT_ARTISTS;
    else if (strcmp(id, "menu:playlists") == 0) job->action = ACT_PLAYLISTS;
    else if (strncmp(id, "al:", 3) == 0) job->action = ACT_ALBUM, need_id = id + 3;
    else if (strncmp(id, "ar:", 3) == 0) job->action = ACT_ARTIST, need_id = id + 3;
    else if (strncmp(id, "pl:", 3) == 0) job->action = ACT_PLAYLIST, need_id = id + 3;
    else {
      job->error_code = ST_ERR_INVALID_ARG;
      snprintf(job->error, sizeof job->error, "cannot browse '%.80s' (not a folder item)", id);
    }
  } else if (strcmp(action, "search") == 0) {
    job->action = ACT_SEARCH;
  } else if (strcmp(action, "albums") == 0) {
    job->action = ACT_ALBUMS;
  } else if (strcmp(action, "artists") == 0) {
    job->action = ACT_ARTISTS;
  } else if (strcmp(action, "playlists") == 0) {
    job->action = ACT_PLAYLISTS;
  } else if (strcmp(action, "ping") == 0) {
    job->action = ACT_PING;
  } else if (strcmp(action, "album") == 0 || strcmp(action, "artist") == 0 ||
             strcmp(action, "playlist") == 0) {
    job->action = action[1] == 'l' && action[2] == 'b' ? ACT_ALBUM
                  : action[1] == 'r'                  ? ACT_ARTIST
                                                      : ACT_PLAYLIST;
    const char *prefix = job->action == ACT_ALBUM ? "al:" : job->action == ACT_ARTIST ? "ar:" : "pl:";
    need_id = id != NULL ? strip_prefix(id, prefix) : "";
  } else {
    job->error_code = ST_ERR_UNSUPPORTED;
    snprintf(job->error, sizeof job->error,
             "unknown action '%.40s' (browse, search, albums, album, artists, artist, "
             "playlists, playlist, ping)", action);
  }
  if (job->error_code == ST_OK && need_id != NULL) {
    if (need_id[0] == '\0') {
      job->error_code = ST_ERR_INVALID_ARG;
      snprintf(job->error, sizeof job->error, "action '%s' needs an \"id\"", action);
    } else {
      job->id = strdup(need_id);
    }
  }
  if (query != NULL) job->query = strdup(query);
  if (type != NULL && type[0] != '\0') job->type = strdup(type);
  if (genre != NULL && genre[0] != '\0') job->genre = strdup(genre);
  cJSON_Delete(req);
}

/* ---- open_stream -------------------------------------------------------------------------- */

typedef struct open_job {
  subsonic_config_t config;
  st_status_t error_code;
  char error[160];
  char *song_id;
  char *suffix; /* from the item, the fallback when the response's Content-Type says nothing */
  char *meta;   /* the item's display fields as JSON, merged into the stream metadata */
} open_job_t;

static void open_job_free(void *ctx) {
  open_job_t *job = ctx;
  config_free(&job->config);
  free(job->song_id);
  free(job->suffix);
  free(job->meta);
  free(job);
}

/* The decoder extension for a Content-Type, or NULL. */
static const char *ext_for_type(const char *type) {
  static const struct {
    const char *mime, *ext;
  } k_types[] = {
      {"audio/flac", "flac"},  {"audio/x-flac", "flac"}, {"audio/mpeg", "mp3"},
      {"audio/mp3", "mp3"},    {"audio/ogg", "ogg"},     {"application/ogg", "ogg"},
      {"audio/vorbis", "ogg"}, {"audio/opus", "opus"},   {"audio/wav", "wav"},
      {"audio/x-wav", "wav"},  {"audio/wave", "wav"},    {"audio/aiff", "aiff"},
      {"audio/x-aiff", "aiff"}, {"audio/mp4", "m4a"},    {"audio/aac", "aac"},
  };
  for (size_t i = 0; i < ST_SDK_COUNTOF(k_types); i++) {
    size_t n = strlen(k_types[i].mime);
    if (strncasecmp(type, k_types[i].mime, n) == 0 && (type[n] == '\0' || type[n] == ';'))
      return k_types[i].ext;
  }
  return NULL;
}

static void open_work(st_sdk_op_t *op, void *ctx) {
  open_job_t *job = ctx;
  const subsonic_config_t *c = &job->config;
  if (job->error_code != ST_OK) {
    st_sdk_op_fail(op, job->error_code, "%s", job->error);
    return;
  }
  if (c->server_url[0] == '\0') {
    st_sdk_op_fail(op, ST_ERR_INVALID_ARG, "no server configured");
    return;
  }
  bool transcode = strcmp(c->format, "original") != 0;
  st_http_buf_t b = {0};
  begin_url(&b, c, "stream");
  st_http_buf_param(&b, "id", job->song_id);
  if (transcode) st_http_buf_param(&b, "format", c->format);
  else if (c->max_bitrate_kbps == 0) st_http_buf_param(&b, "format", "raw");
  if (c->max_bitrate_kbps > 0) param_int(&b, "maxBitRate", (long)c->max_bitrate_kbps);
  char *url = st_http_buf_take(&b);
  if (url == NULL) {
    st_sdk_op_fail(op, ST_ERR_INTERNAL, "out of memory");
    return;
  }
  st_http_opts_t opts = {c->timeout_ms, 0, CLIENT_NAME "/" PLUGIN_VERSION};
  http_stream_t *stream = NULL;
  char *error_body = NULL;
  char err[CURL_ERROR_SIZE + 128];
  st_status_t st = http_stream_open(op, url, &opts, &stream, &error_body, err, sizeof err);
  free(url);
  if (st != ST_OK) {
    cJSON *doc = error_body != NULL ? cJSON_Parse(error_body) : NULL;
    const cJSON *envelope = cJSON_GetObjectItemCaseSensitive(doc, "subsonic-response");
    if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(envelope, "error")))
      fail_with_subsonic_error(op, c, envelope);
    else if (st != ST_ERR_CANCELLED)
      st_sdk_op_fail(op, st, "streaming track %s from %s: %s", job->song_id, c->server_url, err);
    cJSON_Delete(doc);
    free(error_body);
    return;
  }
  const char *type = http_stream_content_type(stream);
  const char *ext = ext_for_type(type);
  if (ext == NULL) ext = transcode ? c->format : job->suffix;
  cJSON *meta = job->meta != NULL ? cJSON_Parse(job->meta) : NULL;
  if (!cJSON_IsObject(meta)) {
    cJSON_Delete(meta);
    meta = cJSON_CreateObject();
  }
  cJSON_DeleteItemFromObjectCaseSensitive(meta, "ext");
  cJSON_AddStringToObject(meta, "ext", ext != NULL ? ext : "");
  if (type[0] != '\0') cJSON_AddStringToObject(meta, "mime", type);
  if (http_stream_length(stream) >= 0)
    cJSON_AddNumberToObject(meta, "size", (double)http_stream_length(stream));
  cJSON_AddBoolToObject(meta, "transcoded", transcode || c->max_bitrate_kbps > 0);
  cJSON_AddBoolToObject(meta, "spooled", http_stream_spooled(stream));
  char *text = cJSON_PrintUnformatted(meta);
  cJSON_Delete(meta);
  st_stream_t s = {stream, &http_stream_io};
  st_sdk_op_complete_stream(op, s, text != NULL ? text : "{}", text != NULL ? strlen(text) : 2,
                            http_stream_close);
  free(text);
}

static void open_job_parse(open_job_t *job, const st_str_t *track_json) {
  cJSON *track = track_json != NULL && track_json->ptr != NULL && track_json->len > 0
                     ? cJSON_ParseWithLength(track_json->ptr, track_json->len)
                     : NULL;
  const char *song = get_string(track, "song_id");
  const char *id = get_string(track, "id");
  if (song == NULL && id != NULL) song = strip_prefix(id, "tr:");
  if (!cJSON_IsObject(track) || song == NULL || song[0] == '\0' ||
      (id != NULL && get_string(track, "song_id") == NULL && strchr(id, ':') != NULL &&
       strncmp(id, "tr:", 3) != 0)) {
    job->error_code = ST_ERR_INVALID_ARG;
    snprintf(job->error, sizeof job->error,
             "open_stream needs a track item from list_items (with \"song_id\" or a \"tr:\" id)");
    cJSON_Delete(track);
    return;
  }
  job->song_id = strdup(song);
  const char *suffix = get_string(track, "suffix");
  if (suffix != NULL) job->suffix = strdup(suffix);
  cJSON *meta = cJSON_CreateObject();
  static const char *const k_keep[] = {"title", "artist", "album", "duration_ms", "track_no",
                                       "cover_url"};
  for (size_t i = 0; i < ST_SDK_COUNTOF(k_keep); i++) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(track, k_keep[i]);
    if (v != NULL) cJSON_AddItemToObject(meta, k_keep[i], cJSON_Duplicate(v, true));
  }
  job->meta = cJSON_PrintUnformatted(meta);
  cJSON_Delete(meta);
  cJSON_Delete(track);
}

/* ---- The instance ------------------------------------------------------------------------- */

typedef struct subsonic_source {
  pthread_mutex_t lock; /* guards config against a hot apply while a begin copies it */
  subsonic_config_t config;
} subsonic_source_t;

static bool snapshot_config(subsonic_source_t *src, subsonic_config_t *out) {
  pthread_mutex_lock(&src->lock);
  bool ok = config_copy(&src->config, out);
  pthread_mutex_unlock(&src->lock);
  return ok;
}

/* [control] */
static st_status_t begin_list_items(void *handle, const st_str_t *request_json,
                                    st_async_op_t *out_op) {
  list_job_t *job = calloc(1, sizeof *job);
  if (job == NULL) return ST_ERR_INTERNAL;
  if (!snapshot_config(handle, &job->config)) {
    free(job);
    return ST_ERR_INTERNAL;
  }
  list_job_parse(job, request_json);
  return st_sdk_op_begin_json(list_work, job, list_job_free, out_op);
}

/* [control] */
static st_status_t begin_open_stream(void *handle, const st_str_t *track_json,
                                     st_async_op_t *out_op) {
  open_job_t *job = calloc(1, sizeof *job);
  if (job == NULL) return ST_ERR_INTERNAL;
  if (!snapshot_config(handle, &job->config)) {
    free(job);
    return ST_ERR_INTERNAL;
  }
  open_job_parse(job, track_json);
  return st_sdk_op_begin_stream(open_work, job, open_job_free, out_op);
}

/* Aborts the transfer (no draining). [control] */
static void close_stream(void *handle, void *stream_handle) {
  (void)handle;
  http_stream_close(stream_handle);
}

/* Any valid config applies in place: ops and streams hold their own copies. [control] */
static st_status_t plan_update(void *handle, const st_str_t *new_config, st_config_mode_t *out_mode,
                               st_str_t *out_reason) {
  (void)handle;
  subsonic_config_t next;
  if (!config_parse(new_config, &next, out_reason)) {
    *out_mode = ST_CONFIG_REJECT;
    return ST_OK;
  }
  config_free(&next);
  *out_mode = ST_CONFIG_HOT_APPLY;
  return ST_OK;
}

/* [control] */
static st_status_t apply_update(void *handle, const st_str_t *new_config, st_str_t *out_error) {
  subsonic_source_t *src = handle;
  subsonic_config_t next;
  if (!config_parse(new_config, &next, out_error)) return ST_ERR_INVALID_ARG;
  pthread_mutex_lock(&src->lock);
  subsonic_config_t old = src->config;
  src->config = next;
  pthread_mutex_unlock(&src->lock);
  config_free(&old);
  return ST_OK;
}

/* All state is in the config (every request authenticates afresh). */
static const st_config_vtable_t k_config_vtable = ST_SDK_CONFIG_VTABLE(plan_update, apply_update);

/* [control] */
static void source_destroy(void *handle) {
  subsonic_source_t *src = handle;
  config_free(&src->config);
  pthread_mutex_destroy(&src->lock);
  free(src);
}

static const st_source_vtable_t k_source_vtable = {
    {sizeof(st_source_vtable_t), ST_CAP_SOURCE_CATALOG, &k_config_vtable, source_destroy},
    begin_list_items, begin_open_stream, close_stream};

/* ---- The module --------------------------------------------------------------------------- */

static st_status_t create_instance(const st_instance_args_t *args, st_instance_t *out,
                                   st_str_t *out_error) {
  if (args->kind != ST_CAP_SOURCE_CATALOG || !st_sdk_str_eq(&args->type_id, TYPE_ID))
    return st_sdk_error(out_error, ST_ERR_INVALID_ARG, "no capability '%.*s'",
                        (int)args->type_id.len, args->type_id.ptr != NULL ? args->type_id.ptr : "");
  subsonic_source_t *src = calloc(1, sizeof *src);
  if (src == NULL) return ST_ERR_INTERNAL;
  if (!config_parse(&args->config_json, &src->config, out_error)) {
    free(src);
    return ST_ERR_INVALID_ARG;
  }
  pthread_mutex_init(&src->lock, NULL);
  out->handle = src;
  out->vtable = &k_source_vtable.base;
  return ST_OK;
}



static const st_capability_t k_subsonic = ST_SDK_CAPABILITY(
    ST_CAP_SOURCE_CATALOG, TYPE_ID, "Subsonic server", k_schema, k_default_config);
static const st_capability_t *const k_caps[] = {&k_subsonic};

ST_SDK_PLUGIN_EX("{\"id\":\"dev.stellatune.subsonic\",\"name\":\"Subsonic\","
                 "\"version\":\"" PLUGIN_VERSION "\",\"abi_version\":9,"
                 "\"description\":\"Browse, search and stream a Subsonic-compatible server "
                 "(Subsonic, OpenSubsonic, Navidrome, Airsonic, Gonic, Supysonic).\","
                 "\"author\":\"StellaTune\"}",
                 k_caps, create_instance, st_http_module_entry, st_http_module_shutdown)
