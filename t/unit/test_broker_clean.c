
/*
 * Retention and compaction against simple in-memory models on random
 * workloads, and a full disk (ENOSPC on a small tmpfs).
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_broker.h>
#include <sl_broker_storage.h>

#include <sys/mount.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test_broker.h"


#define TB_DAY  (24 * 3600 * 1000LL)


typedef struct {
    int64_t   base;
    off_t     size;
    int64_t   max_ts;
} tb_seg_t;


static void
test_retention_model(void **state)
{
    u_char                 *b;
    size_t                  len;
    int64_t                 base, lat, now, ts, limit, start, lw;
    off_t                   total, sz;
    int                     trial, i, n, nseg, del;
    char                    name[32];
    tb_seg_t                segs[512];
    sl_str_t                tn;
    sl_broker_read_t        rd;
    sl_broker_topic_t      *topic;
    sl_broker_partition_t  *part;

    tb_setup(2048, 128);
    srandom(7);

    now = 1700000000000LL;

    for (trial = 0; trial < 40; trial++) {
        snprintf(name, sizeof(name), "ret%d", trial);
        topic = tb_topic(name, 1, NULL);
        part = sl_broker_partition(topic, 0);

        nseg = 1;
        segs[0].base = 0;
        segs[0].size = 0;
        segs[0].max_ts = -1;
        total = 0;

        n = 50 + random() % 250;
        ts = now - 10 * TB_DAY;

        for (i = 0; i < n; i++) {
            ts += random() % (TB_DAY / 20);
            b = tb_batch(&len, 1 + random() % 3, ts, 10,
                         10 + random() % 400, "k", i);

            if (segs[nseg - 1].size > 0
                && segs[nseg - 1].size + (off_t) len > 2048)
            {
                segs[nseg].base = part->log_end_offset;
                segs[nseg].size = 0;
                segs[nseg].max_ts = -1;
                nseg++;
            }

            assert_int_equal(sl_broker_log_append(part, b, len, &base, &lat,
                                                  tb_log), SL_BROKER_OK);

            segs[nseg - 1].size += len;
            segs[nseg - 1].max_ts = sl_max(segs[nseg - 1].max_ts,
                                           (int64_t) sl_broker_get64(b + 35));
            total += len;
            free(b);
        }

        assert_int_equal(sl_broker_log_segments(part), (sl_uint_t) nseg);

        /* a random policy */

        topic->conf.retention_ms = (random() % 3 == 0)
                                   ? (sl_msec_t) -1
                                   : (sl_msec_t) (random() % (12 * TB_DAY));
        topic->conf.retention_bytes = (random() % 2) ? -1
                                      : (off_t) (random() % (total + 1));

        if (topic->conf.retention_ms == (sl_msec_t) -1
            && topic->conf.retention_bytes == -1)
        {
            topic->conf.retention_bytes = total / 2;
        }

        limit = (topic->conf.retention_ms == (sl_msec_t) -1)
                ? INT64_MIN : now - (int64_t) topic->conf.retention_ms;

        del = 0;
        sz = total;

        while (del + 1 < nseg
               && (segs[del].max_ts < limit
                   || (topic->conf.retention_bytes >= 0
                       && sz - segs[del].size >= topic->conf.retention_bytes)))
        {
            sz -= segs[del].size;
            del++;
        }

        assert_int_equal(sl_broker_log_retention(part, now, tb_log), del);
        assert_int_equal(sl_broker_log_retention(part, now, tb_log), 0);

        start = segs[del].base;
        assert_int_equal(part->log_start_offset, start);
        assert_int_equal(part->size_bytes, (uint64_t) sz);
        assert_int_equal(sl_broker_log_segments(part),
                         (sl_uint_t) (nseg - del));

        /* a read returns batches of one segment: walk them all */

        for (lw = start; lw < part->log_end_offset; /* void */) {
            assert_int_equal(sl_broker_log_read(part, lw, 1 << 20, &rd,
                                                tb_log), SL_BROKER_OK);
            if (lw == start) {
                assert_int_equal(rd.first_offset, start);
            }

            lw = tb_walk(rd.mem, rd.len, lw);
        }

        if (start > 0) {
            assert_int_equal(sl_broker_log_read(part, start - 1, 100, &rd,
                                                tb_log),
                             SL_BROKER_ERR_OUT_OF_RANGE);
        }

        tn.data = (u_char *) name;
        tn.len = strlen(name);

        if (trial % 8 == 0) {
            tb_restart(trial % 16 == 0);
            part = sl_broker_partition(sl_broker_topic_find(&tn), 0);
            assert_int_equal(part->log_start_offset, start);
            assert_int_equal(sl_broker_log_delete_before(part, start, &lw,
                                                         tb_log),
                             SL_BROKER_OK);
            assert_int_equal(lw, start);
        }
    }

    tb_teardown();
}


/* a batch of records with keys "k<key[j]>" (tomb[j]: null value) */

static u_char *
tb_batch_keys(size_t *len, int n, int *key, int *tomb, int64_t ts)
{
    u_char   *b, *p, *r, rec[256];
    int       j, klen;
    char      k[16];

    b = malloc(61 + n * 256);
    assert_non_null(b);

    p = b + 61;

    for (j = 0; j < n; j++) {
        r = rec;
        *r++ = 0;
        r = sl_varint_write_s64(r, j);
        r = sl_varint_write_s32(r, j);
        klen = snprintf(k, sizeof(k), "k%d", key[j]);
        r = sl_varint_write_s32(r, klen);
        r = sl_cpymem(r, k, klen);

        if (tomb[j]) {
            r = sl_varint_write_s32(r, -1);

        } else {
            r = sl_varint_write_s32(r, 20);
            sl_memset(r, 'v', 20);
            r += 20;
        }

        r = sl_varint_write_s32(r, 0);
        p = sl_varint_write_s32(p, (int32_t) (r - rec));
        p = sl_cpymem(p, rec, r - rec);
    }

    *len = p - b;

    sl_memzero(b, 61);
    sl_broker_put32(b + 8, (uint32_t) (*len - 12));
    b[16] = 2;
    sl_broker_put32(b + 23, (uint32_t) (n - 1));
    sl_broker_put64(b + 27, (uint64_t) ts);
    sl_broker_put64(b + 35, (uint64_t) (ts + n - 1));
    sl_broker_put64(b + 43, (uint64_t) -1);
    sl_broker_put16(b + 51, (uint16_t) -1);
    sl_broker_put32(b + 53, (uint32_t) -1);
    sl_broker_put32(b + 57, (uint32_t) n);
    sl_broker_batch_set_crc(b, *len);

    return b;
}


static void
tb_consistent(sl_broker_partition_t *part, int where)
{
    sl_broker_plog_t   *pl = part->data;
    sl_broker_local_t  *lc = sl_broker_local(part, tb_log);

    /* this process's view matches the shared one when up to date */

    if (lc->generation == part->generation) {
        assert_int_equal(lc->nsegs, pl->nsegs);
    }

    (void) where;
}


typedef struct {
    int64_t   offset;
    int       key;
    int       tomb;
} tb_rec_t;


/* what the log holds from start on, record by record */

static int
tb_collect(sl_broker_partition_t *part, tb_rec_t *out)
{
    u_char              *p, *last;
    int                  n;
    int64_t              off;
    size_t               pos;
    sl_broker_read_t     rd;
    sl_broker_batch_t    b;
    sl_broker_record_t   r;

    n = 0;
    off = part->log_start_offset;

    while (off < part->high_watermark) {
        assert_int_equal(sl_broker_log_read(part, off, 1 << 20, &rd, tb_log),
                         SL_BROKER_OK);

        if (rd.len == 0) {
            break;
        }

        for (pos = 0; pos < rd.len; pos += 12 + b.length) {
            assert_int_equal(sl_broker_batch_parse(rd.mem + pos,
                                                   rd.len - pos, &b),
                             SL_BROKER_OK);

            p = rd.mem + pos + 61;
            last = rd.mem + pos + 12 + b.length;

            while (sl_broker_record_next(&p, last, &r) == SL_OK) {
                out[n].offset = b.base_offset + r.offset_delta;
                out[n].key = atoi((char *) r.key + 1);
                out[n].tomb = (r.value_len < 0);
                n++;
            }

            off = b.base_offset + b.last_offset_delta + 1;
        }
    }

    return n;
}


static void
test_compaction_model(void **state)
{
    u_char                  *b;
    size_t                   len;
    int64_t                  base, lat, now, active, ts;
    int                      trial, i, j, n, nrec, nexp, got, k;
    int                      key[3], tomb[3], last[64];
    char                     name[32];
    sl_str_t                 tn;
    tb_rec_t                *recs, *exp, *have;
    sl_broker_topic_conf_t   conf;
    sl_broker_topic_t       *topic;
    sl_broker_partition_t   *part;

    tb_setup(1024, 128);
    srandom(11);

    recs = malloc(4000 * sizeof(tb_rec_t));
    exp = malloc(4000 * sizeof(tb_rec_t));
    have = malloc(4000 * sizeof(tb_rec_t));

    for (trial = 0; trial < 30; trial++) {
        snprintf(name, sizeof(name), "cmp%d", trial);

        sl_broker_topic_conf_init(&conf);
        conf.cleanup_policy = SL_BROKER_CLEANUP_COMPACT;
        conf.delete_retention_ms = (trial % 2) ? 0 : 100 * TB_DAY;

        topic = tb_topic(name, 1, &conf);
        part = sl_broker_partition(topic, 0);

        now = sl_broker_wall_ms();
        ts = now - 2 * TB_DAY;
        nrec = 0;
        n = 100 + random() % 400;

        for (i = 0; i < n; i++) {
            k = 1 + random() % 3;

            for (j = 0; j < k; j++) {
                key[j] = random() % (4 + trial);
                tomb[j] = (random() % 10 == 0);
                recs[nrec].offset = part->log_end_offset + j;
                recs[nrec].key = key[j];
                recs[nrec].tomb = tomb[j];
                nrec++;
            }

            b = tb_batch_keys(&len, k, key, tomb, ts + i);
            assert_int_equal(sl_broker_log_append(part, b, len, &base, &lat,
                                                  tb_log), SL_BROKER_OK);
            free(b);
        }

        /* keyless records are refused on a compacted topic */

        b = tb_batch(&len, 1, ts, 1, 10, NULL, 0);
        assert_int_equal(sl_broker_log_append(part, b, len, &base, &lat,
                                              tb_log),
                         SL_BROKER_ERR_INVALID_RECORD);
        free(b);

        /* flush, checkpoint and compact: everything before the active */

        tb_consistent(part, 1);
        sl_broker_background(now, 1, tb_log);
        tb_consistent(part, 2);
        sl_broker_background(now, 1, tb_log);
        tb_consistent(part, 3);

        active = sl_broker_tail(part->data)->seg_base;

        /* the model */

        for (j = 0; j < 64; j++) {
            last[j] = -1;
        }

        for (i = 0; i < nrec; i++) {
            if (recs[i].offset < active) {
                last[recs[i].key] = i;
            }
        }

        nexp = 0;

        for (i = 0; i < nrec; i++) {
            if (recs[i].offset < active
                && (last[recs[i].key] != i
                    || (recs[i].tomb && (trial % 2))))
            {
                continue;
            }

            exp[nexp++] = recs[i];
        }

        for (j = 0; j < 2; j++) {
            got = tb_collect(part, have);
            assert_int_equal(got, nexp);

            for (i = 0; i < got; i++) {
                assert_int_equal(have[i].offset, exp[i].offset);
                assert_int_equal(have[i].key, exp[i].key);
                assert_int_equal(have[i].tomb, exp[i].tomb);
            }

            if (j == 0) {
                tn.data = (u_char *) name;
                tn.len = strlen(name);
                tb_restart(trial % 3 == 0);
                part = sl_broker_partition(sl_broker_topic_find(&tn), 0);
            }
        }

        assert_int_equal(part->log_end_offset, recs[nrec - 1].offset + 1);
    }

    free(recs);
    free(exp);
    free(have);

    tb_teardown();
}


/* a full disk: the append fails, nothing torn stays, space comes back */

static void
test_enospc(void **state)
{
    u_char                 *b;
    char                    mnt[300], filler[400];
    size_t                  len;
    int                     fd, i, failed;
    int64_t                 base, lat, leo, off;
    sl_int_t                rc;
    sl_broker_read_t        rd;
    sl_broker_partition_t  *part;
    static u_char           junk[64 * 1024];

    tb_setup_conf(64 * 1024, 4096);

    snprintf(mnt, sizeof(mnt), "%s", tb_dir);

    if (mount("tmpfs", mnt, "tmpfs", 0, "size=1m") != 0) {
        tb_teardown();
        skip();
    }

    tb_reopen();
    part = sl_broker_partition(tb_topic("full", 1, NULL), 0);

    /* room to give back later */

    snprintf(filler, sizeof(filler), "%s/filler", mnt);
    fd = open(filler, O_WRONLY|O_CREAT, 0644);
    assert_true(fd >= 0);

    for (i = 0; i < 4; i++) {
        assert_int_equal(write(fd, junk, sizeof(junk)), (ssize_t) sizeof(junk));
    }

    close(fd);

    failed = 0;

    for (i = 0; i < 1000 && failed < 5; i++) {
        b = tb_batch(&len, 4, 1000 + i, 1, 2000, "k", i);
        leo = part->log_end_offset;

        rc = sl_broker_log_append(part, b, len, &base, &lat, tb_log);
        free(b);

        if (rc != SL_BROKER_OK) {
            assert_int_equal(rc, SL_BROKER_ERR_STORAGE);
            assert_int_equal(part->log_end_offset, leo);
            failed++;
        }
    }

    assert_true(failed > 0);

    leo = part->log_end_offset;

    off = 0;
    while (off < leo) {
        assert_int_equal(sl_broker_log_read(part, off, 1 << 20, &rd, tb_log),
                         SL_BROKER_OK);
        off = tb_walk(rd.mem, rd.len, off);
    }

    assert_int_equal(off, leo);

    /* space again */

    assert_int_equal(unlink(filler), 0);

    for (i = 0; i < 10; i++) {
        b = tb_batch(&len, 4, 5000 + i, 1, 2000, "k", i);
        assert_int_equal(sl_broker_log_append(part, b, len, &base, &lat,
                                              tb_log), SL_BROKER_OK);
        assert_int_equal(base, leo + i * 4);
        free(b);
    }

    leo = part->log_end_offset;

    /* and it all comes back after an unclean restart */

    tb_reopen();
    part = sl_broker_partition(sl_broker_topic_find(&tb_str("full")), 0);
    assert_int_equal(part->log_end_offset, leo);

    sl_broker_local_drop_all();
    sl_broker_linger_reap(1);

    assert_int_equal(umount2(mnt, MNT_DETACH), 0);

    tb_teardown();
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_retention_model),
        cmocka_unit_test(test_compaction_model),
        cmocka_unit_test(test_enospc),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
