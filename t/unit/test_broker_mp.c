
/*
 * Many processes appending to one partition, as workers do: every offset
 * assigned once and contiguous, every batch whole with a valid CRC; and
 * the same while appenders are killed with SIGKILL in the middle of an
 * append (holding the lock), many times.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_broker.h>
#include <sl_broker_storage.h>

#include <setjmp.h>
#include <cmocka.h>

#include "test_broker.h"


#define TB_CHILDREN   4
#define TB_BATCHES    300
#define TB_MAXSEQ     100000


static int  tb_kill_stage;
static int  tb_kill_after;


static void
tb_hook(sl_uint_t stage)
{
    if ((int) stage == tb_kill_stage && --tb_kill_after <= 0) {
        raise(SIGKILL);
    }
}


static void
tb_child(sl_broker_partition_t *part, int child, int batches)
{
    u_char   *b;
    size_t    len;
    int64_t   base, lat;
    int       seq;
    char      key[16];

    snprintf(key, sizeof(key), "c%d.", child);

    for (seq = 0; seq < batches; seq++) {
        b = tb_batch(&len, 1 + seq % 3, 1000 + seq, 1, 100 + seq % 700, key,
                     seq);

        if (sl_broker_log_append(part, b, len, &base, &lat, tb_log)
            != SL_BROKER_OK)
        {
            _exit(2);
        }

        free(b);
    }

    _exit(0);
}


/* walks the whole log: contiguous, valid, each (child, seq) once */

static int64_t
tb_verify(sl_broker_partition_t *part, u_char *seen, int *counts)
{
    u_char             *p, *last, *k;
    int64_t             off, expect;
    sl_int_t            rc;
    sl_broker_read_t    rd;
    sl_broker_batch_t   b;
    sl_broker_record_t  r;
    int                 child, seq;
    size_t              pos;

    expect = part->log_start_offset;
    off = expect;

    while (off < part->high_watermark) {
        rc = sl_broker_log_read(part, off, 1 << 20, &rd, tb_log);
        assert_int_equal(rc, SL_BROKER_OK);
        assert_true(rd.len > 0);

        pos = 0;

        while (pos < rd.len) {
            assert_int_equal(sl_broker_batch_parse(rd.mem + pos,
                                                   rd.len - pos, &b),
                             SL_BROKER_OK);
            assert_int_equal(b.base_offset, expect);

            p = rd.mem + pos + 61;
            last = rd.mem + pos + 12 + b.length;
            assert_int_equal(sl_broker_record_next(&p, last, &r), SL_OK);

            k = r.key;
            assert_true(r.key_len > 3 && k[0] == 'c');
            assert_int_equal(sscanf((char *) k + 1, "%d.%d-", &child, &seq),
                             2);
            assert_true(child >= 0 && child < TB_CHILDREN);
            assert_true(seq >= 0 && seq < TB_MAXSEQ);
            assert_int_equal(b.records_count, 1 + seq % 3);

            /* every batch once */
            assert_int_equal(seen[child * TB_MAXSEQ + seq], 0);
            seen[child * TB_MAXSEQ + seq] = 1;
            counts[child]++;

            expect = b.base_offset + b.last_offset_delta + 1;
            pos += 12 + b.length;
        }

        off = expect;
    }

    assert_int_equal(expect, part->high_watermark);

    return expect;
}


static void
test_concurrent_appends(void **state)
{
    u_char                 *seen;
    int                     i, status, counts[TB_CHILDREN];
    pid_t                   pids[TB_CHILDREN];
    int64_t                 leo;
    sl_broker_partition_t  *part;

    tb_setup(64 * 1024, 512);
    part = sl_broker_partition(tb_topic("mp", 1, NULL), 0);

    for (i = 0; i < TB_CHILDREN; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);

        if (pids[i] == 0) {
            tb_child(part, i, TB_BATCHES);
        }
    }

    for (i = 0; i < TB_CHILDREN; i++) {
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }

    seen = calloc(TB_CHILDREN, TB_MAXSEQ);
    sl_memzero(counts, sizeof(counts));

    leo = tb_verify(part, seen, counts);

    for (i = 0; i < TB_CHILDREN; i++) {
        assert_int_equal(counts[i], TB_BATCHES);
    }

    assert_int_equal(leo, TB_CHILDREN * TB_BATCHES * 2);
    assert_true(sl_broker_log_segments(part) > 10);

    /* and the same from disk, without a clean shutdown */

    tb_restart(0);
    part = sl_broker_partition(sl_broker_topic_find(&tb_str("mp")), 0);
    assert_int_equal(part->log_end_offset, leo);

    sl_memzero(seen, TB_CHILDREN * TB_MAXSEQ);
    sl_memzero(counts, sizeof(counts));
    assert_int_equal(tb_verify(part, seen, counts), leo);

    free(seen);
    tb_teardown();
}


/*
 * Rounds of three appenders, one of which dies: either inside the
 * append at a chosen stage (holding the lock), or by a SIGKILL from
 * the parent at a random moment.  The others go on; nothing torn or
 * doubled is ever visible, and the victim's batches are a prefix.
 */

static void
test_killed_appender(void **state)
{
    u_char                 *seen;
    int                     i, round, status, victim, counts[TB_CHILDREN];
    int                     rounds, j;
    pid_t                   pids[3];
    sl_broker_partition_t  *part;

    rounds = getenv("TB_ROUNDS") ? atoi(getenv("TB_ROUNDS")) : 60;

    tb_setup(32 * 1024, 256);
    part = sl_broker_partition(tb_topic("kill", 1, NULL), 0);

    srandom(12345);

    seen = calloc(TB_CHILDREN, TB_MAXSEQ);

    for (round = 0; round < rounds; round++) {
        victim = random() % 3;
        tb_kill_stage = (round % 2 == 0) ? 1 + random() % 4 : 0;
        tb_kill_after = 1 + random() % 40;

        for (i = 0; i < 3; i++) {
            pids[i] = fork();
            assert_true(pids[i] >= 0);

            if (pids[i] == 0) {
                if (i == victim && tb_kill_stage) {
                    sl_broker_append_hook = tb_hook;
                }

                /* a child number per round keeps keys distinct */
                tb_child(part, i, 60);
            }
        }

        if (tb_kill_stage == 0) {
            usleep(random() % 20000);
            kill(pids[victim], SIGKILL);
        }

        for (i = 0; i < 3; i++) {
            assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);

            if (i != victim) {
                assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
            }
        }

        /* every round starts from an empty seen map: use a new topic */

        sl_memzero(seen, TB_CHILDREN * TB_MAXSEQ);
        sl_memzero(counts, sizeof(counts));

        (void) tb_verify(part, seen, counts);

        for (i = 0; i < 3; i++) {
            if (i != victim) {
                assert_int_equal(counts[i], 60);
            }
        }

        /* the victim's batches are a prefix of what it sent */

        for (j = 0; j < 60; j++) {
            assert_int_equal(seen[victim * TB_MAXSEQ + j], j < counts[victim]);
        }

        /* next round on a fresh partition, so keys do not repeat */

        assert_int_equal(sl_broker_topic_delete(&tb_str("kill"), tb_log),
                         SL_BROKER_OK);
        part = sl_broker_partition(tb_topic("kill", 1, NULL), 0);
    }

    free(seen);
    tb_teardown();
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_concurrent_appends),
        cmocka_unit_test(test_killed_appender),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
