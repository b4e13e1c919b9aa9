
/*
 * The timer tree: expiry order, ties, deletion, the lazy re-add, many
 * timers at once, the clock wrapping around, what sl_event_find_timer()
 * reports, and which timers hold a gracefully exiting worker back.  The
 * clock is sl_current_msec, set by hand.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_event.h>

#include <setjmp.h>
#include <cmocka.h>


#define TEST_MANY  10000


typedef struct {
    sl_event_t     ev;
    sl_uint_t      id;
} test_timer_t;


static void test_record(sl_event_t *ev);


static sl_uint_t  test_fired[TEST_MANY];
static sl_uint_t  test_nfired;


static void
test_record(sl_event_t *ev)
{
    test_timer_t  *t;

    t = (test_timer_t *) ev;

    assert_true(ev->timedout);
    assert_false(ev->timer_set);

    if (test_nfired < TEST_MANY) {
        test_fired[test_nfired] = t->id;
    }

    test_nfired++;
}


static void
test_init_timer(test_timer_t *t, sl_uint_t id)
{
    sl_memzero(t, sizeof(test_timer_t));

    t->id = id;
    t->ev.handler = test_record;
}


static int
test_setup(void **state)
{
    sl_current_msec = 1000;
    test_nfired = 0;

    return sl_event_timer_init(NULL) == SL_OK ? 0 : -1;
}


static void
test_empty(void **state)
{
    assert_int_equal(sl_event_find_timer(), SL_TIMER_INFINITE);
    assert_int_equal(sl_event_no_timers_left(), SL_OK);

    sl_event_expire_timers();

    assert_int_equal(test_nfired, 0);
}


static void
test_order(void **state)
{
    test_timer_t  t[4];

    test_init_timer(&t[0], 0);
    test_init_timer(&t[1], 1);
    test_init_timer(&t[2], 2);
    test_init_timer(&t[3], 3);

    sl_add_timer(&t[0].ev, 5000);
    sl_add_timer(&t[1].ev, 1000);
    sl_add_timer(&t[2].ev, 3000);
    sl_add_timer(&t[3].ev, 2000);

    assert_true(t[0].ev.timer_set);
    assert_int_equal(sl_event_find_timer(), 1000);

    sl_current_msec += 999;
    assert_int_equal(sl_event_find_timer(), 1);
    sl_event_expire_timers();
    assert_int_equal(test_nfired, 0);

    sl_current_msec += 1;
    assert_int_equal(sl_event_find_timer(), 0);
    sl_event_expire_timers();
    assert_int_equal(test_nfired, 1);
    assert_int_equal(test_fired[0], 1);

    assert_int_equal(sl_event_find_timer(), 1000);

    /* late by far: everything due fires, earliest first */

    sl_current_msec += 10000;
    assert_int_equal(sl_event_find_timer(), 0);
    sl_event_expire_timers();

    assert_int_equal(test_nfired, 4);
    assert_int_equal(test_fired[1], 3);
    assert_int_equal(test_fired[2], 2);
    assert_int_equal(test_fired[3], 0);

    assert_int_equal(sl_event_find_timer(), SL_TIMER_INFINITE);
}


static void
test_same_expiry(void **state)
{
    sl_uint_t     i;
    test_timer_t  t[8];

    for (i = 0; i < 8; i++) {
        test_init_timer(&t[i], i);
        sl_add_timer(&t[i].ev, 100);
    }

    sl_current_msec += 100;
    sl_event_expire_timers();

    /* equal expiry: in the order they were added */

    assert_int_equal(test_nfired, 8);

    for (i = 0; i < 8; i++) {
        assert_int_equal(test_fired[i], i);
    }
}


static void
test_delete(void **state)
{
    test_timer_t  t[3];

    test_init_timer(&t[0], 0);
    test_init_timer(&t[1], 1);
    test_init_timer(&t[2], 2);

    sl_add_timer(&t[0].ev, 100);
    sl_add_timer(&t[1].ev, 200);
    sl_add_timer(&t[2].ev, 300);

    sl_del_timer(&t[0].ev);
    assert_false(t[0].ev.timer_set);
    assert_int_equal(sl_event_find_timer(), 200);

    sl_del_timer(&t[2].ev);

    sl_current_msec += 1000;
    sl_event_expire_timers();

    assert_int_equal(test_nfired, 1);
    assert_int_equal(test_fired[0], 1);

    assert_int_equal(sl_event_find_timer(), SL_TIMER_INFINITE);
}


static void
test_readd(void **state)
{
    test_timer_t  t[2];

    test_init_timer(&t[0], 0);
    test_init_timer(&t[1], 1);

    sl_add_timer(&t[0].ev, 1000);
    sl_add_timer(&t[1].ev, 1200);

    /* within SL_TIMER_LAZY_DELAY of the old expiry: left where it is */

    sl_current_msec += 100;
    sl_add_timer(&t[0].ev, 1000);
    assert_int_equal(t[0].ev.timer.key, 2000);
    assert_int_equal(sl_event_find_timer(), 900);

    /* further: moved, so t[1] now comes first */

    sl_current_msec += SL_TIMER_LAZY_DELAY;
    sl_add_timer(&t[0].ev, 1000);
    assert_int_equal(t[0].ev.timer.key, 1000 + 100 + SL_TIMER_LAZY_DELAY
                                        + 1000);
    assert_int_equal(sl_event_find_timer(), 1200 - 100 - SL_TIMER_LAZY_DELAY);

    /* earlier is moved as well */

    sl_add_timer(&t[0].ev, 10);
    assert_int_equal(sl_event_find_timer(), 10);

    sl_current_msec += 2000;
    sl_event_expire_timers();

    assert_int_equal(test_nfired, 2);
    assert_int_equal(test_fired[0], 0);
    assert_int_equal(test_fired[1], 1);

    /* an expired timer can be armed again */

    sl_add_timer(&t[0].ev, 50);
    assert_true(t[0].ev.timer_set);
    assert_int_equal(sl_event_find_timer(), 50);

    sl_current_msec += 50;
    sl_event_expire_timers();
    assert_int_equal(test_nfired, 3);
}


static void
test_many(void **state)
{
    sl_uint_t      i, key;
    sl_msec_t      prev;
    test_timer_t  *t;

    t = malloc(sizeof(test_timer_t) * TEST_MANY);
    assert_non_null(t);

    /* a permutation of 0..TEST_MANY-1 as the timeouts, ids = timeouts */

    for (i = 0; i < TEST_MANY; i++) {
        key = (i * 7919) % TEST_MANY;
        test_init_timer(&t[i], key);
        sl_add_timer(&t[i].ev, key);
    }

    /* delete every third one */

    for (i = 0; i < TEST_MANY; i += 3) {
        sl_del_timer(&t[i].ev);
    }

    prev = 0;

    while (sl_event_find_timer() != SL_TIMER_INFINITE) {
        sl_current_msec += sl_event_find_timer();
        sl_event_expire_timers();
        assert_true(sl_current_msec >= prev);
        prev = sl_current_msec;
    }

    assert_int_equal(test_nfired, TEST_MANY - (TEST_MANY + 2) / 3);

    for (i = 1; i < test_nfired; i++) {
        assert_true(test_fired[i - 1] < test_fired[i]);
    }

    for (i = 0; i < TEST_MANY; i++) {
        assert_false(t[i].ev.timer_set);
    }

    free(t);
}


static void
test_wrap_around(void **state)
{
    test_timer_t  t[3];

    /* the clock is about to wrap: keys compare by signed difference */

    sl_current_msec = (sl_msec_t) -100;

    test_init_timer(&t[0], 0);
    test_init_timer(&t[1], 1);
    test_init_timer(&t[2], 2);

    sl_add_timer(&t[0].ev, 300);
    sl_add_timer(&t[1].ev, 50);
    sl_add_timer(&t[2].ev, 150);

    assert_int_equal(sl_event_find_timer(), 50);

    sl_current_msec += 60;
    sl_event_expire_timers();
    assert_int_equal(test_nfired, 1);
    assert_int_equal(sl_event_find_timer(), 90);

    sl_current_msec += 100;      /* wrapped: now 60 */
    assert_int_equal(sl_current_msec, 60);
    sl_event_expire_timers();
    assert_int_equal(test_nfired, 2);
    assert_int_equal(sl_event_find_timer(), 140);

    sl_current_msec += 140;
    sl_event_expire_timers();

    assert_int_equal(test_nfired, 3);
    assert_int_equal(test_fired[0], 1);
    assert_int_equal(test_fired[1], 2);
    assert_int_equal(test_fired[2], 0);
}


static void
test_cancelable(void **state)
{
    test_timer_t  t[2];

    test_init_timer(&t[0], 0);
    test_init_timer(&t[1], 1);

    t[0].ev.cancelable = 1;

    sl_add_timer(&t[0].ev, 100);
    assert_int_equal(sl_event_no_timers_left(), SL_OK);

    sl_add_timer(&t[1].ev, 200);
    assert_int_equal(sl_event_no_timers_left(), SL_AGAIN);

    sl_del_timer(&t[1].ev);
    assert_int_equal(sl_event_no_timers_left(), SL_OK);

    sl_del_timer(&t[0].ev);
    assert_int_equal(sl_event_no_timers_left(), SL_OK);
}


/* a handler may re-arm its own timer and arm others while expiring */

static void
test_rearm_handler(sl_event_t *ev)
{
    test_record(ev);

    if (test_nfired < 3) {
        sl_add_timer(ev, 0);
    }
}


static void
test_rearm_in_handler(void **state)
{
    test_timer_t  t;

    test_init_timer(&t, 7);
    t.ev.handler = test_rearm_handler;

    sl_add_timer(&t.ev, 10);

    sl_current_msec += 10;
    sl_event_expire_timers();

    /* re-armed with 0 is due now, so it fires in the same pass */

    assert_int_equal(test_nfired, 3);
    assert_false(t.ev.timer_set);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_setup(test_empty, test_setup),
        cmocka_unit_test_setup(test_order, test_setup),
        cmocka_unit_test_setup(test_same_expiry, test_setup),
        cmocka_unit_test_setup(test_delete, test_setup),
        cmocka_unit_test_setup(test_readd, test_setup),
        cmocka_unit_test_setup(test_many, test_setup),
        cmocka_unit_test_setup(test_wrap_around, test_setup),
        cmocka_unit_test_setup(test_cancelable, test_setup),
        cmocka_unit_test_setup(test_rearm_in_handler, test_setup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
