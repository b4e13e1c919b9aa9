
/*
 * Posted events: handlers deferred to after the poll, run in the order
 * they were posted.  Accept events have their own queue and run first,
 * so that new connections are taken before old ones are served.  A pass
 * runs the events posted before it: those a handler posts meanwhile (a
 * keep-alive connection whose next request is already there) wait for
 * the next pass, after a poll that does not block, so that busy
 * connections cannot starve the ones the poll has not collected yet.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_event.h>


sl_queue_t  sl_posted_accept_events = {
    &sl_posted_accept_events, &sl_posted_accept_events
};

sl_queue_t  sl_posted_events = { &sl_posted_events, &sl_posted_events };


void
sl_event_process_posted(sl_cycle_t *cycle, sl_queue_t *posted)
{
    sl_queue_t   pass, *q;
    sl_event_t  *ev;

    if (sl_queue_empty(posted)) {
        return;
    }

    /* this pass's events move to a queue of their own */

    pass.next = posted->next;
    pass.prev = posted->prev;
    pass.next->prev = &pass;
    pass.prev->next = &pass;

    sl_queue_init(posted);

    while (!sl_queue_empty(&pass)) {

        q = sl_queue_head(&pass);
        ev = sl_queue_data(q, sl_event_t, queue);

        sl_log_debug(ev->log, "posted event %p", (void *) ev);

        sl_delete_posted_event(ev);

        ev->handler(ev);
    }
}
