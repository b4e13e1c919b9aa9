
/*
 * Varints as Kafka writes them: unsigned LEB128 (flexible versions) and
 * zigzag-signed (record fields).  Readers take [p, last) and return the
 * position after the value, or NULL if it is truncated or too long.
 */

#ifndef _SL_VARINT_H_INCLUDED_
#define _SL_VARINT_H_INCLUDED_


#include <sl_config.h>


#define SL_VARINT_MAX32   5
#define SL_VARINT_MAX64   10

u_char *sl_varint_read_u32(u_char *p, u_char *last, uint32_t *v);
u_char *sl_varint_read_u64(u_char *p, u_char *last, uint64_t *v);
u_char *sl_varint_read_s32(u_char *p, u_char *last, int32_t *v);
u_char *sl_varint_read_s64(u_char *p, u_char *last, int64_t *v);

/* writers return the end; callers reserve SL_VARINT_MAX* bytes */
u_char *sl_varint_write_u32(u_char *p, uint32_t v);
u_char *sl_varint_write_u64(u_char *p, uint64_t v);
u_char *sl_varint_write_s32(u_char *p, int32_t v);
u_char *sl_varint_write_s64(u_char *p, int64_t v);
size_t sl_varint_size_u64(uint64_t v);
size_t sl_varint_size_s64(int64_t v);


#endif /* _SL_VARINT_H_INCLUDED_ */
