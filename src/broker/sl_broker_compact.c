
/*
 * Compaction (cleanup_policy compact): the latest record of every key
 * stays, older ones go, and tombstones (null values) go too once their
 * segment is older than delete_retention.  It runs in the background
 * process over the closed segments below the checkpointed recovery point
 * (so that recovery never scans a segment with offset gaps), writes each
 * changed segment to *.cleaned files and swaps them in under the lock;
 * appends never wait for it.  Batches keep their base offset and last
 * offset delta, as Kafka's cleaner does.  Compressed batches are kept
 * whole: their keys are not visible without the codecs.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_broker.h>
#include <sl_broker_storage.h>


typedef struct {
    uint64_t                 hash;
    int64_t                  offset;
} sl_broker_okey_t;


typedef struct {
    sl_broker_okey_t        *keys;
    size_t                   mask;
    size_t                   n;
} sl_broker_omap_t;


static uint64_t sl_broker_key_hash(u_char *key, int32_t len);
static sl_int_t sl_broker_omap_put(sl_broker_omap_t *m, uint64_t h,
    int64_t offset);
static int64_t sl_broker_omap_get(sl_broker_omap_t *m, uint64_t h);
static sl_int_t sl_broker_map_segment(sl_broker_lseg_t *ls, off_t size,
    sl_broker_omap_t *m, sl_log_t *log);
static sl_int_t sl_broker_clean_segment(sl_broker_partition_t *part,
    sl_broker_local_t *lc, sl_uint_t i, sl_broker_omap_t *m, int64_t now,
    sl_log_t *log);
static sl_int_t sl_broker_clean_file(sl_broker_partition_t *part,
    int64_t base, const char *ext, u_char *data, size_t len, sl_log_t *log);


sl_int_t
sl_broker_log_compact(sl_broker_partition_t *part, int64_t now,
    sl_log_t *log)
{
    int64_t             bound;
    sl_int_t            cleaned;
    sl_uint_t           i, n;
    sl_broker_plog_t   *pl;
    sl_broker_lseg_t   *ls;
    sl_broker_local_t  *lc;
    sl_broker_omap_t    m;

    pl = part->data;

    if (part->topic->conf.cleanup_policy != SL_BROKER_CLEANUP_COMPACT) {
        return 0;
    }

    if (sl_broker_lock(part, log) != SL_OK) {
        return SL_ERROR;
    }

    lc = sl_broker_local(part, log);
    bound = pl->cp_base;

    n = 0;

    while (n + 1 < lc->nsegs && lc->info[n].base_offset < bound) {
        n++;
    }

    sl_broker_unlock(part);

    if (n == 0) {
        return 0;
    }

    m.mask = 1023;
    m.n = 0;
    m.keys = calloc(m.mask + 1, sizeof(sl_broker_okey_t));

    if (m.keys == NULL) {
        return SL_ERROR;
    }

    /* the latest offset of every key in the part being cleaned */

    for (i = 0; i < n; i++) {
        ls = &lc->segs[i];

        if (ls->fd == SL_INVALID_FILE
            && sl_broker_seg_open(part, &lc->info[i], ls, 0, log) != SL_OK)
        {
            free(m.keys);
            return SL_ERROR;
        }

        if (sl_broker_map_segment(ls, lc->info[i].size, &m, log) != SL_OK) {
            sl_log_error(SL_LOG_ERR, log, 0,
                         "partition \"%.*s-%d\": segment %lld not compacted",
                         SL_STR_ARG(&part->topic->name), (int) part->id,
                         (long long) lc->info[i].base_offset);
            free(m.keys);
            return SL_ERROR;
        }
    }

    cleaned = 0;

    for (i = 0; i < n; i++) {
        if (sl_broker_clean_segment(part, lc, i, &m, now, log) == SL_OK) {
            cleaned++;
        }
    }

    free(m.keys);

    return cleaned;
}


static sl_int_t
sl_broker_map_segment(sl_broker_lseg_t *ls, off_t size, sl_broker_omap_t *m,
    sl_log_t *log)
{
    u_char              *p, *last;
    off_t                pos;
    sl_int_t             rc;
    sl_broker_batch_t    b;
    sl_broker_record_t   r;

    if (size == 0) {
        return SL_OK;
    }

    if (sl_broker_seg_map_log(ls, size, log) != SL_OK) {
        return SL_ERROR;
    }

    for (pos = 0; pos < size; pos += SL_BROKER_B_LOG_OVERHEAD + b.length) {

        if (sl_broker_batch_header(ls->map + pos, size - pos, &b)
            != SL_BROKER_OK)
        {
            return SL_ERROR;
        }

        if (b.attributes & (SL_BROKER_ATTR_COMPRESSION|SL_BROKER_ATTR_CONTROL))
        {
            continue;
        }

        p = ls->map + pos + SL_BROKER_BATCH_HEADER_SIZE;
        last = ls->map + pos + SL_BROKER_B_LOG_OVERHEAD + b.length;

        while ((rc = sl_broker_record_next(&p, last, &r)) == SL_OK) {
            if (r.key_len >= 0
                && sl_broker_omap_put(m, sl_broker_key_hash(r.key, r.key_len),
                                      b.base_offset + r.offset_delta)
                   != SL_OK)
            {
                return SL_ERROR;
            }
        }

        if (rc != SL_DONE) {
            return SL_ERROR;
        }
    }

    return SL_OK;
}


static sl_int_t
sl_broker_clean_segment(sl_broker_partition_t *part, sl_broker_local_t *lc,
    sl_uint_t i, sl_broker_omap_t *m, int64_t now, sl_log_t *log)
{
    u_char                  *p, *last, *out, *o, *path_end;
    u_char                   path[SL_BROKER_PATH_LEN], dst[SL_BROKER_PATH_LEN];
    off_t                    pos, size, opos;
    int64_t                  base, ts, off;
    size_t                   cap, blen;
    int32_t                  kept;
    sl_int_t                 rc;
    sl_uint_t                j, tombs, changed;
    sl_broker_seg_t         *seg;
    sl_broker_plog_t        *pl;
    sl_broker_lseg_t        *ls, tmp;
    sl_broker_tail_t         t;
    sl_broker_batch_t        b;
    sl_broker_record_t       r;
    sl_broker_topic_conf_t  *conf;

    pl = part->data;
    conf = &part->topic->conf;
    ls = &lc->segs[i];
    size = lc->info[i].size;
    base = lc->info[i].base_offset;

    if (size == 0) {
        return SL_DECLINED;
    }

    ts = (lc->info[i].max_timestamp >= 0) ? lc->info[i].max_timestamp
                                          : lc->info[i].created_ms;
    tombs = (ts + (int64_t) conf->delete_retention_ms < now);

    out = malloc(size);
    cap = (size_t) size / sl_max(conf->index_interval, 1) + 2;

    sl_memzero(&tmp, sizeof(sl_broker_lseg_t));
    tmp.imap_len = cap * SL_BROKER_INDEX_ENTRY;
    tmp.tmap_len = cap * SL_BROKER_TIMEINDEX_ENTRY;
    tmp.imap = malloc(tmp.imap_len);
    tmp.tmap = malloc(tmp.tmap_len);

    if (out == NULL || tmp.imap == NULL || tmp.tmap == NULL) {
        rc = SL_ERROR;
        goto done;
    }

    sl_memzero(&t, sizeof(sl_broker_tail_t));
    t.seg_base = base;
    t.max_timestamp = -1;
    t.max_ts_offset = -1;
    t.ti_last_ts = -1;

    opos = 0;
    changed = 0;

    for (pos = 0; pos < size; pos += SL_BROKER_B_LOG_OVERHEAD + b.length) {

        if (sl_broker_batch_header(ls->map + pos, size - pos, &b)
            != SL_BROKER_OK)
        {
            rc = SL_ERROR;
            goto done;
        }

        blen = SL_BROKER_B_LOG_OVERHEAD + b.length;
        o = out + opos;

        if (b.attributes & (SL_BROKER_ATTR_COMPRESSION|SL_BROKER_ATTR_CONTROL))
        {
            sl_memcpy(o, ls->map + pos, blen);

        } else {
            sl_memcpy(o, ls->map + pos, SL_BROKER_BATCH_HEADER_SIZE);
            o += SL_BROKER_BATCH_HEADER_SIZE;

            p = ls->map + pos + SL_BROKER_BATCH_HEADER_SIZE;
            last = ls->map + pos + blen;
            kept = 0;

            while (sl_broker_record_next(&p, last, &r) == SL_OK) {
                off = b.base_offset + r.offset_delta;

                if (r.key_len >= 0
                    && sl_broker_omap_get(m, sl_broker_key_hash(r.key,
                                                                r.key_len))
                       != off)
                {
                    continue;
                }

                if (r.value_len < 0 && tombs) {
                    continue;
                }

                o = sl_cpymem(o, r.start, r.end - r.start);
                kept++;
            }

            if (kept == b.records_count) {
                sl_memcpy(out + opos, ls->map + pos, blen);

            } else {
                changed = 1;

                if (kept == 0) {
                    continue;
                }

                blen = o - (out + opos);
                sl_broker_put32(out + opos + SL_BROKER_B_LENGTH,
                                (uint32_t) (blen - SL_BROKER_B_LOG_OVERHEAD));
                sl_broker_put32(out + opos + SL_BROKER_B_COUNT,
                                (uint32_t) kept);
                sl_broker_batch_set_crc(out + opos, blen);
            }
        }

        if ((t.index_n + 2) * SL_BROKER_INDEX_ENTRY <= tmp.imap_len) {
            sl_broker_index_batch(&t, &tmp, b.base_offset, b.max_timestamp,
                                  opos, conf->index_interval);
        }

        opos += blen;
    }

    if (!changed) {
        rc = SL_DECLINED;
        goto done;
    }

    if (t.max_timestamp > t.ti_last_ts) {
        sl_broker_timeindex_put(tmp.tmap, t.timeindex_n, t.max_timestamp,
                                (uint32_t) (t.max_ts_offset - base));
        t.timeindex_n++;
    }

    if (sl_broker_clean_file(part, base, "log", out, opos, log) != SL_OK
        || sl_broker_clean_file(part, base, "index", tmp.imap,
                                t.index_n * SL_BROKER_INDEX_ENTRY, log)
           != SL_OK
        || sl_broker_clean_file(part, base, "timeindex", tmp.tmap,
                                t.timeindex_n * SL_BROKER_TIMEINDEX_ENTRY,
                                log)
           != SL_OK)
    {
        sl_broker_seg_unlink(part, base, ".cleaned");
        rc = SL_ERROR;
        goto done;
    }

    /*
     * The swap: the old indexes go first, so that a crash in the middle
     * leaves a segment whose indexes are rebuilt from whichever .log is
     * there (both are valid).
     */

    if (sl_broker_lock(part, log) != SL_OK) {
        sl_broker_seg_unlink(part, base, ".cleaned");
        rc = SL_ERROR;
        goto done;
    }

    seg = NULL;

    for (j = 0; j < pl->nsegs; j++) {
        if (pl->segs[j].base_offset == base
            && pl->segs[j].file_id == lc->info[i].file_id)
        {
            seg = &pl->segs[j];
            break;
        }
    }

    if (seg == NULL || pl->deleted) {
        /* removed meanwhile by retention or DeleteRecords */
        sl_broker_unlock(part);
        sl_broker_seg_unlink(part, base, ".cleaned");
        rc = SL_DECLINED;
        goto done;
    }

    sl_broker_seg_path(path, part, base, "index");
    (void) sl_delete_file(path);
    sl_broker_seg_path(path, part, base, "timeindex");
    (void) sl_delete_file(path);

    rc = SL_OK;

    for (j = 0; j < 3; j++) {
        const char  *ext[] = { "log", "index", "timeindex" };
        u_char       cext[32];

        *sl_slprintf(cext, cext + sizeof(cext) - 1, "%s.cleaned",
                     ext[j]) = '\0';
        sl_broker_seg_path(path, part, base, (char *) cext);
        sl_broker_seg_path(dst, part, base, ext[j]);

        if (rename((char *) path, (char *) dst) == -1) {
            sl_log_error(SL_LOG_CRIT, log, sl_errno,
                         "rename \"%s\" failed", (char *) path);
            rc = SL_ERROR;
        }
    }

    (void) sl_atomic_fetch_add(&part->size_bytes,
                               (uint64_t) opos - (uint64_t) seg->size);
    seg->size = opos;
    seg->index_n = t.index_n;
    seg->timeindex_n = t.timeindex_n;
    seg->file_id = pl->next_file_id++;

    (void) sl_atomic_fetch_add(&part->generation, 1);

    sl_broker_unlock(part);

    path_end = sl_broker_part_dir(path, part);
    *path_end = '\0';
    (void) sl_fsync_dir(path);

    sl_log_error(SL_LOG_INFO, log, 0,
                 "partition \"%.*s-%d\": segment %lld compacted, "
                 "%lld to %lld bytes",
                 SL_STR_ARG(&part->topic->name), (int) part->id,
                 (long long) base, (long long) size, (long long) opos);

done:

    free(out);
    free(tmp.imap);
    free(tmp.tmap);

    return rc;
}


static sl_int_t
sl_broker_clean_file(sl_broker_partition_t *part, int64_t base,
    const char *ext, u_char *data, size_t len, sl_log_t *log)
{
    u_char   path[SL_BROKER_PATH_LEN], cext[32];
    sl_fd_t  fd;

    *sl_slprintf(cext, cext + sizeof(cext) - 1, "%s.cleaned", ext) = '\0';
    sl_broker_seg_path(path, part, base, (char *) cext);

    fd = sl_open_file(path, O_WRONLY, O_CREAT|O_TRUNC, 0644);
    if (fd == SL_INVALID_FILE) {
        goto failed;
    }

    if ((len && sl_write_file(fd, data, len, 0) != (ssize_t) len)
        || fdatasync(fd) == -1)
    {
        (void) sl_close_file(fd);
        goto failed;
    }

    (void) sl_close_file(fd);

    return SL_OK;

failed:

    sl_log_error(SL_LOG_ERR, log, sl_errno, "\"%s\" not written",
                 (char *) path);

    return SL_ERROR;
}


/* FNV-1a, then mixed: only equal keys may collide in practice */

static uint64_t
sl_broker_key_hash(u_char *key, int32_t len)
{
    int32_t   i;
    uint64_t  h;

    h = 0xcbf29ce484222325ULL ^ (uint64_t) len;

    for (i = 0; i < len; i++) {
        h ^= key[i];
        h *= 0x100000001b3ULL;
    }

    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;

    return h ? h : 1;
}


static sl_int_t
sl_broker_omap_put(sl_broker_omap_t *m, uint64_t h, int64_t offset)
{
    size_t             i, j;
    sl_broker_okey_t  *keys, *old;

    if (m->n * 2 >= m->mask) {
        keys = calloc((m->mask + 1) * 2, sizeof(sl_broker_okey_t));
        if (keys == NULL) {
            return SL_ERROR;
        }

        old = m->keys;
        m->keys = keys;
        j = m->mask;
        m->mask = m->mask * 2 + 1;
        m->n = 0;

        for (i = 0; i <= j; i++) {
            if (old[i].hash) {
                (void) sl_broker_omap_put(m, old[i].hash, old[i].offset);
            }
        }

        free(old);
    }

    for (i = h & m->mask; m->keys[i].hash; i = (i + 1) & m->mask) {
        if (m->keys[i].hash == h) {
            if (offset > m->keys[i].offset) {
                m->keys[i].offset = offset;
            }

            return SL_OK;
        }
    }

    m->keys[i].hash = h;
    m->keys[i].offset = offset;
    m->n++;

    return SL_OK;
}


static int64_t
sl_broker_omap_get(sl_broker_omap_t *m, uint64_t h)
{
    size_t  i;

    for (i = h & m->mask; m->keys[i].hash; i = (i + 1) & m->mask) {
        if (m->keys[i].hash == h) {
            return m->keys[i].offset;
        }
    }

    return -1;
}
