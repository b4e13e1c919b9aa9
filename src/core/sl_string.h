
/*
 * Counted strings and the parsers of configuration values (sizes, times).
 */

#ifndef _SL_STRING_H_INCLUDED_
#define _SL_STRING_H_INCLUDED_


#include <sl_config.h>
#include <sl_core.h>


typedef struct {
    size_t      len;
    u_char     *data;
} sl_str_t;


typedef struct {
    sl_str_t    key;
    sl_str_t    value;
} sl_keyval_t;


#define sl_string(str)     { sizeof(str) - 1, (u_char *) str }
#define sl_null_string     { 0, NULL }
#define sl_str_set(str, text)                                                \
    (str)->len = sizeof(text) - 1; (str)->data = (u_char *) text
#define sl_str_null(str)   (str)->len = 0; (str)->data = NULL

/* printf helpers: sl_log_error(..., "%.*s", SL_STR_ARG(&name)) */
#define SL_STR_ARG(s)      (int) (s)->len, (char *) (s)->data

#define sl_tolower(c)      (u_char) ((c >= 'A' && c <= 'Z') ? (c | 0x20) : c)
#define sl_toupper(c)      (u_char) ((c >= 'a' && c <= 'z') ? (c & ~0x20) : c)

#define sl_strncmp(s1, s2, n)  strncmp((const char *) s1, (const char *) s2, n)
#define sl_strcmp(s1, s2)  strcmp((const char *) s1, (const char *) s2)
#define sl_strstr(s1, s2)  strstr((const char *) s1, (const char *) s2)
#define sl_strlen(s)       strlen((const char *) s)
#define sl_strchr(s1, c)   strchr((const char *) s1, (int) c)
#define sl_memzero(buf, n)       (void) memset(buf, 0, n)
#define sl_memset(buf, c, n)     (void) memset(buf, c, n)
#define sl_memcpy(dst, src, n)   (void) memcpy(dst, src, n)
#define sl_cpymem(dst, src, n)   (((u_char *) memcpy(dst, src, n)) + (n))
#define sl_memmove(dst, src, n)  (void) memmove(dst, src, n)
#define sl_memcmp(s1, s2, n)     memcmp((const char *) s1, (const char *) s2, n)

#define sl_str_eq(s, lit)                                                    \
    ((s)->len == sizeof(lit) - 1 && sl_memcmp((s)->data, lit, (s)->len) == 0)


void sl_strlow(u_char *dst, u_char *src, size_t n);
sl_int_t sl_strncasecmp(u_char *s1, u_char *s2, size_t n);
sl_int_t sl_strcasecmp(u_char *s1, u_char *s2);
u_char *sl_cpystrn(u_char *dst, u_char *src, size_t n);
u_char *sl_pstrdup(sl_pool_t *pool, sl_str_t *src);
/* a NUL-terminated copy, for syscalls that need one */
char *sl_pstrz(sl_pool_t *pool, sl_str_t *src);
u_char *sl_strlchr(u_char *p, u_char *last, u_char c);

/* snprintf into [buf, last), returns the end; never writes past last */
u_char *sl_slprintf(u_char *buf, u_char *last, const char *fmt, ...)
    SL_PRINTF(3, 4);
u_char *sl_vslprintf(u_char *buf, u_char *last, const char *fmt,
    va_list args);

/* decimal parsers: SL_ERROR on an empty string, a non-digit or overflow */
sl_int_t sl_atoi(u_char *line, size_t n);
off_t sl_atoof(u_char *line, size_t n);
sl_int_t sl_hextoi(u_char *line, size_t n);

/* "64", "64k", "1m", "1g" (and "1t" for offsets); SL_ERROR if invalid */
ssize_t sl_parse_size(sl_str_t *line);
off_t sl_parse_offset(sl_str_t *line);
/*
 * "500ms", "30s", "5m", "2h", "7d", "1w", "1y", and combinations such
 * as "1h30m"; a bare number is seconds when is_sec, else milliseconds.
 * Returns milliseconds (or seconds when is_sec), SL_ERROR if invalid.
 */
sl_int_t sl_parse_time(sl_str_t *line, sl_uint_t is_sec);

size_t sl_base64_encoded_length(size_t len);
size_t sl_base64_decoded_length(size_t len);
void sl_encode_base64(sl_str_t *dst, sl_str_t *src);
sl_int_t sl_decode_base64(sl_str_t *dst, sl_str_t *src);
u_char *sl_hex_dump(u_char *dst, u_char *src, size_t len);


#endif /* _SL_STRING_H_INCLUDED_ */
