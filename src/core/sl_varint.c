
/*
 * Varints as Kafka writes them: unsigned LEB128 for the compact fields
 * of flexible versions and zigzag for the fields inside records.  A value
 * longer than its type allows, or with bits beyond it, is malformed.
 */


#include <sl_config.h>
#include <sl_core.h>


u_char *
sl_varint_read_u32(u_char *p, u_char *last, uint32_t *v)
{
    u_char     b;
    uint32_t   value;
    sl_uint_t  i;

    value = 0;

    for (i = 0; i < SL_VARINT_MAX32; i++) {

        if (p >= last) {
            return NULL;
        }

        b = *p++;

        if (i == SL_VARINT_MAX32 - 1 && (b & 0xf0)) {
            return NULL;
        }

        value |= (uint32_t) (b & 0x7f) << (7 * i);

        if ((b & 0x80) == 0) {
            *v = value;
            return p;
        }
    }

    return NULL;
}


u_char *
sl_varint_read_u64(u_char *p, u_char *last, uint64_t *v)
{
    u_char     b;
    uint64_t   value;
    sl_uint_t  i;

    value = 0;

    for (i = 0; i < SL_VARINT_MAX64; i++) {

        if (p >= last) {
            return NULL;
        }

        b = *p++;

        if (i == SL_VARINT_MAX64 - 1 && (b & 0xfe)) {
            return NULL;
        }

        value |= (uint64_t) (b & 0x7f) << (7 * i);

        if ((b & 0x80) == 0) {
            *v = value;
            return p;
        }
    }

    return NULL;
}


u_char *
sl_varint_read_s32(u_char *p, u_char *last, int32_t *v)
{
    uint32_t  u;

    p = sl_varint_read_u32(p, last, &u);

    if (p) {
        *v = (int32_t) ((u >> 1) ^ (~(u & 1) + 1));
    }

    return p;
}


u_char *
sl_varint_read_s64(u_char *p, u_char *last, int64_t *v)
{
    uint64_t  u;

    p = sl_varint_read_u64(p, last, &u);

    if (p) {
        *v = (int64_t) ((u >> 1) ^ (~(u & 1) + 1));
    }

    return p;
}


u_char *
sl_varint_write_u32(u_char *p, uint32_t v)
{
    while (v >= 0x80) {
        *p++ = (u_char) (v | 0x80);
        v >>= 7;
    }

    *p++ = (u_char) v;

    return p;
}


u_char *
sl_varint_write_u64(u_char *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (u_char) (v | 0x80);
        v >>= 7;
    }

    *p++ = (u_char) v;

    return p;
}


u_char *
sl_varint_write_s32(u_char *p, int32_t v)
{
    return sl_varint_write_u32(p, ((uint32_t) v << 1)
                                  ^ (uint32_t) (v >> 31));
}


u_char *
sl_varint_write_s64(u_char *p, int64_t v)
{
    return sl_varint_write_u64(p, ((uint64_t) v << 1)
                                  ^ (uint64_t) (v >> 63));
}


size_t
sl_varint_size_u64(uint64_t v)
{
    size_t  n;

    for (n = 1; v >= 0x80; n++) {
        v >>= 7;
    }

    return n;
}


size_t
sl_varint_size_s64(int64_t v)
{
    return sl_varint_size_u64(((uint64_t) v << 1) ^ (uint64_t) (v >> 63));
}
