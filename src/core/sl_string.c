
/*
 * Counted strings, bounded formatting, the decimal parsers and the
 * parsers of configuration values: sizes ("64k") and times ("1h30m").
 */


#include <sl_config.h>
#include <sl_core.h>


static sl_int_t sl_parse_scaled(sl_str_t *line, int64_t max, int64_t *value,
    sl_uint_t allow_t);


static const char  sl_base64_table[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";


void
sl_strlow(u_char *dst, u_char *src, size_t n)
{
    while (n) {
        *dst = sl_tolower(*src);
        dst++;
        src++;
        n--;
    }
}


sl_int_t
sl_strncasecmp(u_char *s1, u_char *s2, size_t n)
{
    sl_uint_t  c1, c2;

    while (n) {
        c1 = sl_tolower(*s1);
        c2 = sl_tolower(*s2);

        if (c1 != c2) {
            return (sl_int_t) c1 - (sl_int_t) c2;
        }

        if (c1 == 0) {
            return 0;
        }

        s1++;
        s2++;
        n--;
    }

    return 0;
}


sl_int_t
sl_strcasecmp(u_char *s1, u_char *s2)
{
    sl_uint_t  c1, c2;

    for ( ;; ) {
        c1 = sl_tolower(*s1);
        c2 = sl_tolower(*s2);

        if (c1 != c2) {
            return (sl_int_t) c1 - (sl_int_t) c2;
        }

        if (c1 == 0) {
            return 0;
        }

        s1++;
        s2++;
    }
}


/* copies at most n - 1 bytes, always terminates, returns the NUL */

u_char *
sl_cpystrn(u_char *dst, u_char *src, size_t n)
{
    if (n == 0) {
        return dst;
    }

    while (--n) {
        *dst = *src;

        if (*dst == '\0') {
            return dst;
        }

        dst++;
        src++;
    }

    *dst = '\0';

    return dst;
}


u_char *
sl_pstrdup(sl_pool_t *pool, sl_str_t *src)
{
    u_char  *dst;

    dst = sl_pnalloc(pool, src->len);
    if (dst == NULL) {
        return NULL;
    }

    sl_memcpy(dst, src->data, src->len);

    return dst;
}


char *
sl_pstrz(sl_pool_t *pool, sl_str_t *src)
{
    u_char  *dst;

    dst = sl_pnalloc(pool, src->len + 1);
    if (dst == NULL) {
        return NULL;
    }

    if (src->len) {
        sl_memcpy(dst, src->data, src->len);
    }

    dst[src->len] = '\0';

    return (char *) dst;
}


u_char *
sl_strlchr(u_char *p, u_char *last, u_char c)
{
    while (p < last) {

        if (*p == c) {
            return p;
        }

        p++;
    }

    return NULL;
}


u_char *
sl_slprintf(u_char *buf, u_char *last, const char *fmt, ...)
{
    u_char   *p;
    va_list   args;

    va_start(args, fmt);
    p = sl_vslprintf(buf, last, fmt, args);
    va_end(args);

    return p;
}


/*
 * vsnprintf() terminates what it writes, so a truncated result holds one
 * byte less than the room; the NUL lands inside [buf, last) and is not
 * part of the result.
 */

u_char *
sl_vslprintf(u_char *buf, u_char *last, const char *fmt, va_list args)
{
    int     n;
    size_t  size;

    if (buf >= last) {
        return buf;
    }

    size = (size_t) (last - buf);

    n = vsnprintf((char *) buf, size, fmt, args);

    if (n < 0) {
        return buf;
    }

    if ((size_t) n >= size) {
        return buf + size - 1;
    }

    return buf + n;
}


sl_int_t
sl_atoi(u_char *line, size_t n)
{
    sl_int_t  value, cutoff, cutlim;

    if (n == 0) {
        return SL_ERROR;
    }

    cutoff = SL_MAX_INT_T_VALUE / 10;
    cutlim = SL_MAX_INT_T_VALUE % 10;

    for (value = 0; n--; line++) {
        if (*line < '0' || *line > '9') {
            return SL_ERROR;
        }

        if (value > cutoff || (value == cutoff && *line - '0' > cutlim)) {
            return SL_ERROR;
        }

        value = value * 10 + (*line - '0');
    }

    return value;
}


off_t
sl_atoof(u_char *line, size_t n)
{
    off_t  value, cutoff, cutlim;

    if (n == 0) {
        return SL_ERROR;
    }

    cutoff = SL_MAX_OFF_T_VALUE / 10;
    cutlim = SL_MAX_OFF_T_VALUE % 10;

    for (value = 0; n--; line++) {
        if (*line < '0' || *line > '9') {
            return SL_ERROR;
        }

        if (value > cutoff || (value == cutoff && *line - '0' > cutlim)) {
            return SL_ERROR;
        }

        value = value * 10 + (*line - '0');
    }

    return value;
}


sl_int_t
sl_hextoi(u_char *line, size_t n)
{
    u_char    c, ch;
    sl_int_t  value, cutoff;

    if (n == 0) {
        return SL_ERROR;
    }

    cutoff = SL_MAX_INT_T_VALUE / 16;

    for (value = 0; n--; line++) {
        if (value > cutoff) {
            return SL_ERROR;
        }

        ch = *line;

        if (ch >= '0' && ch <= '9') {
            value = value * 16 + (ch - '0');
            continue;
        }

        c = (u_char) (ch | 0x20);

        if (c >= 'a' && c <= 'f') {
            value = value * 16 + (c - 'a' + 10);
            continue;
        }

        return SL_ERROR;
    }

    return value;
}


ssize_t
sl_parse_size(sl_str_t *line)
{
    int64_t  value;

    if (sl_parse_scaled(line, SSIZE_MAX, &value, 0) != SL_OK) {
        return SL_ERROR;
    }

    return (ssize_t) value;
}


off_t
sl_parse_offset(sl_str_t *line)
{
    int64_t  value;

    if (sl_parse_scaled(line, SL_MAX_OFF_T_VALUE, &value, 1) != SL_OK) {
        return SL_ERROR;
    }

    return (off_t) value;
}


static sl_int_t
sl_parse_scaled(sl_str_t *line, int64_t max, int64_t *value,
    sl_uint_t allow_t)
{
    off_t     n;
    size_t    len;
    int64_t   scale;

    len = line->len;

    if (len == 0) {
        return SL_ERROR;
    }

    switch (line->data[len - 1]) {

    case 'K':
    case 'k':
        len--;
        scale = 1024;
        break;

    case 'M':
    case 'm':
        len--;
        scale = 1024 * 1024;
        break;

    case 'G':
    case 'g':
        len--;
        scale = 1024 * 1024 * 1024;
        break;

    case 'T':
    case 't':
        if (!allow_t) {
            return SL_ERROR;
        }

        len--;
        scale = (int64_t) 1024 * 1024 * 1024 * 1024;
        break;

    default:
        scale = 1;
    }

    n = sl_atoof(line->data, len);

    if (n == SL_ERROR || n > max / scale) {
        return SL_ERROR;
    }

    *value = n * scale;

    return SL_OK;
}


/*
 * Units must come largest first, each at most once ("1h30m", not
 * "30m1h"); blanks may separate the parts.  A part without a unit counts
 * in the base unit and must be the last.
 */

sl_int_t
sl_parse_time(sl_str_t *line, sl_uint_t is_sec)
{
    u_char     *p, *last;
    int64_t     value, total, scale, max;
    sl_uint_t   valid, base;
    enum {
        st_start = 0,
        st_year,
        st_month,
        st_week,
        st_day,
        st_hour,
        st_min,
        st_sec,
        st_msec,
        st_last
    } step;

    /* totals are counted in milliseconds, even for is_sec */

    max = SL_MAX_INT_T_VALUE;
    valid = 0;
    value = 0;
    total = 0;
    step = st_start;
    base = is_sec ? st_sec : st_msec;

    p = line->data;
    last = p + line->len;

    while (p < last) {

        if (*p >= '0' && *p <= '9') {
            if (step == st_last || value > (max - (*p - '0')) / 10) {
                return SL_ERROR;
            }

            value = value * 10 + (*p++ - '0');
            valid = 1;
            continue;
        }

        if (!valid) {
            return SL_ERROR;
        }

        switch (*p++) {

        case 'y':
            if (step >= st_year) {
                return SL_ERROR;
            }
            step = st_year;
            scale = (int64_t) 365 * 86400 * 1000;
            break;

        case 'M':
            if (step >= st_month) {
                return SL_ERROR;
            }
            step = st_month;
            scale = (int64_t) 30 * 86400 * 1000;
            break;

        case 'w':
            if (step >= st_week) {
                return SL_ERROR;
            }
            step = st_week;
            scale = (int64_t) 7 * 86400 * 1000;
            break;

        case 'd':
            if (step >= st_day) {
                return SL_ERROR;
            }
            step = st_day;
            scale = (int64_t) 86400 * 1000;
            break;

        case 'h':
            if (step >= st_hour) {
                return SL_ERROR;
            }
            step = st_hour;
            scale = (int64_t) 3600 * 1000;
            break;

        case 'm':
            if (p < last && *p == 's') {
                if (is_sec || step >= st_msec) {
                    return SL_ERROR;
                }
                p++;
                step = st_msec;
                scale = 1;
                break;
            }

            if (step >= st_min) {
                return SL_ERROR;
            }
            step = st_min;
            scale = 60 * 1000;
            break;

        case 's':
            if (step >= st_sec) {
                return SL_ERROR;
            }
            step = st_sec;
            scale = 1000;
            break;

        case ' ':
        case '\t':
            /* a number followed by a blank: the base unit, and last */
            if (step >= base) {
                return SL_ERROR;
            }
            step = st_last;
            scale = is_sec ? 1000 : 1;
            break;

        default:
            return SL_ERROR;
        }

        if (value > max / scale || total > max - value * scale) {
            return SL_ERROR;
        }

        total += value * scale;
        value = 0;
        valid = 0;

        while (p < last && (*p == ' ' || *p == '\t')) {
            p++;
        }

        if (step == st_last && p < last) {
            return SL_ERROR;
        }
    }

    if (valid) {
        if (step >= base) {
            return SL_ERROR;
        }

        scale = is_sec ? 1000 : 1;

        if (value > max / scale || total > max - value * scale) {
            return SL_ERROR;
        }

        total += value * scale;

    } else if (step == st_start) {
        return SL_ERROR;
    }

    if (is_sec) {
        return (sl_int_t) (total / 1000);
    }

    return (sl_int_t) total;
}


size_t
sl_base64_encoded_length(size_t len)
{
    return ((len + 2) / 3) * 4;
}


size_t
sl_base64_decoded_length(size_t len)
{
    return ((len + 3) / 4) * 3;
}


void
sl_encode_base64(sl_str_t *dst, sl_str_t *src)
{
    u_char  *d, *s;
    size_t   len;

    len = src->len;
    s = src->data;
    d = dst->data;

    while (len > 2) {
        *d++ = sl_base64_table[(s[0] >> 2) & 0x3f];
        *d++ = sl_base64_table[((s[0] & 3) << 4) | (s[1] >> 4)];
        *d++ = sl_base64_table[((s[1] & 0x0f) << 2) | (s[2] >> 6)];
        *d++ = sl_base64_table[s[2] & 0x3f];

        s += 3;
        len -= 3;
    }

    if (len) {
        *d++ = sl_base64_table[(s[0] >> 2) & 0x3f];

        if (len == 1) {
            *d++ = sl_base64_table[(s[0] & 3) << 4];
            *d++ = '=';

        } else {
            *d++ = sl_base64_table[((s[0] & 3) << 4) | (s[1] >> 4)];
            *d++ = sl_base64_table[(s[1] & 0x0f) << 2];
        }

        *d++ = '=';
    }

    dst->len = d - dst->data;
}


/* dst->data must hold sl_base64_decoded_length(src->len) bytes */

sl_int_t
sl_decode_base64(sl_str_t *dst, sl_str_t *src)
{
    int      c;
    u_char  *d, *s;
    size_t   len, i;
    uint32_t acc;

    len = src->len;
    s = src->data;

    /* padding is optional, but never more than two and only at the end */

    if (len && s[len - 1] == '=') {
        len--;

        if (len && s[len - 1] == '=') {
            len--;
        }
    }

    if (len % 4 == 1) {
        return SL_ERROR;
    }

    d = dst->data;
    acc = 0;

    for (i = 0; i < len; i++) {
        c = s[i];

        if (c >= 'A' && c <= 'Z') {
            c -= 'A';

        } else if (c >= 'a' && c <= 'z') {
            c = c - 'a' + 26;

        } else if (c >= '0' && c <= '9') {
            c = c - '0' + 52;

        } else if (c == '+') {
            c = 62;

        } else if (c == '/') {
            c = 63;

        } else {
            return SL_ERROR;
        }

        acc = (acc << 6) | (uint32_t) c;

        if (i % 4 == 3) {
            *d++ = (u_char) (acc >> 16);
            *d++ = (u_char) (acc >> 8);
            *d++ = (u_char) acc;
            acc = 0;
        }
    }

    switch (len % 4) {

    case 2:
        *d++ = (u_char) (acc >> 4);
        break;

    case 3:
        *d++ = (u_char) (acc >> 10);
        *d++ = (u_char) (acc >> 2);
        break;
    }

    dst->len = d - dst->data;

    return SL_OK;
}


u_char *
sl_hex_dump(u_char *dst, u_char *src, size_t len)
{
    static const u_char  hex[] = "0123456789abcdef";

    while (len--) {
        *dst++ = hex[*src >> 4];
        *dst++ = hex[*src++ & 0xf];
    }

    return dst;
}
