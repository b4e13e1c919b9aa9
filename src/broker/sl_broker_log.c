
/*
 * The partition log: append, read, roll, repair after a dead appender,
 * offsets by time, DeleteRecords, and the recovery of a partition's
 * folder at start.
 *
 * Every process maps the same files.  An append takes the partition's
 * robust lock, writes the batch with pwrite() at the end of the active
 * segment, adds index entries through the shared mapping, then publishes
 * the new end with release stores; a reader loads the end first and never
 * touches a byte past it, so it needs no lock.  Rolls, retention and
 * compaction bump the partition's generation: a process re-reads the
 * segment list (under the lock) when it sees a new one.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_broker.h>
#include <sl_broker_storage.h>


typedef struct {
    int64_t                  expect;        /* offsets must not go back */
    sl_uint_t                truncated;
} sl_broker_scan_t;


static void sl_broker_local_release(sl_broker_local_t *lc);
static sl_broker_lseg_t *sl_broker_lseg(sl_broker_local_t *lc, sl_uint_t i,
    sl_log_t *log);
static sl_broker_lseg_t *sl_broker_active(sl_broker_local_t *lc,
    sl_log_t *log);
static void sl_broker_repair(sl_broker_partition_t *part, sl_log_t *log);
static sl_int_t sl_broker_roll_locked(sl_broker_partition_t *part,
    sl_broker_local_t *lc, int64_t now, sl_log_t *log);
static sl_int_t sl_broker_check_keys(u_char *batch, size_t len);
static sl_int_t sl_broker_find_time(sl_broker_local_t *lc, sl_uint_t i,
    off_t end, uint32_t n, int64_t ts, int64_t *offset, int64_t *timestamp,
    sl_log_t *log);
static sl_int_t sl_broker_seg_scan(sl_broker_partition_t *part,
    sl_broker_lseg_t *ls, sl_broker_tail_t *t, off_t size, off_t trusted,
    sl_broker_scan_t *sc, sl_log_t *log);
static sl_int_t sl_broker_seg_load(sl_broker_partition_t *part,
    sl_broker_seg_t *seg, sl_log_t *log);
static int sl_broker_cmp_offsets(const void *a, const void *b);


void                       (*sl_broker_append_hook)(sl_uint_t stage);

static sl_broker_local_t   **sl_broker_locals;
static sl_uint_t             sl_broker_nlocals;


/* this process's view of a partition, made on first use */

sl_broker_local_t *
sl_broker_local(sl_broker_partition_t *part, sl_log_t *log)
{
    sl_uint_t           n;
    sl_broker_plog_t   *pl;
    sl_broker_local_t  *lc, **locals;

    pl = part->data;

    if (pl->slot >= sl_broker_nlocals) {
        n = sl_max(pl->slot + 1, sl_broker_nlocals * 2);
        n = sl_max(n, 64);

        locals = realloc(sl_broker_locals, n * sizeof(sl_broker_local_t *));
        if (locals == NULL) {
            sl_log_error(SL_LOG_ERR, log, sl_errno, "realloc() failed");
            return NULL;
        }

        sl_memzero(locals + sl_broker_nlocals,
                   (n - sl_broker_nlocals) * sizeof(sl_broker_local_t *));

        sl_broker_locals = locals;
        sl_broker_nlocals = n;
    }

    lc = sl_broker_locals[pl->slot];

    if (lc && lc->part == part && lc->serial == pl->serial) {
        return lc;
    }

    if (lc == NULL) {
        lc = calloc(1, sizeof(sl_broker_local_t));
        if (lc == NULL) {
            sl_log_error(SL_LOG_ERR, log, sl_errno, "calloc() failed");
            return NULL;
        }

        sl_broker_locals[pl->slot] = lc;

    } else {
        sl_broker_local_release(lc);
    }

    lc->part = part;
    lc->serial = pl->serial;
    lc->generation = (uint64_t) -1;

    return lc;
}


/* forgets part, or (NULL) the partitions deleted or replaced since */

void
sl_broker_local_drop(sl_broker_partition_t *part)
{
    sl_uint_t           i;
    sl_broker_plog_t   *pl;
    sl_broker_local_t  *lc;

    for (i = 0; i < sl_broker_nlocals; i++) {
        lc = sl_broker_locals[i];

        if (lc == NULL || lc->part == NULL) {
            continue;
        }

        pl = lc->part->data;

        if (part ? lc->part != part
                 : (pl->slot == i && pl->serial == lc->serial
                    && !pl->deleted))
        {
            continue;
        }

        sl_broker_local_release(lc);
        lc->part = NULL;
    }
}


static void
sl_broker_local_release(sl_broker_local_t *lc)
{
    sl_uint_t  i;

    for (i = 0; i < lc->nsegs; i++) {
        sl_broker_seg_release(&lc->segs[i]);
    }

    free(lc->segs);
    free(lc->info);

    lc->segs = NULL;
    lc->info = NULL;
    lc->nsegs = 0;
    lc->nalloc = 0;
}


/*
 * Copies the shared segment list, keeping what this process has open of
 * the segments that did not change.  Both lists are sorted by base.
 */

sl_int_t
sl_broker_local_sync(sl_broker_local_t *lc, sl_log_t *log)
{
    uint64_t            gen;
    sl_uint_t           i, j, n;
    sl_broker_seg_t    *info;
    sl_broker_plog_t   *pl;
    sl_broker_lseg_t   *segs;

    pl = lc->part->data;
    gen = lc->part->generation;

    if (lc->generation == gen) {
        return SL_OK;
    }

    n = pl->nsegs;

    info = malloc(sl_max(n, 1) * sizeof(sl_broker_seg_t));
    segs = malloc(sl_max(n, 1) * sizeof(sl_broker_lseg_t));

    if (info == NULL || segs == NULL) {
        free(info);
        free(segs);
        sl_log_error(SL_LOG_ERR, log, sl_errno, "malloc() failed");
        return SL_ERROR;
    }

    sl_memcpy(info, pl->segs, n * sizeof(sl_broker_seg_t));

    j = 0;

    for (i = 0; i < n; i++) {

        while (j < lc->nsegs
               && lc->segs[j].base_offset < info[i].base_offset)
        {
            sl_broker_seg_release(&lc->segs[j++]);
        }

        if (j < lc->nsegs
            && lc->segs[j].base_offset == info[i].base_offset
            && lc->segs[j].file_id == info[i].file_id)
        {
            segs[i] = lc->segs[j++];
            continue;
        }

        sl_memzero(&segs[i], sizeof(sl_broker_lseg_t));
        segs[i].base_offset = info[i].base_offset;
        segs[i].file_id = info[i].file_id;
        segs[i].fd = SL_INVALID_FILE;
        segs[i].ifd = SL_INVALID_FILE;
        segs[i].tfd = SL_INVALID_FILE;
    }

    while (j < lc->nsegs) {
        sl_broker_seg_release(&lc->segs[j++]);
    }

    free(lc->segs);
    free(lc->info);

    lc->segs = segs;
    lc->info = info;
    lc->nsegs = n;
    lc->nalloc = n;
    lc->generation = gen;

    return SL_OK;
}


static sl_broker_lseg_t *
sl_broker_lseg(sl_broker_local_t *lc, sl_uint_t i, sl_log_t *log)
{
    struct stat        st;
    sl_broker_lseg_t  *ls;

    ls = &lc->segs[i];

    if (ls->fd != SL_INVALID_FILE) {
        return ls;
    }

    if (sl_broker_seg_open(lc->part, &lc->info[i], ls, 0, log) != SL_OK) {
        return NULL;
    }

    /*
     * A closed segment rewritten (compacted) after the list was copied:
     * never look past the end of the file actually opened.
     */

    if (i < lc->nsegs - 1
        && fstat(ls->fd, &st) == 0 && st.st_size < lc->info[i].size)
    {
        lc->info[i].size = st.st_size;
    }

    return ls;
}


/* the active segment, writable; the partition is locked */

static sl_broker_lseg_t *
sl_broker_active(sl_broker_local_t *lc, sl_log_t *log)
{
    sl_broker_lseg_t  *ls;

    if (lc->nsegs == 0) {
        return NULL;
    }

    ls = sl_broker_lseg(lc, lc->nsegs - 1, log);

    if (ls == NULL) {
        return NULL;
    }

    if (!ls->writable
        && sl_broker_seg_extend(lc->part, ls, log) != SL_OK)
    {
        return NULL;
    }

    return ls;
}


sl_broker_tail_t *
sl_broker_tail(sl_broker_plog_t *pl)
{
    return &pl->tail[sl_atomic_load(&pl->cur) & 1];
}


void
sl_broker_publish(sl_broker_partition_t *part, sl_broker_tail_t *t)
{
    sl_broker_plog_t  *pl;

    pl = part->data;

    sl_atomic_store(&pl->index_n, t->index_n);
    sl_atomic_store(&pl->timeindex_n, t->timeindex_n);
    sl_atomic_store(&pl->active_pos, t->pos);
    sl_atomic_store(&part->log_end_offset, t->next_offset);
    sl_atomic_store(&part->high_watermark, t->next_offset);
    sl_atomic_store(&part->last_stable_offset, t->next_offset);
}


/*
 * Locks the partition.  If the last holder died, its append is undone:
 * the tail copy it had not yet flipped to is ignored, the segment is cut
 * back to the last consistent end and index entries past it are cleared.
 */

sl_int_t
sl_broker_lock(sl_broker_partition_t *part, sl_log_t *log)
{
    sl_int_t            rc;
    sl_broker_local_t  *lc;

    rc = sl_shmtx_lock(&part->lock);

    if (rc == SL_SHMTX_RECOVERED) {
        sl_broker_repair(part, log);
    }

    lc = sl_broker_local(part, log);

    if (lc == NULL || sl_broker_local_sync(lc, log) != SL_OK) {
        sl_shmtx_unlock(&part->lock);
        return SL_ERROR;
    }

    return SL_OK;
}


static void
sl_broker_repair(sl_broker_partition_t *part, sl_log_t *log)
{
    uint32_t            i, n;
    sl_broker_tail_t   *t;
    sl_broker_plog_t   *pl;
    sl_broker_lseg_t   *ls;
    sl_broker_local_t  *lc;

    pl = part->data;
    t = sl_broker_tail(pl);

    sl_log_error(SL_LOG_WARN, log, 0,
                 "partition \"%.*s-%d\": the last appender died, "
                 "recovering the end at offset %lld",
                 SL_STR_ARG(&part->topic->name), (int) part->id,
                 (long long) t->next_offset);

    /* a roll that died before it flipped the tail: forget its segment */

    n = pl->nsegs;

    while (n > 1 && pl->segs[n - 1].base_offset > t->seg_base) {
        sl_broker_seg_unlink(part, pl->segs[n - 1].base_offset, "");
        n--;
    }

    pl->nsegs = n;
    pl->tail[pl->cur ^ 1] = *t;

    (void) sl_atomic_fetch_add(&part->generation, 1);

    lc = sl_broker_local(part, log);

    if (lc && sl_broker_local_sync(lc, log) == SL_OK) {
        ls = sl_broker_active(lc, log);

        if (ls) {
            if (ftruncate(ls->fd, t->pos) == -1) {
                sl_log_error(SL_LOG_ALERT, log, sl_errno,
                             "ftruncate() of a torn segment failed");
            }

            /* a dead append or roll wrote at most two entries more */

            for (i = t->index_n;
                 i < t->index_n + 2
                 && (i + 1) * SL_BROKER_INDEX_ENTRY <= ls->imap_len;
                 i++)
            {
                sl_broker_index_put(ls->imap, i, 0, 0);
            }

            for (i = t->timeindex_n;
                 i < t->timeindex_n + 2
                 && (i + 1) * SL_BROKER_TIMEINDEX_ENTRY <= ls->tmap_len;
                 i++)
            {
                sl_broker_timeindex_put(ls->tmap, i, 0, 0);
            }
        }
    }

    sl_broker_publish(part, t);
}


sl_int_t
sl_broker_log_append(sl_broker_partition_t *part, u_char *batch,
    size_t len, int64_t *base_offset, int64_t *log_append_time,
    sl_log_t *log)
{
    off_t                    pos;
    size_t                   cap;
    ssize_t                  n;
    int64_t                  now, base, last, max_ts;
    sl_int_t                 flush;
    sl_err_t                 err;
    sl_broker_tail_t        *t, *nt;
    sl_broker_plog_t        *pl;
    sl_broker_lseg_t        *ls;
    sl_broker_batch_t        b;
    sl_broker_local_t       *lc;
    sl_broker_topic_conf_t  *conf;

    pl = part->data;
    conf = &part->topic->conf;

    *base_offset = -1;
    *log_append_time = -1;

    if (len > conf->max_record_batch_bytes) {
        return SL_BROKER_ERR_TOO_LARGE;
    }

    if (sl_broker_batch_parse(batch, len, &b) != SL_BROKER_OK
        || (size_t) b.length + SL_BROKER_B_LOG_OVERHEAD != len)
    {
        return SL_BROKER_ERR_CORRUPT;
    }

    if (b.records_count == 0
        || b.last_offset_delta != b.records_count - 1)
    {
        return SL_BROKER_ERR_INVALID_RECORD;
    }

    if (conf->cleanup_policy == SL_BROKER_CLEANUP_COMPACT
        && (b.attributes & SL_BROKER_ATTR_COMPRESSION) == 0
        && (b.attributes & SL_BROKER_ATTR_CONTROL) == 0
        && sl_broker_check_keys(batch, len) != SL_OK)
    {
        return SL_BROKER_ERR_INVALID_RECORD;
    }

    now = sl_broker_wall_ms();
    max_ts = b.max_timestamp;

    if (conf->message_timestamp_type == SL_BROKER_LOG_APPEND_TIME) {
        sl_broker_put16(batch + SL_BROKER_B_ATTRIBUTES,
                        (uint16_t) (b.attributes | SL_BROKER_ATTR_TIMESTAMP));
        sl_broker_put64(batch + SL_BROKER_B_MAX_TS, (uint64_t) now);
        sl_broker_batch_set_crc(batch, len);
        max_ts = now;
        *log_append_time = now;
    }

    if (sl_broker_lock(part, log) != SL_OK) {
        return SL_BROKER_ERR_STORAGE;
    }

    if (pl->deleted) {
        sl_broker_unlock(part);
        return SL_BROKER_ERR_UNKNOWN_TOPIC;
    }

    lc = sl_broker_local(part, log);
    t = sl_broker_tail(pl);

    ls = sl_broker_active(lc, log);
    if (ls == NULL) {
        goto failed;
    }

    cap = sl_min(ls->imap_len / SL_BROKER_INDEX_ENTRY,
                 ls->tmap_len / SL_BROKER_TIMEINDEX_ENTRY);

    if (t->pos > 0
        && (t->pos + (off_t) len > conf->segment_bytes
            || now - pl->segs[pl->nsegs - 1].created_ms
               >= (int64_t) conf->segment_ms
            || t->index_n + 2 >= cap
            || t->timeindex_n + 2 >= cap
            || t->next_offset + b.last_offset_delta - t->seg_base
               > INT32_MAX))
    {
        if (sl_broker_roll_locked(part, lc, now, log) != SL_OK) {
            goto failed;
        }

        t = sl_broker_tail(pl);
        ls = sl_broker_active(lc, log);
        if (ls == NULL) {
            goto failed;
        }
    }

    base = t->next_offset;
    last = base + b.last_offset_delta;
    pos = t->pos;

    sl_broker_put64(batch, (uint64_t) base);

    /* the leader's epoch, as Kafka's leader stamps it (outside the CRC):
     * followers and clients detect truncation by it */
    sl_broker_put32(batch + SL_BROKER_B_EPOCH, (uint32_t) part->leader_epoch);

    if (sl_broker_append_hook) {
        sl_broker_append_hook(1);
    }

    n = sl_write_file(ls->fd, batch, len, pos);

    if (n != (ssize_t) len) {
        err = (n == SL_ERROR) ? sl_errno : ENOSPC;

        if (ftruncate(ls->fd, pos) == -1) {
            sl_log_error(SL_LOG_ALERT, log, sl_errno,
                         "ftruncate() after a failed append failed");
        }

        sl_log_error(SL_LOG_ERR, log, err,
                     "append to \"%.*s-%d\" at offset %lld failed",
                     SL_STR_ARG(&part->topic->name), (int) part->id,
                     (long long) base);

        sl_broker_unlock(part);
        return SL_BROKER_ERR_STORAGE;
    }

    if (sl_broker_append_hook) {
        sl_broker_append_hook(2);
    }

    nt = &pl->tail[pl->cur ^ 1];
    *nt = *t;

    sl_broker_index_batch(nt, ls, base, max_ts, pos, conf->index_interval);

    nt->pos = pos + len;
    nt->next_offset = last + 1;

    if (sl_broker_append_hook) {
        sl_broker_append_hook(3);
    }

    sl_atomic_store(&pl->cur, pl->cur ^ 1);

    if (sl_broker_append_hook) {
        sl_broker_append_hook(4);
    }

    sl_broker_publish(part, nt);

    (void) sl_atomic_fetch_add(&part->size_bytes, len);
    (void) sl_atomic_fetch_add(&pl->unflushed, b.records_count);

    flush = (conf->flush == SL_BROKER_FLUSH_ALWAYS
             || (conf->flush == SL_BROKER_FLUSH_EVERY
                 && pl->unflushed >= conf->flush_every));

    sl_broker_unlock(part);

    *base_offset = base;

    (void) sl_atomic_fetch_add(&part->bytes_in, (uint64_t) len);
    (void) sl_atomic_fetch_add(&part->records_in,
                               (uint64_t) b.records_count);

    /*
     * fsync outside the lock: appenders that wrote meanwhile share it
     * (group commit); the append is acknowledged only after it.
     */

    if (flush && sl_broker_log_flush(part, log) != SL_OK) {
        return SL_BROKER_ERR_STORAGE;
    }

    return SL_BROKER_OK;

failed:

    sl_broker_unlock(part);

    return SL_BROKER_ERR_STORAGE;
}


/*
 * The index rules, for appends and for recovery alike: an offset entry
 * for the first batch past index_interval bytes from the last one, and
 * with it a time entry when the largest timestamp grew.
 */

void
sl_broker_index_batch(sl_broker_tail_t *t, sl_broker_lseg_t *ls,
    int64_t base, int64_t max_ts, off_t pos, size_t interval)
{
    if (max_ts > t->max_timestamp) {
        t->max_timestamp = max_ts;
        t->max_ts_offset = base;
    }

    if (pos - t->index_mark < (off_t) interval || pos == 0) {
        return;
    }

    if ((t->index_n + 1) * SL_BROKER_INDEX_ENTRY > ls->imap_len) {
        return;
    }

    sl_broker_index_put(ls->imap, t->index_n,
                        (uint32_t) (base - t->seg_base), (uint32_t) pos);
    t->index_n++;
    t->index_mark = pos;

    if (t->max_timestamp > t->ti_last_ts
        && (t->timeindex_n + 1) * SL_BROKER_TIMEINDEX_ENTRY <= ls->tmap_len)
    {
        sl_broker_timeindex_put(ls->tmap, t->timeindex_n, t->max_timestamp,
                                (uint32_t) (t->max_ts_offset - t->seg_base));
        t->timeindex_n++;
        t->ti_last_ts = t->max_timestamp;
    }
}


/* a compacted topic takes only keyed records */

static sl_int_t
sl_broker_check_keys(u_char *batch, size_t len)
{
    u_char              *p;
    sl_int_t             rc;
    sl_broker_record_t   r;

    p = batch + SL_BROKER_BATCH_HEADER_SIZE;

    for ( ;; ) {
        rc = sl_broker_record_next(&p, batch + len, &r);

        if (rc == SL_DONE) {
            return SL_OK;
        }

        if (rc != SL_OK || r.key_len < 0) {
            return SL_ERROR;
        }
    }
}


sl_int_t
sl_broker_log_roll(sl_broker_partition_t *part, sl_log_t *log)
{
    sl_int_t           rc;
    sl_broker_local_t  *lc;

    if (sl_broker_lock(part, log) != SL_OK) {
        return SL_BROKER_ERR_STORAGE;
    }

    lc = sl_broker_local(part, log);

    rc = SL_BROKER_OK;

    if (sl_broker_tail(part->data)->pos > 0
        && sl_broker_roll_locked(part, lc, sl_broker_wall_ms(), log)
           != SL_OK)
    {
        rc = SL_BROKER_ERR_STORAGE;
    }

    sl_broker_unlock(part);

    return rc;
}


/*
 * Closes the active segment and opens a new one at the end offset.  The
 * order matters for a process dying in the middle (see the repair): the
 * new files and list entry first, the tail flip last.
 */

static sl_int_t
sl_broker_roll_locked(sl_broker_partition_t *part, sl_broker_local_t *lc,
    int64_t now, sl_log_t *log)
{
    uint32_t            i, nalloc;
    sl_broker_seg_t    *segs, *seg;
    sl_broker_tail_t   *t, *nt;
    sl_broker_plog_t   *pl;
    sl_broker_lseg_t   *ls, nls;
    sl_broker_lseg_t   *lsegs;
    sl_broker_seg_t    *linfo;
    size_t              active;

    pl = part->data;
    t = sl_broker_tail(pl);

    ls = sl_broker_active(lc, log);
    if (ls == NULL) {
        return SL_ERROR;
    }

    active = ls - lc->segs;

    nt = &pl->tail[pl->cur ^ 1];
    *nt = *t;

    /* the last time entry says the segment's largest timestamp */

    if (nt->max_timestamp > nt->ti_last_ts
        && (nt->timeindex_n + 1) * SL_BROKER_TIMEINDEX_ENTRY <= ls->tmap_len)
    {
        sl_broker_timeindex_put(ls->tmap, nt->timeindex_n, nt->max_timestamp,
                                (uint32_t) (nt->max_ts_offset
                                            - nt->seg_base));
        nt->timeindex_n++;
        nt->ti_last_ts = nt->max_timestamp;
    }

    if (part->topic->conf.flush == SL_BROKER_FLUSH_ALWAYS) {
        (void) fdatasync(ls->fd);
    }

    if (pl->nsegs == pl->nalloc) {
        nalloc = pl->nalloc * 2;

        segs = sl_broker_shalloc(nalloc * sizeof(sl_broker_seg_t));
        if (segs == NULL) {
            sl_log_error(SL_LOG_ERR, log, 0,
                         "the broker's shared zone is full");
            return SL_ERROR;
        }

        sl_memcpy(segs, pl->segs, pl->nsegs * sizeof(sl_broker_seg_t));
        sl_broker_shfree(pl->segs);

        pl->segs = segs;
        pl->nalloc = nalloc;
    }

    lsegs = realloc(lc->segs, (lc->nsegs + 1) * sizeof(sl_broker_lseg_t));
    if (lsegs == NULL) {
        return SL_ERROR;
    }

    /* ls pointed into the array that realloc() may have moved */
    lc->segs = lsegs;
    ls = &lsegs[active];

    linfo = realloc(lc->info, (lc->nsegs + 1) * sizeof(sl_broker_seg_t));
    if (linfo == NULL) {
        return SL_ERROR;
    }

    lc->info = linfo;

    if (sl_broker_seg_create(part, t->next_offset, &nls, log) != SL_OK) {
        return SL_ERROR;
    }

    nls.file_id = pl->next_file_id++;

    seg = &pl->segs[pl->nsegs - 1];
    seg->size = nt->pos;
    seg->index_n = nt->index_n;
    seg->timeindex_n = nt->timeindex_n;
    seg->max_timestamp = nt->max_timestamp;
    seg->max_ts_offset = nt->max_ts_offset;

    seg = &pl->segs[pl->nsegs];
    seg->base_offset = t->next_offset;
    seg->size = 0;
    seg->index_n = 0;
    seg->timeindex_n = 0;
    seg->max_timestamp = -1;
    seg->max_ts_offset = -1;
    seg->created_ms = now;
    seg->file_id = nls.file_id;

    pl->nsegs++;

    (void) sl_broker_seg_trim(ls, nt->index_n, nt->timeindex_n, log);

    nt->seg_base = t->next_offset;
    nt->pos = 0;
    nt->index_n = 0;
    nt->timeindex_n = 0;
    nt->index_mark = 0;
    nt->max_timestamp = -1;
    nt->max_ts_offset = -1;
    nt->ti_last_ts = -1;

    sl_atomic_store(&pl->cur, pl->cur ^ 1);
    (void) sl_atomic_fetch_add(&part->generation, 1);

    sl_broker_publish(part, nt);

    /* this process follows at once */

    i = lc->nsegs - 1;
    lc->info[i] = pl->segs[i];
    lc->info[i + 1] = pl->segs[i + 1];
    lc->segs[i + 1] = nls;
    lc->nsegs++;
    lc->nalloc = lc->nsegs;
    lc->generation = part->generation;

    sl_log_debug(log, "partition \"%.*s-%d\" rolled at %lld",
                 SL_STR_ARG(&part->topic->name), (int) part->id,
                 (long long) nt->seg_base);

    return SL_OK;
}


sl_int_t
sl_broker_log_read(sl_broker_partition_t *part, int64_t offset,
    size_t max_bytes, sl_broker_read_t *rd, sl_log_t *log)
{
    off_t               end, apos, pos, start, total, next;
    size_t              need, cap;
    sl_broker_ientry_t  skip;
    int64_t             hw, base, last;
    uint64_t            gen;
    uint32_t            n, an, len;
    sl_uint_t           i, tries, active;
    sl_broker_plog_t   *pl;
    sl_broker_lseg_t   *ls;
    sl_broker_local_t  *lc;

    pl = part->data;

    /* the active segment is mapped once, as large as it may grow */
    cap = (size_t) part->topic->conf.segment_bytes
          + part->topic->conf.max_record_batch_bytes;

    rd->fd = SL_INVALID_FILE;
    rd->pos = 0;
    rd->len = 0;
    rd->mem = NULL;
    rd->first_offset = offset;
    rd->next_offset = offset;

    lc = sl_broker_local(part, log);
    if (lc == NULL) {
        return SL_BROKER_ERR_STORAGE;
    }

    for (tries = 0; tries < 16; tries++) {

        gen = sl_atomic_load(&part->generation);

        if (lc->generation != gen) {
            if (sl_broker_lock(part, log) != SL_OK) {
                return SL_BROKER_ERR_STORAGE;
            }

            sl_broker_unlock(part);
            continue;
        }

        if (pl->deleted) {
            return SL_BROKER_ERR_UNKNOWN_TOPIC;
        }

        hw = sl_atomic_load(&part->high_watermark);
        rd->high_watermark = hw;
        rd->last_stable_offset = sl_atomic_load(&part->last_stable_offset);
        rd->log_start_offset = sl_atomic_load(&part->log_start_offset);

        an = sl_atomic_load(&pl->index_n);
        apos = sl_atomic_load(&pl->active_pos);

        if (sl_atomic_load(&part->generation) != gen) {
            continue;
        }

        if (offset == hw) {
            return SL_BROKER_OK;
        }

        if (offset < rd->log_start_offset || offset > hw) {
            return SL_BROKER_ERR_OUT_OF_RANGE;
        }

        /* the last segment whose base is at or before offset */

        for (i = lc->nsegs; i > 1; i--) {
            if (lc->info[i - 1].base_offset <= offset) {
                break;
            }
        }

        for (i = (i > 0) ? i - 1 : 0; i < lc->nsegs; i++) {

            active = (i == lc->nsegs - 1);

            ls = sl_broker_lseg(lc, i, log);
            if (ls == NULL) {
                break;
            }

            base = lc->info[i].base_offset;

            if (active) {
                end = apos;
                n = an;
                need = sl_max((size_t) end, cap);

            } else {
                end = lc->info[i].size;
                n = lc->info[i].index_n;
                need = (size_t) end;
            }

            n = sl_min(n, ls->imap_len / SL_BROKER_INDEX_ENTRY);

            if (end == 0) {
                continue;
            }

            if (sl_broker_seg_map_log(ls, need, log) != SL_OK) {
                return SL_BROKER_ERR_STORAGE;
            }

            pos = 0;

            if (offset > base && n > 0) {
                pos = sl_broker_index_lookup(ls->imap, n,
                                 (uint32_t) sl_min(offset - base, INT32_MAX));
                if (pos >= end) {
                    pos = 0;
                }
            }

            start = -1;
            total = 0;

            while (pos + SL_BROKER_BATCH_HEADER_SIZE <= end) {
                base = (int64_t) sl_broker_get64(ls->map + pos);
                len = sl_broker_get32(ls->map + pos + SL_BROKER_B_LENGTH);
                last = base + (int32_t) sl_broker_get32(ls->map + pos
                                                   + SL_BROKER_B_LAST_DELTA);
                next = pos + SL_BROKER_B_LOG_OVERHEAD + len;

                if (base >= hw || next > end) {
                    break;
                }

                if (start == -1) {
                    if (last >= offset) {
                        start = pos;
                        rd->first_offset = base;
                        rd->next_offset = last + 1;
                        total = next - pos;

                        /*
                         * Jump through the index to near the end of the
                         * range rather than touch every batch header.
                         */

                        skip = sl_broker_index_seek(ls->imap, n,
                                                    start + max_bytes);

                        if (skip.pos > next && skip.pos < end
                            && lc->info[i].base_offset + (int64_t) skip.rel
                               < hw)
                        {
                            total = skip.pos - start;
                            pos = skip.pos;
                            rd->next_offset = lc->info[i].base_offset
                                              + (int64_t) skip.rel;
                            continue;
                        }
                    }

                } else {
                    if ((size_t) (total + (next - pos)) > max_bytes) {
                        break;
                    }

                    total += next - pos;
                    rd->next_offset = last + 1;
                }

                pos = next;
            }

            if (start != -1) {
                rd->fd = ls->fd;
                rd->pos = start;
                rd->len = (size_t) total;
                rd->mem = ls->map + start;
                return SL_BROKER_OK;
            }
        }

        if (sl_atomic_load(&part->generation) != gen) {
            continue;
        }

        if (i < lc->nsegs) {
            return SL_BROKER_ERR_STORAGE;
        }

        /* between log start and the end but nothing left: compacted */

        return SL_BROKER_OK;
    }

    return SL_BROKER_ERR_STORAGE;
}


sl_int_t
sl_broker_log_offset_for_time(sl_broker_partition_t *part, int64_t ts,
    int64_t *offset, int64_t *timestamp, sl_log_t *log)
{
    off_t               end;
    int64_t             best, best_off, lso;
    uint32_t            n;
    sl_int_t            rc;
    sl_uint_t           i;
    sl_broker_seg_t     act;
    sl_broker_tail_t   *t;
    sl_broker_plog_t   *pl;
    sl_broker_local_t  *lc;

    pl = part->data;

    *timestamp = -1;

    if (ts == SL_BROKER_OFFSET_LATEST) {
        *offset = sl_atomic_load(&part->high_watermark);
        return SL_BROKER_OK;
    }

    if (ts == SL_BROKER_OFFSET_EARLIEST) {
        *offset = sl_atomic_load(&part->log_start_offset);
        return SL_BROKER_OK;
    }

    if (sl_broker_lock(part, log) != SL_OK) {
        return SL_BROKER_ERR_STORAGE;
    }

    lc = sl_broker_local(part, log);
    t = sl_broker_tail(pl);

    act = lc->info[lc->nsegs - 1];
    act.size = t->pos;
    act.index_n = t->index_n;
    act.timeindex_n = t->timeindex_n;
    act.max_timestamp = t->max_timestamp;
    act.max_ts_offset = t->max_ts_offset;
    lso = part->log_start_offset;

    sl_broker_unlock(part);

    if (ts == SL_BROKER_OFFSET_MAX_TS) {
        best = -1;
        best_off = -1;

        for (i = 0; i < lc->nsegs; i++) {
            n = (i == lc->nsegs - 1) ? 0 : 1;

            if (n && lc->info[i].max_timestamp > best) {
                best = lc->info[i].max_timestamp;
                best_off = lc->info[i].max_ts_offset;
            }
        }

        if (act.max_timestamp > best) {
            best = act.max_timestamp;
            best_off = act.max_ts_offset;
        }

        *offset = (best_off >= lso) ? best_off : -1;
        *timestamp = (best_off >= lso) ? best : -1;

        return SL_BROKER_OK;
    }

    if (ts < 0) {
        return SL_BROKER_ERR_INVALID_CONFIG;
    }

    *offset = -1;

    for (i = 0; i < lc->nsegs; i++) {

        if (i == lc->nsegs - 1) {
            if (act.max_timestamp < ts) {
                break;
            }

            end = act.size;
            n = act.timeindex_n;

        } else {
            if (lc->info[i].max_timestamp < ts) {
                continue;
            }

            end = lc->info[i].size;
            n = lc->info[i].timeindex_n;
        }

        rc = sl_broker_find_time(lc, i, end, n, ts, offset, timestamp, log);

        if (rc != SL_BROKER_OK) {
            return rc;
        }

        if (*offset != -1) {
            break;
        }
    }

    if (*offset != -1 && *offset < lso) {
        *offset = lso;
    }

    return SL_BROKER_OK;
}


static sl_int_t
sl_broker_find_time(sl_broker_local_t *lc, sl_uint_t i, off_t end,
    uint32_t n, int64_t ts, int64_t *offset, int64_t *timestamp,
    sl_log_t *log)
{
    u_char              *p, *last;
    off_t                pos;
    int64_t              rel, first;
    uint32_t             in;
    sl_int_t             rc;
    sl_broker_lseg_t    *ls;
    sl_broker_batch_t    b;
    sl_broker_record_t   r;

    ls = sl_broker_lseg(lc, i, log);
    if (ls == NULL) {
        return SL_BROKER_ERR_STORAGE;
    }

    if (end == 0) {
        return SL_BROKER_OK;
    }

    if (sl_broker_seg_map_log(ls, end, log) != SL_OK) {
        return SL_BROKER_ERR_STORAGE;
    }

    n = sl_min(n, ls->tmap_len / SL_BROKER_TIMEINDEX_ENTRY);
    rel = sl_broker_timeindex_lookup(ls->tmap, n, ts);

    pos = 0;

    if (rel > 0 && ls->imap) {
        in = (i == lc->nsegs - 1)
             ? sl_atomic_load(&((sl_broker_plog_t *) lc->part->data)->index_n)
             : lc->info[i].index_n;
        in = sl_min(in, ls->imap_len / SL_BROKER_INDEX_ENTRY);

        pos = sl_broker_index_lookup(ls->imap, in, (uint32_t) rel);
        if (pos >= end) {
            pos = 0;
        }
    }

    while (pos + SL_BROKER_BATCH_HEADER_SIZE <= end) {

        if (sl_broker_batch_header(ls->map + pos, end - pos, &b)
            != SL_BROKER_OK)
        {
            return SL_BROKER_ERR_CORRUPT;
        }

        if (b.max_timestamp >= ts) {
            *offset = b.base_offset;
            *timestamp = b.max_timestamp;

            if (b.attributes & (SL_BROKER_ATTR_COMPRESSION
                                |SL_BROKER_ATTR_TIMESTAMP))
            {
                return SL_BROKER_OK;
            }

            p = ls->map + pos + SL_BROKER_BATCH_HEADER_SIZE;
            last = ls->map + pos + SL_BROKER_B_LOG_OVERHEAD + b.length;
            first = b.first_timestamp;

            for ( ;; ) {
                rc = sl_broker_record_next(&p, last, &r);
                if (rc != SL_OK) {
                    break;
                }

                if (first + r.timestamp_delta >= ts) {
                    *offset = b.base_offset + r.offset_delta;
                    *timestamp = first + r.timestamp_delta;
                    break;
                }
            }

            return SL_BROKER_OK;
        }

        pos += SL_BROKER_B_LOG_OVERHEAD + b.length;
    }

    return SL_BROKER_OK;
}


/* removes n entries of the shared list from index from; locked */

sl_int_t
sl_broker_segs_remove(sl_broker_partition_t *part, sl_uint_t from,
    sl_uint_t n)
{
    sl_uint_t          i;
    sl_broker_plog_t  *pl;

    pl = part->data;

    for (i = from; i < from + n; i++) {
        (void) sl_atomic_fetch_add(&part->size_bytes,
                                   - (uint64_t) pl->segs[i].size);
    }

    sl_memmove(&pl->segs[from], &pl->segs[from + n],
               (pl->nsegs - from - n) * sizeof(sl_broker_seg_t));
    pl->nsegs -= n;

    (void) sl_atomic_fetch_add(&part->generation, 1);

    return SL_OK;
}


sl_int_t
sl_broker_log_delete_before(sl_broker_partition_t *part, int64_t offset,
    int64_t *low_watermark, sl_log_t *log)
{
    int64_t            *bases;
    sl_uint_t           i, n;
    sl_broker_plog_t   *pl;

    pl = part->data;

    if (sl_broker_lock(part, log) != SL_OK) {
        return SL_BROKER_ERR_STORAGE;
    }

    if (offset == -1) {
        offset = part->high_watermark;
    }

    if (offset < 0 || offset > part->high_watermark) {
        *low_watermark = part->log_start_offset;
        sl_broker_unlock(part);
        return SL_BROKER_ERR_OUT_OF_RANGE;
    }

    if (offset > part->log_start_offset) {
        sl_atomic_store(&part->log_start_offset, offset);
    }

    /* whole segments below the new start go */

    n = 0;

    while (n + 1 < pl->nsegs && pl->segs[n + 1].base_offset <= offset) {
        n++;
    }

    bases = NULL;

    if (n) {
        bases = malloc(n * sizeof(int64_t));

        if (bases) {
            for (i = 0; i < n; i++) {
                bases[i] = pl->segs[i].base_offset;
            }

            (void) sl_broker_segs_remove(part, 0, n);
        }
    }

    *low_watermark = part->log_start_offset;

    sl_broker_unlock(part);

    if (bases) {
        for (i = 0; i < n; i++) {
            sl_broker_seg_unlink(part, bases[i], "");
        }

        free(bases);
    }

    if (sl_broker_checkpoint_write(part, 0, log) != SL_OK) {
        return SL_BROKER_ERR_STORAGE;
    }

    return SL_BROKER_OK;
}


/*
 * Opens a partition's folder (in the master before the workers exist, or
 * in the worker that creates the partition).  Segments up to the recovery
 * point are trusted; the tail past it is scanned batch by batch and cut
 * at the first torn or corrupt batch.
 */

sl_int_t
sl_broker_part_open(sl_broker_partition_t *part, sl_uint_t create,
    sl_uint_t clean, sl_log_t *log)
{
    DIR                *dir;
    off_t               trusted;
    u_char              path[SL_BROKER_PATH_LEN], *p;
    int64_t             rp, rp_base, start, *bases, base, now;
    off_t               rp_pos;
    uint32_t            rel, ipos;
    sl_uint_t           i, n, nalloc, last, have_cp, fast;
    struct stat         st;
    struct dirent      *de;
    sl_broker_seg_t    *seg;
    sl_broker_tail_t   *t;
    sl_broker_plog_t   *pl;
    sl_broker_lseg_t   *ls, tmp;
    sl_broker_scan_t    sc;
    sl_broker_local_t  *lc;

    pl = part->data;
    now = sl_broker_wall_ms();

    p = sl_broker_part_dir(path, part);
    *p = '\0';

    if (create) {
        if (sl_create_full_path(path, 0755) != SL_OK) {
            sl_log_error(SL_LOG_ERR, log, sl_errno,
                         "mkdir \"%s\" failed", (char *) path);
            return SL_ERROR;
        }
    }

    dir = opendir((char *) path);
    if (dir == NULL) {
        sl_log_error(SL_LOG_ERR, log, sl_errno,
                     "opendir \"%s\" failed", (char *) path);
        return SL_ERROR;
    }

    n = 0;
    nalloc = 16;
    bases = malloc(nalloc * sizeof(int64_t));

    if (bases == NULL) {
        closedir(dir);
        return SL_ERROR;
    }

    while ((de = readdir(dir)) != NULL) {
        size_t  len = sl_strlen(de->d_name);

        if (len > SL_BROKER_OFFSET_DIGITS + 1
            && de->d_name[SL_BROKER_OFFSET_DIGITS] == '.')
        {
            /* leftovers of an interrupted compaction */

            if (sl_strstr(de->d_name, ".cleaned")
                || sl_strstr(de->d_name, ".swap"))
            {
                p = sl_broker_part_dir(path, part);
                *sl_slprintf(p, path + sizeof(path) - 1, "/%s",
                             de->d_name) = '\0';
                (void) sl_delete_file(path);
                continue;
            }
        }

        if (len != SL_BROKER_OFFSET_DIGITS + 4
            || sl_strcmp(de->d_name + SL_BROKER_OFFSET_DIGITS, ".log") != 0)
        {
            continue;
        }

        base = sl_atoof((u_char *) de->d_name, SL_BROKER_OFFSET_DIGITS);
        if (base == SL_ERROR) {
            continue;
        }

        if (n == nalloc) {
            nalloc *= 2;
            p = realloc(bases, nalloc * sizeof(int64_t));
            if (p == NULL) {
                free(bases);
                closedir(dir);
                return SL_ERROR;
            }

            bases = (int64_t *) p;
        }

        bases[n++] = base;
    }

    closedir(dir);

    qsort(bases, n, sizeof(int64_t), sl_broker_cmp_offsets);

    have_cp = (sl_broker_checkpoint_read(part, &rp, &rp_base, &rp_pos,
                                         &start, log) == SL_OK);
    if (!have_cp) {
        rp = 0;
        rp_base = -1;
        rp_pos = 0;
        start = 0;
        clean = 0;
    }

    if (n == 0) {
        bases[n++] = sl_max(start, 0);
        create = 1;
    }

    nalloc = sl_max(16, n * 2);
    pl->segs = sl_broker_shalloc(nalloc * sizeof(sl_broker_seg_t));
    if (pl->segs == NULL) {
        free(bases);
        sl_log_error(SL_LOG_ERR, log, 0, "the broker's shared zone is full");
        return SL_ERROR;
    }

    pl->nalloc = nalloc;
    pl->nsegs = n;

    for (i = 0; i < n; i++) {
        seg = &pl->segs[i];
        sl_memzero(seg, sizeof(sl_broker_seg_t));
        seg->base_offset = bases[i];
        seg->max_timestamp = -1;
        seg->max_ts_offset = -1;
        seg->created_ms = now;
        seg->file_id = pl->next_file_id++;
    }

    free(bases);

    if (create) {
        if (sl_broker_seg_create(part, pl->segs[0].base_offset, &tmp, log)
            != SL_OK)
        {
            return SL_ERROR;
        }

        sl_broker_seg_release(&tmp);
        sl_broker_linger_reap(0);
    }

    /* trusted closed segments: sizes and last entries, nothing read */

    last = n - 1;

    for (i = 0; i < last; i++) {
        seg = &pl->segs[i];

        if (!clean && (rp_base == -1 || seg->base_offset >= rp_base)) {
            break;
        }

        if (sl_broker_seg_load(part, seg, log) != SL_OK) {
            break;
        }
    }

    /* the rest is scanned: the segment of the recovery point onwards */

    t = &pl->tail[0];
    pl->cur = 0;
    sc.expect = (i > 0) ? pl->segs[i].base_offset : 0;
    sc.truncated = 0;

    lc = sl_broker_local(part, log);
    if (lc == NULL) {
        return SL_ERROR;
    }

    part->generation++;

    if (sl_broker_local_sync(lc, log) != SL_OK) {
        return SL_ERROR;
    }

    for ( /* void */ ; i < n; i++) {
        seg = &pl->segs[i];

        ls = &lc->segs[i];

        /* a clean shutdown: the active segment is known, nothing read */

        fast = (clean && i == last && seg->base_offset == rp_base
                && sl_broker_seg_load(part, seg, log) == SL_OK
                && seg->size == rp_pos);

        if (sl_broker_seg_open(part, seg, ls, 1, log) != SL_OK) {
            return SL_ERROR;
        }

        if (fast) {
            t->seg_base = seg->base_offset;
            t->pos = seg->size;
            t->next_offset = sl_max(rp, seg->base_offset);
            t->index_n = seg->index_n;
            t->timeindex_n = seg->timeindex_n;
            t->index_mark = 0;

            if (t->index_n) {
                sl_broker_index_get(ls->imap, t->index_n - 1, &rel, &ipos);
                t->index_mark = ipos;
            }

            t->max_timestamp = t->timeindex_n ? seg->max_timestamp : -1;
            t->max_ts_offset = t->timeindex_n ? seg->max_ts_offset : -1;
            t->ti_last_ts = t->max_timestamp;
            break;
        }

        if (fstat(ls->fd, &st) == -1) {
            return SL_ERROR;
        }

        if (seg->base_offset < rp_base) {
            trusted = st.st_size;

        } else if (seg->base_offset == rp_base) {
            trusted = sl_min(rp_pos, st.st_size);

        } else {
            trusted = 0;
        }

        if (sc.truncated) {
            st.st_size = 0;
            trusted = 0;
        }

        if (sl_broker_seg_scan(part, ls, t, st.st_size, trusted, &sc, log)
            != SL_OK)
        {
            return SL_ERROR;
        }

        seg->size = t->pos;
        seg->index_n = t->index_n;
        seg->timeindex_n = t->timeindex_n;
        seg->max_timestamp = t->max_timestamp;
        seg->max_ts_offset = t->max_ts_offset;

        if (i < last) {
            if (t->max_timestamp > t->ti_last_ts
                && (t->timeindex_n + 1) * SL_BROKER_TIMEINDEX_ENTRY
                   <= ls->tmap_len)
            {
                sl_broker_timeindex_put(ls->tmap, t->timeindex_n,
                                        t->max_timestamp,
                                        (uint32_t) (t->max_ts_offset
                                                    - t->seg_base));
                t->timeindex_n++;
                seg->timeindex_n++;
            }

            (void) sl_broker_seg_trim(ls, t->index_n, t->timeindex_n, log);
            sl_broker_seg_release(ls);
        }
    }

    /* segments wholly past a cut are gone */

    if (sc.truncated) {
        for (i = pl->nsegs; i > 1; i--) {
            if (pl->segs[i - 1].size != 0) {
                break;
            }
        }

        while (pl->nsegs > i) {
            sl_broker_seg_unlink(part,
                                 pl->segs[pl->nsegs - 1].base_offset, "");
            pl->nsegs--;
        }

        /* the cut segment is the active one: redo its tail */

        seg = &pl->segs[pl->nsegs - 1];
        part->generation++;
        (void) sl_broker_local_sync(lc, log);

        ls = &lc->segs[pl->nsegs - 1];

        if (ls->fd == SL_INVALID_FILE
            ? sl_broker_seg_open(part, seg, ls, 1, log) != SL_OK
            : sl_broker_seg_extend(part, ls, log) != SL_OK)
        {
            return SL_ERROR;
        }

        sc.expect = seg->base_offset;
        sc.truncated = 0;

        if (fstat(ls->fd, &st) == -1
            || sl_broker_seg_scan(part, ls, t, st.st_size, st.st_size, &sc,
                                  log)
               != SL_OK)
        {
            return SL_ERROR;
        }
    }

    t->seg_base = pl->segs[pl->nsegs - 1].base_offset;
    pl->tail[1] = *t;

    part->size_bytes = 0;

    for (i = 0; i < pl->nsegs; i++) {
        if (i == pl->nsegs - 1) {
            pl->segs[i].size = t->pos;
        }

        part->size_bytes += pl->segs[i].size;
    }

    part->log_start_offset = sl_max(start, pl->segs[0].base_offset);
    part->log_start_offset = sl_min(part->log_start_offset, t->next_offset);
    part->recovery_point = sl_min(rp, t->next_offset);
    pl->rp_base = (rp_base == -1) ? pl->segs[0].base_offset : rp_base;
    pl->rp_pos = rp_pos;

    if (part->recovery_point < rp) {
        pl->rp_base = t->seg_base;
        pl->rp_pos = 0;
        part->recovery_point = t->seg_base;
    }

    pl->cp_offset = have_cp ? rp : -1;
    pl->cp_start = have_cp ? start : -1;
    pl->cp_base = have_cp ? rp_base : -1;
    pl->last_flush_ms = sl_broker_mono_ms();

    part->generation++;
    sl_broker_publish(part, t);

    return SL_OK;
}


/*
 * A trusted closed segment: its size, its index entries (if the index
 * files look sound) and its largest timestamp from the last time entry.
 * Anything odd and it is scanned like the tail.
 */

static sl_int_t
sl_broker_seg_load(sl_broker_partition_t *part, sl_broker_seg_t *seg,
    sl_log_t *log)
{
    u_char       path[SL_BROKER_PATH_LEN], buf[SL_BROKER_TIMEINDEX_ENTRY];
    off_t        isize;
    sl_fd_t      fd;
    uint32_t     rel, pos;
    struct stat  st;

    sl_broker_seg_path(path, part, seg->base_offset, "log");

    if (stat((char *) path, &st) == -1) {
        return SL_ERROR;
    }

    seg->size = st.st_size;
    seg->created_ms = (int64_t) st.st_mtime * 1000;

    sl_broker_seg_path(path, part, seg->base_offset, "index");

    fd = sl_open_file(path, O_RDONLY, 0, 0);
    if (fd == SL_INVALID_FILE) {
        return SL_ERROR;
    }

    if (fstat(fd, &st) == -1 || st.st_size % SL_BROKER_INDEX_ENTRY) {
        (void) sl_close_file(fd);
        return SL_ERROR;
    }

    isize = st.st_size;
    seg->index_n = (uint32_t) (isize / SL_BROKER_INDEX_ENTRY);

    if (seg->index_n) {
        if (sl_read_file(fd, buf, SL_BROKER_INDEX_ENTRY,
                         isize - SL_BROKER_INDEX_ENTRY)
            != SL_BROKER_INDEX_ENTRY)
        {
            (void) sl_close_file(fd);
            return SL_ERROR;
        }

        sl_broker_index_get(buf, 0, &rel, &pos);

        if (pos == 0 || (off_t) pos >= seg->size) {
            (void) sl_close_file(fd);
            return SL_ERROR;
        }
    }

    (void) sl_close_file(fd);

    sl_broker_seg_path(path, part, seg->base_offset, "timeindex");

    fd = sl_open_file(path, O_RDONLY, 0, 0);
    if (fd == SL_INVALID_FILE) {
        return SL_ERROR;
    }

    if (fstat(fd, &st) == -1 || st.st_size % SL_BROKER_TIMEINDEX_ENTRY) {
        (void) sl_close_file(fd);
        return SL_ERROR;
    }

    seg->timeindex_n = (uint32_t) (st.st_size / SL_BROKER_TIMEINDEX_ENTRY);

    if (seg->timeindex_n) {
        if (sl_read_file(fd, buf, SL_BROKER_TIMEINDEX_ENTRY,
                         st.st_size - SL_BROKER_TIMEINDEX_ENTRY)
            != SL_BROKER_TIMEINDEX_ENTRY)
        {
            (void) sl_close_file(fd);
            return SL_ERROR;
        }

        sl_broker_timeindex_get(buf, 0, &seg->max_timestamp, &rel);
        seg->max_ts_offset = seg->base_offset + rel;

    } else {
        seg->max_timestamp = seg->created_ms;
        seg->max_ts_offset = seg->base_offset;
    }

    (void) sl_close_file(fd);

    return SL_OK;
}


/*
 * Walks a segment's batches, rebuilding its indexes by the append rules:
 * below trusted only the headers are read, past it every batch is checked
 * (length, magic, CRC-32C, offsets) and the file cut at the first bad one.
 */

static sl_int_t
sl_broker_seg_scan(sl_broker_partition_t *part, sl_broker_lseg_t *ls,
    sl_broker_tail_t *t, off_t size, off_t trusted, sl_broker_scan_t *sc,
    sl_log_t *log)
{
    off_t               pos;
    u_char             *e;
    size_t              i;
    sl_int_t            rc;
    sl_broker_batch_t   b;

    t->seg_base = ls->base_offset;
    t->pos = 0;
    t->next_offset = sl_max(sc->expect, ls->base_offset);
    t->index_n = 0;
    t->timeindex_n = 0;
    t->index_mark = 0;
    t->max_timestamp = -1;
    t->max_ts_offset = -1;
    t->ti_last_ts = -1;

    if (size > 0 && sl_broker_seg_map_log(ls, size, log) != SL_OK) {
        return SL_ERROR;
    }

    pos = 0;

    while (pos < size) {

        if (pos + SL_BROKER_BATCH_HEADER_SIZE > size) {
            rc = SL_BROKER_ERR_CORRUPT;

        } else if (pos < trusted) {
            rc = sl_broker_batch_header(ls->map + pos, size - pos, &b);

        } else {
            rc = sl_broker_batch_parse(ls->map + pos, size - pos, &b);
        }

        /*
         * Offsets ascend with no gap past the recovery point: compaction
         * (the only source of gaps) rewrites only segments before it.
         */

        if (rc == SL_BROKER_OK
            && (b.base_offset < t->next_offset
                || (pos >= trusted && b.base_offset != t->next_offset)
                || b.base_offset + b.last_offset_delta - t->seg_base
                   > INT32_MAX))
        {
            rc = SL_BROKER_ERR_CORRUPT;
        }

        if (rc != SL_BROKER_OK) {
            sl_log_error(SL_LOG_WARN, log, 0,
                         "partition \"%.*s-%d\": segment %lld cut at "
                         "position %lld of %lld (torn or corrupt batch)",
                         SL_STR_ARG(&part->topic->name), (int) part->id,
                         (long long) ls->base_offset, (long long) pos,
                         (long long) size);

            if (ftruncate(ls->fd, pos) == -1) {
                sl_log_error(SL_LOG_ERR, log, sl_errno,
                             "ftruncate() failed");
                return SL_ERROR;
            }

            sc->truncated = 1;
            break;
        }

        sl_broker_index_batch(t, ls, b.base_offset, b.max_timestamp, pos,
                              part->topic->conf.index_interval);

        pos += SL_BROKER_B_LOG_OVERHEAD + b.length;
        t->pos = pos;
        t->next_offset = b.base_offset + b.last_offset_delta + 1;
    }

    /*
     * Entries past the rebuilt ones are cleared; they were written in
     * order, so the first empty one ends the stale ones.
     */

    for (i = t->index_n;
         (i + 1) * SL_BROKER_INDEX_ENTRY <= ls->imap_len;
         i++)
    {
        e = ls->imap + i * SL_BROKER_INDEX_ENTRY;

        if (sl_broker_get64(e) == 0) {
            break;
        }

        sl_memzero(e, SL_BROKER_INDEX_ENTRY);
    }

    for (i = t->timeindex_n;
         (i + 1) * SL_BROKER_TIMEINDEX_ENTRY <= ls->tmap_len;
         i++)
    {
        e = ls->tmap + i * SL_BROKER_TIMEINDEX_ENTRY;

        if (sl_broker_get64(e) == 0 && sl_broker_get32(e + 8) == 0) {
            break;
        }

        sl_memzero(e, SL_BROKER_TIMEINDEX_ENTRY);
    }

    sc->expect = t->next_offset;

    return SL_OK;
}


/* deletes a partition's files (its topic was deleted); unlocked */

sl_int_t
sl_broker_part_remove_files(sl_broker_partition_t *part, sl_log_t *log)
{
    u_char  path[SL_BROKER_PATH_LEN], dst[SL_BROKER_PATH_LEN], *p;

    p = sl_broker_part_dir(path, part);
    *p = '\0';

    p = sl_slprintf(dst, dst + sizeof(dst) - 1, "%s.%02x%02x%02x%02x%s",
                    (char *) path, part->topic->id[0], part->topic->id[1],
                    part->topic->id[2], part->topic->id[3],
                    SL_BROKER_DELETE_SUFFIX);
    *p = '\0';

    if (rename((char *) path, (char *) dst) == -1) {
        sl_log_error(SL_LOG_ERR, log, sl_errno,
                     "rename \"%s\" failed", (char *) path);
        return SL_ERROR;
    }

    (void) sl_atomic_fetch_add(&sl_broker_sh->pending_deletes, 1);

    return SL_OK;
}


static int
sl_broker_cmp_offsets(const void *a, const void *b)
{
    int64_t  x, y;

    x = *(const int64_t *) a;
    y = *(const int64_t *) b;

    return (x > y) - (x < y);
}


sl_uint_t
sl_broker_log_segments(sl_broker_partition_t *part)
{
    return ((sl_broker_plog_t *) part->data)->nsegs;
}


/* forgets every partition (a new storage in the same process: tests) */

void
sl_broker_local_drop_all(void)
{
    sl_uint_t  i;

    for (i = 0; i < sl_broker_nlocals; i++) {
        if (sl_broker_locals[i] && sl_broker_locals[i]->part) {
            sl_broker_local_release(sl_broker_locals[i]);
            sl_broker_locals[i]->part = NULL;
        }
    }
}
