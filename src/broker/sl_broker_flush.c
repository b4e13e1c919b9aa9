
/*
 * Flushing and checkpoints.  A flush fsyncs every segment from the
 * recovery point to the end and then moves the recovery point; the
 * background writes it, with the log start offset, to the partition's
 * "checkpoint" file, so that a start after a crash scans only what lies
 * past it.  A clean shutdown also trims the active indexes and leaves
 * data/.clean_shutdown: the next start reads no segment at all.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_broker.h>
#include <sl_broker_storage.h>


typedef struct {
    sl_fd_t                  fd;
    sl_fd_t                  ifd;
    sl_fd_t                  tfd;
} sl_broker_sync_t;


sl_int_t
sl_broker_log_flush(sl_broker_partition_t *part, sl_log_t *log)
{
    off_t               pos;
    int64_t             leo, base, unflushed;
    sl_int_t            rc;
    sl_uint_t           i, first, n;
    sl_broker_sync_t   *fds;
    sl_broker_tail_t   *t;
    sl_broker_plog_t   *pl;
    sl_broker_lseg_t   *ls;
    sl_broker_local_t  *lc;

    pl = part->data;

    if (sl_broker_lock(part, log) != SL_OK) {
        return SL_ERROR;
    }

    lc = sl_broker_local(part, log);
    t = sl_broker_tail(pl);

    leo = t->next_offset;
    base = t->seg_base;
    pos = t->pos;
    unflushed = pl->unflushed;

    if (leo == part->recovery_point && pos == pl->rp_pos) {
        sl_broker_unlock(part);
        pl->last_flush_ms = sl_broker_mono_ms();
        return SL_OK;
    }

    for (first = lc->nsegs - 1; first > 0; first--) {
        if (lc->info[first].base_offset <= pl->rp_base) {
            break;
        }
    }

    n = lc->nsegs - first;

    fds = malloc(n * sizeof(sl_broker_sync_t));
    if (fds == NULL) {
        sl_broker_unlock(part);
        return SL_ERROR;
    }

    for (i = 0; i < n; i++) {
        ls = &lc->segs[first + i];

        if (ls->fd == SL_INVALID_FILE
            && sl_broker_seg_open(part, &lc->info[first + i], ls, 0, log)
               != SL_OK)
        {
            free(fds);
            sl_broker_unlock(part);
            return SL_ERROR;
        }

        fds[i].fd = ls->fd;
        fds[i].ifd = (first + i < lc->nsegs - 1) ? ls->ifd : SL_INVALID_FILE;
        fds[i].tfd = (first + i < lc->nsegs - 1) ? ls->tfd : SL_INVALID_FILE;
    }

    sl_broker_unlock(part);

    /* descriptors of segments removed meanwhile linger: still valid */

    rc = SL_OK;

    for (i = 0; i < n; i++) {
        if (fdatasync(fds[i].fd) == -1
            || (fds[i].ifd != SL_INVALID_FILE && fdatasync(fds[i].ifd) == -1)
            || (fds[i].tfd != SL_INVALID_FILE && fdatasync(fds[i].tfd) == -1))
        {
            sl_log_error(SL_LOG_CRIT, log, sl_errno,
                         "fsync of \"%.*s-%d\" failed",
                         SL_STR_ARG(&part->topic->name), (int) part->id);
            rc = SL_ERROR;
            break;
        }
    }

    free(fds);

    if (rc != SL_OK) {
        return rc;
    }

    if (sl_broker_lock(part, log) != SL_OK) {
        return SL_ERROR;
    }

    if (leo > part->recovery_point
        || (leo == part->recovery_point && pos > pl->rp_pos))
    {
        pl->rp_base = base;
        pl->rp_pos = pos;
        sl_atomic_store(&part->recovery_point, leo);
    }

    pl->unflushed -= sl_min(unflushed, pl->unflushed);

    sl_broker_unlock(part);

    pl->last_flush_ms = sl_broker_mono_ms();

    return SL_OK;
}


sl_int_t
sl_broker_checkpoint_read(sl_broker_partition_t *part, int64_t *rp,
    int64_t *base, off_t *pos, int64_t *start, sl_log_t *log)
{
    u_char     *p, *last, *f[4];
    u_char      path[SL_BROKER_PATH_LEN], buf[256];
    int64_t     v[4];
    sl_fd_t     fd;
    ssize_t     n;
    sl_uint_t   i;

    p = sl_broker_part_dir(path, part);
    *sl_slprintf(p, path + sizeof(path) - 1, "/%s",
                 SL_BROKER_CHECKPOINT) = '\0';

    fd = sl_open_file(path, O_RDONLY, 0, 0);
    if (fd == SL_INVALID_FILE) {
        return SL_DECLINED;
    }

    n = sl_read_file(fd, buf, sizeof(buf) - 1, 0);
    (void) sl_close_file(fd);

    if (n <= 0) {
        return SL_ERROR;
    }

    buf[n] = '\0';

    /* "sluice-checkpoint 1\n<rp> <rp segment> <rp position> <start>\n" */

    if (sl_strncmp(buf, "sluice-checkpoint 1\n", 20) != 0) {
        goto invalid;
    }

    p = buf + 20;
    last = buf + n;

    for (i = 0; i < 4; i++) {
        f[i] = p;

        while (p < last && *p >= '0' && *p <= '9') {
            p++;
        }

        if (p == f[i] || p == last || (*p != ' ' && *p != '\n')) {
            goto invalid;
        }

        v[i] = sl_atoof(f[i], p - f[i]);
        if (v[i] < 0) {
            goto invalid;
        }

        p++;
    }

    *rp = v[0];
    *base = v[1];
    *pos = v[2];
    *start = v[3];

    return SL_OK;

invalid:

    sl_log_error(SL_LOG_WARN, log, 0, "invalid checkpoint \"%s\" ignored",
                 (char *) path);

    return SL_ERROR;
}


/*
 * clean: the caller flushed everything and trimmed the indexes, so the
 * recovery point is the end.  Called from one process at a time (the
 * background, DeleteRecords, shutdown); a race only writes an older
 * recovery point, which is safe.
 */

sl_int_t
sl_broker_checkpoint_write(sl_broker_partition_t *part, sl_uint_t clean,
    sl_log_t *log)
{
    u_char            *p;
    u_char             path[SL_BROKER_PATH_LEN], buf[256];
    off_t              pos;
    int64_t            rp, base, start;
    sl_broker_plog_t  *pl;

    pl = part->data;

    if (sl_broker_lock(part, log) != SL_OK) {
        return SL_ERROR;
    }

    rp = part->recovery_point;
    base = pl->rp_base;
    pos = pl->rp_pos;
    start = part->log_start_offset;

    if (base < pl->segs[0].base_offset) {
        /* the recovery point's segment is gone: the first one is flushed */
        base = pl->segs[0].base_offset;
        pos = 0;
        rp = sl_max(rp, base);
    }

    sl_broker_unlock(part);

    p = sl_slprintf(buf, buf + sizeof(buf),
                    "sluice-checkpoint 1\n%lld %lld %lld %lld\n",
                    (long long) rp, (long long) base, (long long) pos,
                    (long long) start);

    path[0] = '\0';
    *sl_slprintf(sl_broker_part_dir(path, part), path + sizeof(path) - 1,
                 "/%s", SL_BROKER_CHECKPOINT) = '\0';

    if (sl_write_file_atomic(path, buf, p - buf, log) != SL_OK) {
        sl_log_error(SL_LOG_ERR, log, sl_errno,
                     "checkpoint \"%s\" not written", (char *) path);
        return SL_ERROR;
    }

    pl->cp_offset = rp;
    pl->cp_base = base;
    pl->cp_start = start;

    (void) clean;

    return SL_OK;
}


/*
 * Closes a partition cleanly: a last time entry, the active indexes
 * trimmed to their entries, everything flushed, a checkpoint at the end.
 */

sl_int_t
sl_broker_part_close(sl_broker_partition_t *part, sl_log_t *log)
{
    sl_broker_tail_t   *t, *nt;
    sl_broker_plog_t   *pl;
    sl_broker_lseg_t   *ls;
    sl_broker_local_t  *lc;

    pl = part->data;

    if (sl_broker_lock(part, log) != SL_OK) {
        return SL_ERROR;
    }

    lc = sl_broker_local(part, log);
    ls = &lc->segs[lc->nsegs - 1];
    t = sl_broker_tail(pl);

    if (ls->fd == SL_INVALID_FILE
        && sl_broker_seg_open(part, &lc->info[lc->nsegs - 1], ls, 1, log)
           != SL_OK)
    {
        sl_broker_unlock(part);
        return SL_ERROR;
    }

    if (!ls->writable && sl_broker_seg_extend(part, ls, log) != SL_OK) {
        sl_broker_unlock(part);
        return SL_ERROR;
    }

    nt = &pl->tail[pl->cur ^ 1];
    *nt = *t;

    if (nt->max_timestamp > nt->ti_last_ts
        && (nt->timeindex_n + 1) * SL_BROKER_TIMEINDEX_ENTRY <= ls->tmap_len)
    {
        sl_broker_timeindex_put(ls->tmap, nt->timeindex_n, nt->max_timestamp,
                                (uint32_t) (nt->max_ts_offset
                                            - nt->seg_base));
        nt->timeindex_n++;
        nt->ti_last_ts = nt->max_timestamp;
    }

    sl_atomic_store(&pl->cur, pl->cur ^ 1);
    sl_broker_publish(part, nt);

    (void) sl_broker_seg_trim(ls, nt->index_n, nt->timeindex_n, log);

    /* an append after this re-extends the files first */
    ls->writable = 0;

    (void) fdatasync(ls->ifd);
    (void) fdatasync(ls->tfd);

    sl_broker_unlock(part);

    if (sl_broker_log_flush(part, log) != SL_OK) {
        return SL_ERROR;
    }

    return sl_broker_checkpoint_write(part, 1, log);
}
