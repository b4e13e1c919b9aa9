
/*
 * The two indexes of a segment, as Kafka lays them out (big-endian):
 * .index entries (offset - base: 4, position: 4) added every
 * index_interval bytes, and .timeindex entries (max timestamp so far: 8,
 * offset - base: 4).  Both are preallocated and mapped; entries only
 * grow, so lookups are binary searches over the first n.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_broker.h>
#include <sl_broker_storage.h>


void
sl_broker_index_put(u_char *imap, uint32_t i, uint32_t rel, uint32_t pos)
{
    u_char  *p;

    p = imap + (size_t) i * SL_BROKER_INDEX_ENTRY;

    sl_broker_put32(p, rel);
    sl_broker_put32(p + 4, pos);
}


void
sl_broker_index_get(u_char *imap, uint32_t i, uint32_t *rel, uint32_t *pos)
{
    u_char  *p;

    p = imap + (size_t) i * SL_BROKER_INDEX_ENTRY;

    *rel = sl_broker_get32(p);
    *pos = sl_broker_get32(p + 4);
}


/* the position of the last indexed batch at or before rel, else 0 */

off_t
sl_broker_index_lookup(u_char *imap, uint32_t n, uint32_t rel)
{
    uint32_t  lo, hi, mid, r, pos, found;

    lo = 0;
    hi = n;
    found = 0;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        sl_broker_index_get(imap, mid, &r, &pos);

        if (r <= rel) {
            found = pos;
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    return found;
}


void
sl_broker_timeindex_put(u_char *tmap, uint32_t i, int64_t ts, uint32_t rel)
{
    u_char  *p;

    p = tmap + (size_t) i * SL_BROKER_TIMEINDEX_ENTRY;

    sl_broker_put64(p, (uint64_t) ts);
    sl_broker_put32(p + 8, rel);
}


void
sl_broker_timeindex_get(u_char *tmap, uint32_t i, int64_t *ts, uint32_t *rel)
{
    u_char  *p;

    p = tmap + (size_t) i * SL_BROKER_TIMEINDEX_ENTRY;

    *ts = (int64_t) sl_broker_get64(p);
    *rel = sl_broker_get32(p + 8);
}


/*
 * Every record before the offset of an entry has a timestamp no greater
 * than the entry's; the largest entry strictly below ts is therefore a
 * safe place to start looking for the first timestamp >= ts.
 */

int64_t
sl_broker_timeindex_lookup(u_char *tmap, uint32_t n, int64_t ts)
{
    int64_t   t, found;
    uint32_t  lo, hi, mid, rel;

    lo = 0;
    hi = n;
    found = 0;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        sl_broker_timeindex_get(tmap, mid, &t, &rel);

        if (t < ts) {
            found = rel;
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    return found;
}


/*
 * A cheap test of a trusted index (constant time, so that start-up does
 * not grow with the log): the last entries ascend and point inside it.
 */

sl_int_t
sl_broker_index_check(u_char *imap, uint32_t n, off_t size)
{
    uint32_t  rel, pos, prel, ppos;

    if (n == 0) {
        return SL_OK;
    }

    sl_broker_index_get(imap, n - 1, &rel, &pos);

    if (pos == 0 || (off_t) pos >= size) {
        return SL_ERROR;
    }

    if (n > 1) {
        sl_broker_index_get(imap, n - 2, &prel, &ppos);

        if (prel >= rel || ppos >= pos) {
            return SL_ERROR;
        }
    }

    return SL_OK;
}


/* the last entry whose position is at or before pos ({0, 0} if none) */

sl_broker_ientry_t
sl_broker_index_seek(u_char *imap, uint32_t n, off_t pos)
{
    uint32_t            lo, hi, mid, r, p;
    sl_broker_ientry_t  found;

    lo = 0;
    hi = n;
    found.rel = 0;
    found.pos = 0;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        sl_broker_index_get(imap, mid, &r, &p);

        if ((off_t) p <= pos) {
            found.rel = r;
            found.pos = p;
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    return found;
}
