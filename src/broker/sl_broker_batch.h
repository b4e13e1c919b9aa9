
/*
 * Looking inside record batches (magic 2): a reader that walks the
 * records of a plain or compressed batch, a writer that builds a new
 * batch from records and compresses it, and the codec registry through
 * which both reach gzip, snappy, lz4 and zstd.  The core links none of
 * the compression libraries: the compress module registers the codecs,
 * and without it a compressed batch cannot be opened (SL_BROKER_ERR_NO_CODEC).
 *
 * Used by modules that need the records themselves: recompression, Lua
 * produce filters, HTTP consumers, compaction, the groups' offsets topic.
 * Everything read from a batch is checked before use; decompression
 * stops at a limit given by the caller, so a small "bomb" cannot
 * exhaust memory.
 */

#ifndef _SL_BROKER_BATCH_H_INCLUDED_
#define _SL_BROKER_BATCH_H_INCLUDED_


#include <sl_config.h>
#include <sl_core.h>
#include <sl_broker.h>


/* the compression codecs: bits 0-2 of a batch's attributes */
#define SL_BROKER_CODEC_NONE        0
#define SL_BROKER_CODEC_GZIP        1
#define SL_BROKER_CODEC_SNAPPY      2
#define SL_BROKER_CODEC_LZ4         3
#define SL_BROKER_CODEC_ZSTD        4
#define SL_BROKER_CODEC_N           5
/* a topic's compression "producer": batches are stored as sent */
#define SL_BROKER_CODEC_PRODUCER    8

/* no codec is registered for that type (UNSUPPORTED_COMPRESSION_TYPE 76) */
#define SL_BROKER_ERR_NO_CODEC      20

/* batch attributes (16 bits) */
#define SL_BROKER_BATCH_CODEC_MASK  0x0007
#define SL_BROKER_BATCH_APPEND_TIME 0x0008  /* timestamp type LogAppendTime */
#define SL_BROKER_BATCH_TXN         0x0010
#define SL_BROKER_BATCH_CONTROL     0x0020

/* max_decompressed 0 means this: sl_broker_batch_max_decompressed */
#define SL_BROKER_BATCH_MAX_DECOMPRESSED  (64 * 1024 * 1024)


/*
 * A codec.  decompress writes in[0..len) decoded into a buffer from
 * pool, at most max bytes: more is SL_BROKER_ERR_TOO_LARGE, bad input
 * SL_BROKER_ERR_CORRUPT.  compress uses level (0: the codec's default).
 * Both return SL_BROKER_OK and set *out, or an SL_BROKER_ERR_*.
 */
typedef sl_int_t (*sl_broker_decompress_pt)(u_char *in, size_t len,
    size_t max, sl_pool_t *pool, sl_str_t *out, sl_log_t *log);
typedef sl_int_t (*sl_broker_compress_pt)(u_char *in, size_t len,
    sl_int_t level, sl_pool_t *pool, sl_str_t *out, sl_log_t *log);


/* bytes that may be null (len -1), distinct from empty (len 0) */
typedef struct {
    u_char                  *data;
    int32_t                  len;
} sl_broker_bytes_t;


typedef struct {
    sl_broker_bytes_t        key;           /* never null */
    sl_broker_bytes_t        value;
} sl_broker_header_t;


/*
 * One record.  The reader fills every field; its pointers are into the
 * batch (or the decompressed copy in the reader's pool) and headers
 * into an array the reader reuses: valid until the next record.  The
 * writer reads key, value, headers, timestamp and, with keep_deltas,
 * offset_delta.
 */
typedef struct {
    int32_t                  offset_delta;
    int64_t                  timestamp;     /* first_timestamp + delta;
                                               max_timestamp for a batch
                                               with LogAppendTime */
    int64_t                  timestamp_delta;
    sl_broker_bytes_t        key;
    sl_broker_bytes_t        value;
    sl_broker_header_t      *headers;
    sl_uint_t                nheaders;

    u_char                  *raw;           /* the encoded record, from */
    size_t                   raw_len;       /* its length varint on */
} sl_broker_batch_record_t;


typedef struct {
    sl_broker_batch_t        batch;         /* the header's fields */
    sl_uint_t                codec;         /* SL_BROKER_CODEC_* */

    u_char                  *records;       /* decompressed if needed */
    size_t                   records_len;

    /* private */
    u_char                  *pos;
    u_char                  *last;
    int32_t                  index;
    sl_broker_header_t      *headers;
    sl_uint_t                nalloc;
    sl_pool_t               *pool;
    sl_log_t                *log;

    const char              *error;         /* why open or next failed */
} sl_broker_batch_reader_t;


typedef struct {
    /* set by sl_broker_batch_writer_init(), then by the caller */
    int16_t                  attributes;    /* codec, timestamp type, txn,
                                               control */
    sl_int_t                 level;         /* compression; 0: default */
    int64_t                  base_offset;   /* 0 */
    int32_t                  leader_epoch;  /* -1 */
    int64_t                  producer_id;   /* -1 */
    int16_t                  producer_epoch;/* -1 */
    int32_t                  base_sequence; /* -1 */
    int64_t                  first_timestamp; /* the base of the deltas;
                                               the first record's unless
                                               first_timestamp_set */
    unsigned                 first_timestamp_set:1;
    unsigned                 keep_deltas:1; /* record offset_delta as
                                               given, else 0, 1, 2, ... */

    /* private */
    u_char                  *start;
    u_char                  *pos;
    u_char                  *end;
    int32_t                  count;
    int32_t                  last_delta;
    int64_t                  max_timestamp;
    sl_pool_t               *pool;
    sl_log_t                *log;
} sl_broker_batch_writer_t;


/* the codec registry, filled at configuration time */
sl_int_t sl_broker_codec_register(sl_uint_t type,
    sl_broker_decompress_pt decompress, sl_broker_compress_pt compress);
sl_uint_t sl_broker_codec_available(sl_uint_t type);
/* "none", "gzip", "snappy", "lz4", "zstd" (Kafka's names) */
const char *sl_broker_codec_name(sl_uint_t type);
/* the type of a name, or SL_ERROR */
sl_int_t sl_broker_codec_by_name(u_char *name, size_t len);
sl_int_t sl_broker_decompress(sl_uint_t type, u_char *in, size_t len,
    size_t max, sl_pool_t *pool, sl_str_t *out, sl_log_t *log);
sl_int_t sl_broker_compress(sl_uint_t type, u_char *in, size_t len,
    sl_int_t level, sl_pool_t *pool, sl_str_t *out, sl_log_t *log);

/* the default cap (max_decompressed_batch_bytes directive) */
extern size_t  sl_broker_batch_max_decompressed;


/*
 * Opens the whole batch at p[0..len): parses its header, checks the CRC
 * (unless it is known good: check_crc 0) and decompresses the records
 * (at most max_decompressed bytes; 0: the default).  SL_BROKER_OK, or
 * SL_BROKER_ERR_CORRUPT, _TOO_LARGE, _NO_CODEC, _NO_MEMORY with
 * rd->error saying why.  sl_broker_batch_next() checks every record and
 * that exactly records_count of them fill the batch.
 */
sl_int_t sl_broker_batch_open(sl_broker_batch_reader_t *rd, u_char *p,
    size_t len, sl_uint_t check_crc, size_t max_decompressed,
    sl_pool_t *pool, sl_log_t *log);
/* SL_OK and the next record in r, SL_DONE after the last one, or
 * SL_BROKER_ERR_CORRUPT (a record does not parse) */
sl_int_t sl_broker_batch_next(sl_broker_batch_reader_t *rd,
    sl_broker_batch_record_t *r);


/* a writer with the defaults above (no compression, CreateTime) */
void sl_broker_batch_writer_init(sl_broker_batch_writer_t *w,
    sl_pool_t *pool, sl_log_t *log);
/* carries over what a rewrite keeps: attributes, producer id, epoch,
 * base sequence, leader epoch and first timestamp of b */
void sl_broker_batch_writer_from(sl_broker_batch_writer_t *w,
    sl_broker_batch_t *b);
sl_int_t sl_broker_batch_add(sl_broker_batch_writer_t *w,
    sl_broker_batch_record_t *r);
/*
 * Compresses the records by the codec in attributes and lays out the
 * header and CRC-32C: the batch in *out, from the pool.  A writer
 * without records gives out->len 0.
 */
sl_int_t sl_broker_batch_finish(sl_broker_batch_writer_t *w, sl_str_t *out);


/*
 * The same records under another codec (SL_BROKER_CODEC_NONE too):
 * offsets deltas, timestamps and everything else kept; the records are
 * checked on the way (the CRC is not: the batch is known good).  *out
 * is the new batch, from the pool; *error says why it failed.
 */
sl_int_t sl_broker_batch_recompress(u_char *p, size_t len, sl_uint_t codec,
    sl_int_t level, size_t max_decompressed, sl_pool_t *pool, sl_str_t *out,
    const char **error, sl_log_t *log);


#endif /* _SL_BROKER_BATCH_H_INCLUDED_ */
