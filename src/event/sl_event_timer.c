
/*
 * Timers: a red-black tree of events keyed by the absolute expiry in
 * sl_current_msec (the monotonic clock cached by the loop).  Keys wrap
 * around, so they are compared by their signed difference, never with
 * '<' (sl_rbtree_insert_timer_value does the same for ties: an equal
 * expiry goes right, so timers of the same expiry fire in the order
 * they were added).
 *
 * A timer re-armed to almost the same expiry is left alone: protocol
 * code re-arms its read timeout after every read, and moving a node in
 * the tree each time would cost more than a timer firing a little late.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_event.h>


sl_rbtree_t              sl_event_timer_rbtree;
static sl_rbtree_node_t  sl_event_timer_sentinel;


sl_int_t
sl_event_timer_init(sl_log_t *log)
{
    sl_rbtree_init(&sl_event_timer_rbtree, &sl_event_timer_sentinel,
                   sl_rbtree_insert_timer_value);

    return SL_OK;
}


/* milliseconds until the nearest timer, 0 if one is due already */

sl_msec_t
sl_event_find_timer(void)
{
    sl_msec_int_t      timer;
    sl_rbtree_node_t  *node, *root, *sentinel;

    root = sl_event_timer_rbtree.root;
    sentinel = sl_event_timer_rbtree.sentinel;

    if (root == sentinel) {
        return SL_TIMER_INFINITE;
    }

    node = sl_rbtree_min(root, sentinel);

    timer = (sl_msec_int_t) (node->key - sl_current_msec);

    return (sl_msec_t) (timer > 0 ? timer : 0);
}


void
sl_event_expire_timers(void)
{
    sl_event_t        *ev;
    sl_rbtree_node_t  *node, *root, *sentinel;

    sentinel = sl_event_timer_rbtree.sentinel;

    for ( ;; ) {
        root = sl_event_timer_rbtree.root;

        if (root == sentinel) {
            return;
        }

        node = sl_rbtree_min(root, sentinel);

        if ((sl_msec_int_t) (node->key - sl_current_msec) > 0) {
            return;
        }

        ev = (sl_event_t *) ((u_char *) node - offsetof(sl_event_t, timer));

        sl_log_debug(ev->log, "event timer expired: %p", (void *) ev);

        sl_rbtree_delete(&sl_event_timer_rbtree, &ev->timer);

        ev->timer_set = 0;
        ev->timedout = 1;

        ev->handler(ev);
    }
}


/*
 * SL_OK when only cancelable timers remain: a worker that is shutting
 * down gracefully exits then instead of waiting for idle timeouts.
 */

sl_int_t
sl_event_no_timers_left(void)
{
    sl_event_t        *ev;
    sl_rbtree_node_t  *node, *root, *sentinel;

    sentinel = sl_event_timer_rbtree.sentinel;
    root = sl_event_timer_rbtree.root;

    if (root == sentinel) {
        return SL_OK;
    }

    for (node = sl_rbtree_min(root, sentinel);
         node;
         node = sl_rbtree_next(&sl_event_timer_rbtree, node))
    {
        ev = (sl_event_t *) ((u_char *) node - offsetof(sl_event_t, timer));

        if (!ev->cancelable) {
            return SL_AGAIN;
        }
    }

    return SL_OK;
}


void
sl_event_add_timer(sl_event_t *ev, sl_msec_t timer)
{
    sl_msec_t      key;
    sl_msec_int_t  diff;

    key = sl_current_msec + timer;

    if (ev->timer_set) {

        diff = (sl_msec_int_t) (key - ev->timer.key);

        if (sl_abs(diff) < SL_TIMER_LAZY_DELAY) {
            return;
        }

        sl_event_del_timer(ev);
    }

    ev->timer.key = key;

    sl_rbtree_insert(&sl_event_timer_rbtree, &ev->timer);

    ev->timer_set = 1;
}


void
sl_event_del_timer(sl_event_t *ev)
{
    sl_rbtree_delete(&sl_event_timer_rbtree, &ev->timer);

    ev->timer.left = NULL;
    ev->timer.right = NULL;
    ev->timer.parent = NULL;

    ev->timer_set = 0;
}
