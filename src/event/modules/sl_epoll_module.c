
/*
 * The epoll back end: the only one.  One epoll instance per process,
 * created in the worker (never inherited: the master has none).
 *
 * A connection is registered once for read and write, edge-triggered
 * (sl_add_conn); epoll's data points to the connection with the event's
 * "instance" bit in the pointer's low bit.  The bit flips every time a
 * connection slot is reused, so an event reported for a connection that
 * was closed (and perhaps reopened) earlier in the same batch is seen as
 * stale and dropped.
 *
 * Listening sockets, the doorbell and channels are fds shared with other
 * processes: closing our copy does not take them out of our epoll set,
 * so they are always removed explicitly (flags 0, never SL_CLOSE_EVENT).
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_event.h>


#define SL_EPOLL_NEVENTS  512


static int                  ep = -1;
static struct epoll_event  *event_list;
static sl_uint_t            nevents;

static sl_str_t             epoll_name = sl_string("epoll");


static sl_event_module_t  sl_epoll_module_ctx = {
    &epoll_name,
    NULL,                                  /* create configuration */
    NULL                                   /* init configuration */
};


sl_module_t  sl_epoll_module = {
    SL_MODULE_V1,
    &sl_epoll_module_ctx,                  /* module context */
    NULL,                                  /* module directives */
    SL_EVENT_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    SL_MODULE_V1_PADDING
};


sl_int_t
sl_epoll_init(sl_cycle_t *cycle, sl_msec_t timer)
{
    if (ep == -1) {
        ep = epoll_create1(EPOLL_CLOEXEC);

        if (ep == -1) {
            sl_log_error(SL_LOG_EMERG, cycle->log, sl_errno,
                         "epoll_create1() failed");
            return SL_ERROR;
        }
    }

    if (event_list == NULL) {
        nevents = SL_EPOLL_NEVENTS;

        event_list = sl_alloc(sizeof(struct epoll_event) * nevents,
                              cycle->log);
        if (event_list == NULL) {
            return SL_ERROR;
        }
    }

    sl_event_flags = SL_CLEAR_EVENT;

    return SL_OK;
}


void
sl_epoll_done(sl_cycle_t *cycle)
{
    if (ep != -1 && close(ep) == -1) {
        sl_log_error(SL_LOG_ALERT, cycle->log, sl_errno,
                     "epoll close() failed");
    }

    ep = -1;

    sl_free(event_list);

    event_list = NULL;
    nevents = 0;
}


/*
 * Adds one direction.  If the other direction is registered already the
 * fd is modified to carry both.  flags: SL_CLEAR_EVENT (edge-triggered),
 * SL_LEVEL_EVENT, or SL_EXCLUSIVE_EVENT for shared listening sockets.
 */

sl_int_t
sl_add_event(sl_event_t *ev, sl_int_t event, sl_uint_t flags)
{
    int                  op;
    uint32_t             events, prev;
    sl_event_t          *e;
    sl_connection_t     *c;
    struct epoll_event   ee;

    c = ev->data;

    events = (uint32_t) event;

    if (event == SL_READ_EVENT) {
        e = c->write;
        prev = EPOLLOUT;

    } else {
        e = c->read;
        prev = EPOLLIN|EPOLLRDHUP;
    }

    if (e->active) {
        op = EPOLL_CTL_MOD;
        events |= prev;

    } else {
        op = EPOLL_CTL_ADD;
    }

    if (flags & SL_EXCLUSIVE_EVENT) {
        /* the kernel refuses EPOLLRDHUP together with EPOLLEXCLUSIVE */
        events &= ~EPOLLRDHUP;
    }

    ee.events = events | (uint32_t) flags;
    ee.data.ptr = (void *) ((uintptr_t) c | ev->instance);

    if (epoll_ctl(ep, op, c->fd, &ee) == -1) {
        sl_log_error(SL_LOG_ALERT, ev->log, sl_errno,
                     "epoll_ctl(%d, %d) failed", op, c->fd);
        return SL_ERROR;
    }

    ev->active = 1;

    return SL_OK;
}


/*
 * Removes one direction.  With SL_CLOSE_EVENT the caller is about to
 * close an fd nobody else holds, which removes it from epoll anyway.
 */

sl_int_t
sl_del_event(sl_event_t *ev, sl_int_t event, sl_uint_t flags)
{
    int                  op;
    uint32_t             prev;
    sl_event_t          *e;
    sl_connection_t     *c;
    struct epoll_event   ee;

    if (flags & SL_CLOSE_EVENT) {
        ev->active = 0;
        return SL_OK;
    }

    c = ev->data;

    if (event == SL_READ_EVENT) {
        e = c->write;
        prev = EPOLLOUT;

    } else {
        e = c->read;
        prev = EPOLLIN|EPOLLRDHUP;
    }

    if (e->active) {
        /* both directions of a connection are edge-triggered */
        op = EPOLL_CTL_MOD;
        ee.events = prev|EPOLLET;
        ee.data.ptr = (void *) ((uintptr_t) c | ev->instance);

    } else {
        op = EPOLL_CTL_DEL;
        ee.events = 0;
        ee.data.ptr = NULL;
    }

    if (epoll_ctl(ep, op, c->fd, &ee) == -1) {
        sl_log_error(SL_LOG_ALERT, ev->log, sl_errno,
                     "epoll_ctl(%d, %d) failed", op, c->fd);
        return SL_ERROR;
    }

    ev->active = 0;

    return SL_OK;
}


sl_int_t
sl_add_conn(sl_connection_t *c)
{
    struct epoll_event  ee;

    ee.events = EPOLLIN|EPOLLOUT|EPOLLET|EPOLLRDHUP;
    ee.data.ptr = (void *) ((uintptr_t) c | c->read->instance);

    if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ee) == -1) {
        sl_log_error(SL_LOG_ALERT, c->log, sl_errno,
                     "epoll_ctl(EPOLL_CTL_ADD, %d) failed", c->fd);
        return SL_ERROR;
    }

    c->read->active = 1;
    c->write->active = 1;

    return SL_OK;
}


sl_int_t
sl_del_conn(sl_connection_t *c, sl_uint_t flags)
{
    struct epoll_event  ee;

    if (!(flags & SL_CLOSE_EVENT)) {
        ee.events = 0;
        ee.data.ptr = NULL;

        if (epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, &ee) == -1) {
            sl_log_error(SL_LOG_ALERT, c->log, sl_errno,
                         "epoll_ctl(EPOLL_CTL_DEL, %d) failed", c->fd);
            return SL_ERROR;
        }
    }

    c->read->active = 0;
    c->write->active = 0;

    return SL_OK;
}


/*
 * Waits at most timer ms and dispatches what is ready: the handlers are
 * called here, or posted when flags has SL_POST_EVENTS.  An error or a
 * hang-up makes both directions ready, so that the handler's next recv()
 * or send() reports it.
 */

sl_int_t
sl_process_events(sl_cycle_t *cycle, sl_msec_t timer, sl_uint_t flags)
{
    int               events, wait;
    uint32_t          revents;
    sl_err_t          err;
    sl_uint_t         i, instance;
    sl_queue_t       *queue;
    sl_event_t       *rev, *wev;
    sl_connection_t  *c;

    if (timer == SL_TIMER_INFINITE) {
        wait = -1;

    } else {
        /* a timer weeks away: wake early, find it still pending */
        wait = (timer > INT_MAX) ? INT_MAX : (int) timer;
    }

    events = epoll_wait(ep, event_list, (int) nevents, wait);

    err = (events == -1) ? sl_errno : 0;

    if (flags & SL_UPDATE_TIME) {
        sl_time_update();
    }

    if (err) {
        if (err == SL_EINTR) {
            /* a signal: the process cycle looks at its flags next */
            return SL_OK;
        }

        sl_log_error(SL_LOG_ALERT, cycle->log, err, "epoll_wait() failed");
        return SL_ERROR;
    }

    if (events == 0) {
        if (timer != SL_TIMER_INFINITE) {
            return SL_OK;
        }

        sl_log_error(SL_LOG_ALERT, cycle->log, 0,
                     "epoll_wait() returned no events without timeout");
        return SL_ERROR;
    }

    for (i = 0; i < (sl_uint_t) events; i++) {
        c = event_list[i].data.ptr;

        instance = (uintptr_t) c & 1;
        c = (sl_connection_t *) ((uintptr_t) c & (uintptr_t) ~1);

        rev = c->read;

        if (c->fd == -1 || rev->instance != instance) {
            sl_log_debug(cycle->log, "epoll: stale event %p", (void *) c);
            continue;
        }

        revents = event_list[i].events;

        if (revents & (EPOLLERR|EPOLLHUP)) {
            revents |= EPOLLIN|EPOLLOUT;
        }

        if ((revents & EPOLLIN) && rev->active) {

            if (revents & EPOLLRDHUP) {
                rev->pending_eof = 1;
            }

            rev->ready = 1;
            rev->available = -1;

            if (flags & SL_POST_EVENTS) {
                queue = rev->accept ? &sl_posted_accept_events
                                    : &sl_posted_events;

                sl_post_event(rev, queue);

            } else {
                rev->handler(rev);
            }
        }

        wev = c->write;

        if ((revents & EPOLLOUT) && wev->active) {

            /* the read handler may have closed the connection */

            if (c->fd == -1 || wev->instance != instance) {
                sl_log_debug(cycle->log, "epoll: stale event %p",
                             (void *) c);
                continue;
            }

            wev->ready = 1;

            if (flags & SL_POST_EVENTS) {
                sl_post_event(wev, &sl_posted_events);

            } else {
                wev->handler(wev);
            }
        }
    }

    return SL_OK;
}
