
/*
 * The Kafka wire primitives in one place: big-endian integers, classic
 * and compact (flexible) strings, bytes and arrays, unsigned varints and
 * tag sections, and the request and response headers.
 *
 * A reader (sl_kafka_rd_t) walks [pos, last) and never reads past last:
 * a short or malformed field sets rd->failed, and every later read then
 * returns zeroes, so a decoder checks once at the end.  A writer
 * (sl_kafka_wr_t) appends to a chain of pool buffers and can splice in
 * a chain of file buffers (records sent with sendfile()); allocation
 * failure sets wr->failed in the same way.
 */

#ifndef _SL_KAFKA_PROTO_H_INCLUDED_
#define _SL_KAFKA_PROTO_H_INCLUDED_


#include <sl_config.h>
#include <sl_core.h>


typedef struct {
    u_char                  *pos;
    u_char                  *last;
    sl_pool_t               *pool;      /* arrays of the decoded message */
    unsigned                 failed:1;
} sl_kafka_rd_t;


typedef struct {
    sl_pool_t               *pool;
    sl_buf_t                *buf;       /* the memory buffer being filled */
    sl_chain_t              *out;
    sl_chain_t             **last;
    sl_chain_t              *last_link;
    size_t                   size;      /* bytes written, files included */
    size_t                   chunk;     /* size of the next memory buffer */
    unsigned                 failed:1;
} sl_kafka_wr_t;


/* a records field: bytes in memory, or file ranges when chain is set */
typedef struct {
    u_char                  *data;      /* NULL: null */
    size_t                   len;
    sl_chain_t              *chain;
} sl_kafka_records_t;


typedef struct {
    int16_t                  api_key;
    int16_t                  api_version;
    int32_t                  correlation_id;
    sl_str_t                 client_id;
} sl_kafka_header_t;


#define sl_kafka_get16(p)                                                    \
    (uint16_t) (((uint16_t) (p)[0] << 8) | (p)[1])
#define sl_kafka_get32(p)                                                    \
    (((uint32_t) (p)[0] << 24) | ((uint32_t) (p)[1] << 16)                   \
     | ((uint32_t) (p)[2] << 8) | (p)[3])
#define sl_kafka_get64(p)                                                    \
    (((uint64_t) sl_kafka_get32(p) << 32) | sl_kafka_get32((p) + 4))

#define sl_kafka_put16(p, v)                                                 \
    (p)[0] = (u_char) ((v) >> 8); (p)[1] = (u_char) (v)
#define sl_kafka_put32(p, v)                                                 \
    (p)[0] = (u_char) ((v) >> 24); (p)[1] = (u_char) ((v) >> 16);            \
    (p)[2] = (u_char) ((v) >> 8); (p)[3] = (u_char) (v)
#define sl_kafka_put64(p, v)                                                 \
    sl_kafka_put32(p, (uint32_t) ((uint64_t) (v) >> 32));                    \
    sl_kafka_put32((p) + 4, (uint32_t) (v))


void sl_kafka_rd_init(sl_kafka_rd_t *rd, u_char *p, size_t len,
    sl_pool_t *pool);
uint8_t sl_kafka_rd_bool(sl_kafka_rd_t *rd);
int8_t sl_kafka_rd_int8(sl_kafka_rd_t *rd);
int16_t sl_kafka_rd_int16(sl_kafka_rd_t *rd);
uint16_t sl_kafka_rd_uint16(sl_kafka_rd_t *rd);
int32_t sl_kafka_rd_int32(sl_kafka_rd_t *rd);
int64_t sl_kafka_rd_int64(sl_kafka_rd_t *rd);
double sl_kafka_rd_float64(sl_kafka_rd_t *rd);
uint32_t sl_kafka_rd_uvarint(sl_kafka_rd_t *rd);
void sl_kafka_rd_uuid(sl_kafka_rd_t *rd, u_char *uuid);
void sl_kafka_rd_string(sl_kafka_rd_t *rd, sl_uint_t flexible, sl_str_t *s);
void sl_kafka_rd_bytes(sl_kafka_rd_t *rd, sl_uint_t flexible, sl_str_t *s);
void sl_kafka_rd_records(sl_kafka_rd_t *rd, sl_uint_t flexible,
    sl_kafka_records_t *r);
/* an array's count (-1 = null), checked against the bytes left */
int32_t sl_kafka_rd_array(sl_kafka_rd_t *rd, sl_uint_t flexible,
    size_t min_elem);
void sl_kafka_rd_tags(sl_kafka_rd_t *rd);
sl_int_t sl_kafka_rd_header(sl_kafka_rd_t *rd, sl_kafka_header_t *h);


void sl_kafka_wr_init(sl_kafka_wr_t *wr, sl_pool_t *pool, size_t chunk);
u_char *sl_kafka_wr_reserve(sl_kafka_wr_t *wr, size_t n);
void sl_kafka_wr_bool(sl_kafka_wr_t *wr, uint8_t v);
void sl_kafka_wr_int8(sl_kafka_wr_t *wr, int8_t v);
void sl_kafka_wr_int16(sl_kafka_wr_t *wr, int16_t v);
void sl_kafka_wr_uint16(sl_kafka_wr_t *wr, uint16_t v);
void sl_kafka_wr_int32(sl_kafka_wr_t *wr, int32_t v);
void sl_kafka_wr_int64(sl_kafka_wr_t *wr, int64_t v);
void sl_kafka_wr_float64(sl_kafka_wr_t *wr, double v);
void sl_kafka_wr_uvarint(sl_kafka_wr_t *wr, uint32_t v);
void sl_kafka_wr_uuid(sl_kafka_wr_t *wr, u_char *uuid);
void sl_kafka_wr_raw(sl_kafka_wr_t *wr, u_char *p, size_t len);
void sl_kafka_wr_string(sl_kafka_wr_t *wr, sl_uint_t flexible,
    sl_uint_t nullable, sl_str_t *s);
void sl_kafka_wr_bytes(sl_kafka_wr_t *wr, sl_uint_t flexible,
    sl_uint_t nullable, sl_str_t *s);
void sl_kafka_wr_records(sl_kafka_wr_t *wr, sl_uint_t flexible,
    sl_uint_t nullable, sl_kafka_records_t *r);
void sl_kafka_wr_array(sl_kafka_wr_t *wr, sl_uint_t flexible,
    sl_uint_t nullable, int32_t n);
void sl_kafka_wr_tags(sl_kafka_wr_t *wr);
/* the chain so far, closed; NULL if failed */
sl_chain_t *sl_kafka_wr_finish(sl_kafka_wr_t *wr);


#endif /* _SL_KAFKA_PROTO_H_INCLUDED_ */
