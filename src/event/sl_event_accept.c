
/*
 * Accepting connections.  Every worker has every listening socket in its
 * epoll set with EPOLLEXCLUSIVE (level-triggered), so the kernel wakes
 * one or a few workers per connection instead of all of them; the one
 * woken accepts until EAGAIN.
 *
 * When the worker has no free connection (worker_connections reached)
 * or no fd left, it stops accepting for a short while and lets the other
 * workers take the connections: otherwise the level-triggered socket
 * would wake it again at once and the loop would spin.  The listening
 * event's own timer turns accepting back on.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_event.h>


static void sl_event_accept_pause(sl_event_t *ev);
static void sl_close_accepted_connection(sl_connection_t *c);
static u_char *sl_connection_log_error(sl_log_t *log, u_char *buf,
    size_t len);


void
sl_event_accept(sl_event_t *ev)
{
    sl_log_t         *log;
    sl_err_t          err;
    socklen_t         socklen;
    sl_socket_t       s;
    sl_sockaddr_t     sa;
    sl_listening_t   *ls;
    sl_connection_t  *c, *lc;

    if (ev->timedout) {
        if (sl_enable_accept_events((sl_cycle_t *) sl_cycle) != SL_OK) {
            return;
        }

        ev->timedout = 0;
    }

    lc = ev->data;
    ls = lc->listening;
    ev->ready = 0;

    for ( ;; ) {
        socklen = sizeof(sl_sockaddr_t);

        s = accept4(lc->fd, &sa.sockaddr, &socklen,
                    SOCK_NONBLOCK|SOCK_CLOEXEC);

        if (s == (sl_socket_t) -1) {
            err = sl_socket_errno;

            if (err == SL_EAGAIN) {
                return;
            }

            if (err == SL_EINTR || err == SL_ECONNABORTED) {
                /* the client gave up before we took it: take the next */
                continue;
            }

            sl_log_error(SL_LOG_ALERT, ev->log, err, "accept4() failed");

            /*
             * Out of descriptors or memory: the socket is level-triggered
             * and would wake us at once, so pause and let others accept.
             */

            if (err == SL_EMFILE || err == SL_ENFILE
                || err == ENOBUFS || err == ENOMEM)
            {
                sl_event_accept_pause(ev);
            }

            return;
        }

        sl_stat_add(accepted, 1);

        c = sl_get_connection(s, ev->log);

        if (c == NULL) {
            if (close(s) == -1) {
                sl_log_error(SL_LOG_ALERT, ev->log, sl_socket_errno,
                             "close() socket failed");
            }

            sl_event_accept_pause(ev);
            return;
        }

        c->type = SOCK_STREAM;
        c->listening = ls;

        sl_stat_active_add(1);

        c->pool = sl_create_pool(ls->pool_size, ev->log);
        if (c->pool == NULL) {
            sl_close_accepted_connection(c);
            return;
        }

        if (socklen > (socklen_t) sizeof(sl_sockaddr_t)) {
            socklen = sizeof(sl_sockaddr_t);
        }

        c->sockaddr = sl_palloc(c->pool, socklen);
        if (c->sockaddr == NULL) {
            sl_close_accepted_connection(c);
            return;
        }

        sl_memcpy(c->sockaddr, &sa, socklen);
        c->socklen = socklen;

        log = sl_palloc(c->pool, sizeof(sl_log_t));
        if (log == NULL) {
            sl_close_accepted_connection(c);
            return;
        }

        *log = ls->log;

        /* until the protocol installs its own */
        log->handler = sl_connection_log_error;
        log->data = c;
        log->action = NULL;

        c->log = log;
        c->pool->log = log;

        c->recv = sl_unix_recv;
        c->send = sl_unix_send;
        c->send_chain = sl_linux_sendfile_chain;

        c->local_sockaddr = ls->sockaddr;
        c->local_socklen = ls->socklen;

        c->read->log = log;
        c->write->log = log;

        /* a new socket can take data at once */
        c->write->ready = 1;

        c->number = sl_connection_counter
                    ? sl_atomic_fetch_add(sl_connection_counter, 1)
                    : 0;
        log->connection = c->number;

        c->start_time = sl_current_msec;

        sl_stat_add(handled, 1);

        c->addr_text.data = sl_pnalloc(c->pool, SL_SOCKADDR_STRLEN);
        if (c->addr_text.data == NULL) {
            sl_close_accepted_connection(c);
            return;
        }

        c->addr_text.len = sl_sock_ntop(c->sockaddr, c->socklen,
                                        c->addr_text.data,
                                        SL_SOCKADDR_STRLEN, 0);
        if (c->addr_text.len == 0) {
            sl_close_accepted_connection(c);
            return;
        }

        sl_log_debug(log, "*%lu accept: %.*s fd:%d",
                     (unsigned long) c->number, SL_STR_ARG(&c->addr_text),
                     s);

        if (sl_add_conn(c) == SL_ERROR) {
            sl_close_accepted_connection(c);
            return;
        }

        ls->handler(c);
    }
}


/* stops this worker's accepting for a while; the listening timer resumes */

static void
sl_event_accept_pause(sl_event_t *ev)
{
    sl_event_conf_t  *ecf;

    if (sl_disable_accept_events((sl_cycle_t *) sl_cycle, 1) != SL_OK) {
        return;
    }

    ecf = sl_event_get_conf(sl_cycle->conf_ctx, sl_event_core_module);

    /* a paused accept must not keep a gracefully exiting worker alive */
    ev->cancelable = 1;

    sl_add_timer(ev, ecf->accept_pause);
}


sl_int_t
sl_enable_accept_events(sl_cycle_t *cycle)
{
    sl_uint_t         i;
    sl_listening_t   *ls;
    sl_connection_t  *c;

    ls = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {

        c = ls[i].connection;

        if (c == NULL || c->read->active) {
            continue;
        }

        if (sl_add_event(c->read, SL_READ_EVENT, SL_EXCLUSIVE_EVENT)
            == SL_ERROR)
        {
            return SL_ERROR;
        }
    }

    return SL_OK;
}


/* "all" is kept for the interface; every socket here is shared */

sl_int_t
sl_disable_accept_events(sl_cycle_t *cycle, sl_uint_t all)
{
    sl_uint_t         i;
    sl_listening_t   *ls;
    sl_connection_t  *c;

    ls = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {

        c = ls[i].connection;

        if (c == NULL || !c->read->active) {
            continue;
        }

        if (sl_del_event(c->read, SL_READ_EVENT, 0) == SL_ERROR) {
            return SL_ERROR;
        }
    }

    return SL_OK;
}


static void
sl_close_accepted_connection(sl_connection_t *c)
{
    sl_pool_t  *pool;

    pool = c->pool;
    c->pool = NULL;

    sl_close_connection(c);

    if (pool) {
        sl_destroy_pool(pool);
    }
}


static u_char *
sl_connection_log_error(sl_log_t *log, u_char *buf, size_t len)
{
    sl_connection_t  *c;

    c = log->data;

    return sl_slprintf(buf, buf + len, "client: %.*s, server: %.*s",
                       SL_STR_ARG(&c->addr_text),
                       SL_STR_ARG(&c->listening->addr_text));
}
