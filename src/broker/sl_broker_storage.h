
/*
 * The broker's storage internals, shared by the files of src/broker only:
 * the shared zone's root, a partition's log state in shared memory, and
 * each process's own view of it (descriptors and mappings).
 *
 * Shared state changes only under the partition's lock; the fields that
 * readers load without it (active_pos, index_n, timeindex_n and the
 * partition's offsets) are stored with release semantics after the bytes
 * they describe.
 */

#ifndef _SL_BROKER_STORAGE_H_INCLUDED_
#define _SL_BROKER_STORAGE_H_INCLUDED_


#include <sl_config.h>
#include <sl_core.h>
#include <sl_broker.h>


#define SL_BROKER_OFFSET_DIGITS     20
#define SL_BROKER_INDEX_ENTRY       8       /* relative offset, position */
#define SL_BROKER_TIMEINDEX_ENTRY   12      /* timestamp, relative offset */
#define SL_BROKER_INDEX_MAX_BYTES   (10 * 1024 * 1024)
#define SL_BROKER_LINGER_MS         60000   /* removed files stay open */
#define SL_BROKER_MAX_SLOTS         (1 << 20)
#define SL_BROKER_PATH_LEN          4096

#define SL_BROKER_CHECKPOINT        "checkpoint"
#define SL_BROKER_CLEAN_SHUTDOWN    ".clean_shutdown"
#define SL_BROKER_TOPIC_EXT         ".topic"
#define SL_BROKER_DELETE_SUFFIX     "-delete"

#define SL_BROKER_ATTR_COMPRESSION  0x07
#define SL_BROKER_ATTR_TIMESTAMP    0x08    /* LogAppendTime */
#define SL_BROKER_ATTR_TRANSACTION  0x10
#define SL_BROKER_ATTR_CONTROL      0x20


/* a segment as every process sees it */
typedef struct {
    int64_t                  base_offset;
    off_t                    size;          /* final once closed */
    uint32_t                 index_n;
    uint32_t                 timeindex_n;
    int64_t                  max_timestamp;
    int64_t                  max_ts_offset;
    int64_t                  created_ms;    /* wall clock, for segment_ms */
    uint64_t                 file_id;       /* changes when rewritten */
} sl_broker_seg_t;


/*
 * What the lock holder knows of the active segment.  Two copies: an
 * appender fills the other one and flips cur, so a process that dies in
 * the middle leaves a consistent copy for the next locker to restore.
 */
typedef struct {
    int64_t                  seg_base;
    off_t                    pos;
    int64_t                  next_offset;
    uint32_t                 index_n;
    uint32_t                 timeindex_n;
    off_t                    index_mark;    /* position last indexed */
    int64_t                  max_timestamp;
    int64_t                  max_ts_offset;
    int64_t                  ti_last_ts;    /* last time index entry */
} sl_broker_tail_t;


typedef struct {
    sl_broker_seg_t         *segs;          /* oldest first, slab */
    uint32_t                 nsegs;
    uint32_t                 nalloc;

    sl_broker_tail_t         tail[2];
    volatile uint32_t        cur;

    /* published for readers, in this order, before log_end_offset */
    volatile off_t           active_pos;
    volatile uint32_t        index_n;
    volatile uint32_t        timeindex_n;

    uint32_t                 slot;
    uint64_t                 serial;
    volatile uint32_t        deleted;
    uint64_t                 next_file_id;

    /* flushing: the recovery point is (rp_offset, rp_base, rp_pos) */
    sl_shmtx_t               flush_lock;
    volatile int64_t         unflushed;     /* records since a flush */
    volatile int64_t         last_flush_ms;
    int64_t                  rp_base;
    off_t                    rp_pos;
    int64_t                  cp_offset;     /* as last written to disk */
    int64_t                  cp_base;       /* compaction stays below */
    int64_t                  cp_start;
    int64_t                  last_clean_ms;
    int64_t                  last_retention_ms;
} sl_broker_plog_t;


/* memory of the zone freed once no process may still use it */
typedef struct sl_broker_free_s  sl_broker_free_t;

struct sl_broker_free_s {
    void                    *p;
    int64_t                  after_ms;
    sl_broker_free_t        *next;
};


/* the root of the shared zone */
typedef struct {
    sl_shmtx_t               lock;          /* the registry */
    sl_shmtx_t               slots_lock;    /* slots, serial */
    sl_broker_topic_t      **topics;        /* sorted by name */
    sl_uint_t                ntopics;
    sl_uint_t                nalloc;
    sl_broker_topic_t       *deleted;
    sl_broker_free_t        *free_later;
    uint64_t                 serial;
    volatile uint64_t        pending_deletes;
    volatile int64_t         background_pid;
    u_char                   slots[SL_BROKER_MAX_SLOTS / 8];
} sl_broker_shctx_t;


/* one process's descriptors and mappings of a segment */
typedef struct {
    int64_t                  base_offset;
    uint64_t                 file_id;
    sl_fd_t                  fd;
    sl_fd_t                  ifd;
    sl_fd_t                  tfd;
    u_char                  *map;
    size_t                   map_len;
    u_char                  *imap;
    size_t                   imap_len;
    u_char                  *tmap;
    size_t                   tmap_len;
    unsigned                 writable:1;
} sl_broker_lseg_t;


typedef struct {
    sl_broker_partition_t   *part;
    uint64_t                 serial;
    uint64_t                 generation;
    sl_broker_seg_t         *info;          /* copies, oldest first */
    sl_broker_lseg_t        *segs;
    sl_uint_t                nsegs;
    sl_uint_t                nalloc;
} sl_broker_local_t;


/* big-endian fields */
#define sl_broker_get16(p)                                                   \
    (uint16_t) (((uint16_t) (p)[0] << 8) | (p)[1])
#define sl_broker_get32(p)                                                   \
    (((uint32_t) (p)[0] << 24) | ((uint32_t) (p)[1] << 16)                   \
     | ((uint32_t) (p)[2] << 8) | (uint32_t) (p)[3])
#define sl_broker_get64(p)                                                   \
    (((uint64_t) sl_broker_get32(p) << 32) | sl_broker_get32((p) + 4))

void sl_broker_put16(u_char *p, uint16_t v);
void sl_broker_put32(u_char *p, uint32_t v);
void sl_broker_put64(u_char *p, uint64_t v);


/* batch layout: offsets of the fields */
#define SL_BROKER_B_BASE_OFFSET     0
#define SL_BROKER_B_LENGTH          8
#define SL_BROKER_B_EPOCH           12
#define SL_BROKER_B_MAGIC           16
#define SL_BROKER_B_CRC             17
#define SL_BROKER_B_ATTRIBUTES      21
#define SL_BROKER_B_LAST_DELTA      23
#define SL_BROKER_B_FIRST_TS        27
#define SL_BROKER_B_MAX_TS          35
#define SL_BROKER_B_PRODUCER_ID     43
#define SL_BROKER_B_COUNT           57
#define SL_BROKER_B_LOG_OVERHEAD    12      /* base offset and length */


/* one record of an uncompressed batch */
typedef struct {
    u_char                  *start;         /* the length varint */
    u_char                  *end;
    int64_t                  timestamp_delta;
    int32_t                  offset_delta;
    u_char                  *key;
    int32_t                  key_len;       /* -1: null */
    u_char                  *value;
    int32_t                  value_len;     /* -1: a tombstone */
} sl_broker_record_t;


/* sl_broker_record.c */
void sl_broker_batch_set_crc(u_char *p, size_t len);
/* the next record in [*pp, last); SL_DONE at last, SL_ERROR if corrupt */
sl_int_t sl_broker_record_next(u_char **pp, u_char *last,
    sl_broker_record_t *r);
/* the header fields only, no CRC (recovery of trusted data) */
sl_int_t sl_broker_batch_header(u_char *p, size_t len, sl_broker_batch_t *b);

/* sl_broker_segment.c */
u_char *sl_broker_part_dir(u_char *buf, sl_broker_partition_t *part);
u_char *sl_broker_seg_path(u_char *buf, sl_broker_partition_t *part,
    int64_t base, const char *ext);
size_t sl_broker_index_capacity(sl_broker_topic_conf_t *conf);
sl_int_t sl_broker_seg_create(sl_broker_partition_t *part, int64_t base,
    sl_broker_lseg_t *ls, sl_log_t *log);
sl_int_t sl_broker_seg_open(sl_broker_partition_t *part,
    sl_broker_seg_t *seg, sl_broker_lseg_t *ls, sl_uint_t active,
    sl_log_t *log);
sl_int_t sl_broker_seg_map_log(sl_broker_lseg_t *ls, size_t need,
    sl_log_t *log);
sl_int_t sl_broker_seg_trim(sl_broker_lseg_t *ls, uint32_t index_n,
    uint32_t timeindex_n, sl_log_t *log);
sl_int_t sl_broker_seg_extend(sl_broker_partition_t *part,
    sl_broker_lseg_t *ls, sl_log_t *log);
void sl_broker_seg_release(sl_broker_lseg_t *ls);
void sl_broker_seg_unlink(sl_broker_partition_t *part, int64_t base,
    const char *suffix);
void sl_broker_linger_reap(sl_uint_t all);
int64_t sl_broker_mono_ms(void);
int64_t sl_broker_wall_ms(void);

/* sl_broker_index.c */
typedef struct {
    uint32_t                 rel;
    uint32_t                 pos;
} sl_broker_ientry_t;

sl_broker_ientry_t sl_broker_index_seek(u_char *imap, uint32_t n,
    off_t pos);
void sl_broker_index_put(u_char *imap, uint32_t i, uint32_t rel, uint32_t pos);
void sl_broker_index_get(u_char *imap, uint32_t i, uint32_t *rel,
    uint32_t *pos);
off_t sl_broker_index_lookup(u_char *imap, uint32_t n, uint32_t rel);
void sl_broker_timeindex_put(u_char *tmap, uint32_t i, int64_t ts,
    uint32_t rel);
void sl_broker_timeindex_get(u_char *tmap, uint32_t i, int64_t *ts,
    uint32_t *rel);
/* the relative offset to scan from for ts (largest entry below ts) */
int64_t sl_broker_timeindex_lookup(u_char *tmap, uint32_t n, int64_t ts);
/* index entries consistent with a log of size bytes */
sl_int_t sl_broker_index_check(u_char *imap, uint32_t n, off_t size);

/* sl_broker_log.c */
sl_broker_local_t *sl_broker_local(sl_broker_partition_t *part,
    sl_log_t *log);
/* copies the shared segment list; call with the partition locked */
sl_int_t sl_broker_local_sync(sl_broker_local_t *lc, sl_log_t *log);
void sl_broker_local_drop(sl_broker_partition_t *part);
void sl_broker_local_drop_all(void);
sl_int_t sl_broker_lock(sl_broker_partition_t *part, sl_log_t *log);
#define sl_broker_unlock(part)  sl_shmtx_unlock(&(part)->lock)
sl_int_t sl_broker_part_open(sl_broker_partition_t *part, sl_uint_t create,
    sl_uint_t clean, sl_log_t *log);
sl_broker_tail_t *sl_broker_tail(sl_broker_plog_t *pl);
void sl_broker_publish(sl_broker_partition_t *part, sl_broker_tail_t *t);
/* the index rules of an appended batch at pos, into t and ls's maps */
void sl_broker_index_batch(sl_broker_tail_t *t, sl_broker_lseg_t *ls,
    int64_t base, int64_t max_ts, off_t pos, size_t interval);
sl_int_t sl_broker_segs_remove(sl_broker_partition_t *part, sl_uint_t from,
    sl_uint_t n);
sl_int_t sl_broker_part_remove_files(sl_broker_partition_t *part,
    sl_log_t *log);

/* sl_broker_flush.c */
sl_int_t sl_broker_checkpoint_read(sl_broker_partition_t *part,
    int64_t *rp, int64_t *base, off_t *pos, int64_t *start, sl_log_t *log);
sl_int_t sl_broker_checkpoint_write(sl_broker_partition_t *part,
    sl_uint_t clean, sl_log_t *log);
sl_int_t sl_broker_part_close(sl_broker_partition_t *part, sl_log_t *log);

/* sl_broker_topic.c */
sl_int_t sl_broker_topics_load(sl_uint_t clean, sl_log_t *log);
void sl_broker_topic_conf_merge(sl_broker_topic_conf_t *conf,
    sl_broker_topic_conf_t *prev, uint32_t *overrides);
void sl_broker_deferred(int64_t now, sl_log_t *log);

/* sl_broker.c */
void *sl_broker_shalloc(size_t size);
void sl_broker_shfree(void *p);
void sl_broker_shfree_later(void *p);


extern sl_broker_shctx_t   *sl_broker_sh;
extern sl_slab_pool_t      *sl_broker_shpool;
extern sl_broker_conf_t    *sl_broker_cf;

/* tests only: called at points of an append, to kill the process there */
extern void               (*sl_broker_append_hook)(sl_uint_t stage);


#endif /* _SL_BROKER_STORAGE_H_INCLUDED_ */
