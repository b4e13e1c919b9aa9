
/*
 * Retention (cleanup_policy delete): whole closed segments go, oldest
 * first, while their largest timestamp is older than retention or the
 * partition is larger than retention_bytes without them; the log start
 * offset moves to the first segment kept.  The active segment is never
 * deleted.  Only the list changes under the lock; files are unlinked
 * after it, and processes still reading them keep their descriptors.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_broker.h>
#include <sl_broker_storage.h>


sl_int_t
sl_broker_log_retention(sl_broker_partition_t *part, int64_t now,
    sl_log_t *log)
{
    off_t                    size;
    int64_t                 *bases, limit, ts;
    sl_uint_t                i, n;
    sl_broker_seg_t         *seg;
    sl_broker_plog_t        *pl;
    sl_broker_topic_conf_t  *conf;

    pl = part->data;
    conf = &part->topic->conf;

    if (conf->cleanup_policy != SL_BROKER_CLEANUP_DELETE
        || (conf->retention_ms == (sl_msec_t) -1
            && conf->retention_bytes < 0))
    {
        return 0;
    }

    if (sl_broker_lock(part, log) != SL_OK) {
        return 0;
    }

    limit = (conf->retention_ms == (sl_msec_t) -1)
            ? INT64_MIN : now - (int64_t) conf->retention_ms;

    size = (off_t) part->size_bytes;
    n = 0;

    for (i = 0; i + 1 < pl->nsegs; i++) {
        seg = &pl->segs[i];

        /* a segment without timestamps is as old as its creation */
        ts = (seg->max_timestamp >= 0) ? seg->max_timestamp : seg->created_ms;

        if (ts < limit
            || (conf->retention_bytes >= 0
                && size - seg->size >= conf->retention_bytes))
        {
            size -= seg->size;
            n++;
            continue;
        }

        break;
    }

    if (n == 0) {
        sl_broker_unlock(part);
        return 0;
    }

    bases = malloc(n * sizeof(int64_t));
    if (bases == NULL) {
        sl_broker_unlock(part);
        return 0;
    }

    for (i = 0; i < n; i++) {
        bases[i] = pl->segs[i].base_offset;
    }

    (void) sl_broker_segs_remove(part, 0, n);

    if (pl->segs[0].base_offset > part->log_start_offset) {
        sl_atomic_store(&part->log_start_offset, pl->segs[0].base_offset);
    }

    sl_broker_unlock(part);

    for (i = 0; i < n; i++) {
        sl_broker_seg_unlink(part, bases[i], "");
    }

    free(bases);

    sl_log_error(SL_LOG_INFO, log, 0,
                 "partition \"%.*s-%d\": %d segments past retention "
                 "deleted, log start offset %lld",
                 SL_STR_ARG(&part->topic->name), (int) part->id, (int) n,
                 (long long) part->log_start_offset);

    (void) sl_broker_checkpoint_write(part, 0, log);

    return (sl_int_t) n;
}
