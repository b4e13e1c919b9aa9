
/*
 * Posted events: handlers deferred to after the poll, run in the order
 * they were posted.  Accept events have their own queue and run first,
 * so that new connections are taken before old ones are served.  A
 * handler may post more events while the queue runs; they run in the
 * same pass.
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
    sl_queue_t  *q;
    sl_event_t  *ev;

    while (!sl_queue_empty(posted)) {

        q = sl_queue_head(posted);
        ev = sl_queue_data(q, sl_event_t, queue);

        sl_log_debug(ev->log, "posted event %p", (void *) ev);

        sl_delete_posted_event(ev);

        ev->handler(ev);
    }
}
