/* md5.h — MD5 (RFC 1321), only for the Subsonic API's token authentication:
 * token = hex(md5(password + salt)). Not a security primitive anywhere else. */
#ifndef SUBSONIC_MD5_H
#define SUBSONIC_MD5_H

#include <stddef.h>

/* Writes the 32 lowercase hex digits of md5(data) and a NUL into out_hex. */
void md5_hex(const void *data, size_t len, char out_hex[33]);

#endif
