
/*
 * Listening sockets and the worker's connection table.
 *
 * Listening sockets are opened by the master (one fd per address, shared
 * by every worker).  A reload keeps them: the new cycle takes the fd of
 * the old cycle's socket with the same address (sl_inherit_listening)
 * before anything is opened, so no connection is refused while workers
 * change.  sl_open_listening_sockets then opens only what is new and
 * marks it "open", so a failed reload knows what to close.
 *
 * Connections live in a table of worker_connections slots made by the
 * event core; free slots form a list threaded through c->data.  A
 * protocol may mark an idle keep-alive connection reusable: when the
 * table is full the oldest reusable ones are asked to close (c->close
 * set, read handler called), and a graceful shutdown does the same to
 * every idle one.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_event.h>


#define SL_LISTEN_BACKLOG       511
#define SL_LISTEN_POOL_SIZE     512
#define SL_BIND_TRIES           5
#define SL_BIND_RETRY_DELAY     500000    /* microseconds */
#define SL_DRAIN_CONNECTIONS    32


static u_char *sl_accept_log_error(sl_log_t *log, u_char *buf, size_t len);
static void sl_drain_connections(sl_cycle_t *cycle, sl_log_t *log);
static void sl_connections_exhausted(sl_cycle_t *cycle, sl_log_t *log,
    const char *what);


sl_atomic_t  *sl_connection_counter;


sl_listening_t *
sl_create_listening(sl_conf_t *cf, struct sockaddr *sockaddr,
    socklen_t socklen)
{
    size_t           len;
    u_char           text[SL_SOCKADDR_STRLEN];
    sl_listening_t  *ls;

    ls = sl_array_push(&cf->cycle->listening);
    if (ls == NULL) {
        return NULL;
    }

    sl_memzero(ls, sizeof(sl_listening_t));

    ls->sockaddr = sl_palloc(cf->pool, socklen);
    if (ls->sockaddr == NULL) {
        return NULL;
    }

    sl_memcpy(ls->sockaddr, sockaddr, socklen);
    ls->socklen = socklen;

    len = sl_sock_ntop(sockaddr, socklen, text, SL_SOCKADDR_STRLEN, 1);

    ls->addr_text.data = sl_pnalloc(cf->pool, len);
    if (ls->addr_text.data == NULL) {
        return NULL;
    }

    sl_memcpy(ls->addr_text.data, text, len);
    ls->addr_text.len = len;

    ls->fd = (sl_socket_t) -1;
    ls->type = SOCK_STREAM;
    ls->backlog = SL_LISTEN_BACKLOG;
    ls->rcvbuf = -1;
    ls->sndbuf = -1;
    ls->logp = NULL;
    ls->log = *cf->log;
    ls->pool_size = SL_LISTEN_POOL_SIZE;

    return ls;
}


/*
 * Opens what the cycle did not inherit.  An address in use is retried a
 * few times, as the previous owner may be on its way out; under -t it is
 * ignored, since the running broker is the one holding it.
 */

sl_int_t
sl_open_listening_sockets(sl_cycle_t *cycle)
{
    int              on;
    sl_err_t         err;
    sl_uint_t        i, tries, failed;
    sl_socket_t      s;
    sl_log_t        *log;
    sl_listening_t  *ls;

    log = cycle->log;
    failed = 0;

    for (tries = SL_BIND_TRIES; tries; tries--) {
        failed = 0;

        ls = cycle->listening.elts;

        for (i = 0; i < cycle->listening.nelts; i++) {

            if (ls[i].ignore || ls[i].fd != (sl_socket_t) -1) {
                continue;
            }

            s = socket(ls[i].sockaddr->sa_family,
                       ls[i].type|SOCK_NONBLOCK|SOCK_CLOEXEC, 0);

            if (s == (sl_socket_t) -1) {
                sl_log_error(SL_LOG_EMERG, log, sl_socket_errno,
                             "socket() for %.*s failed",
                             SL_STR_ARG(&ls[i].addr_text));
                return SL_ERROR;
            }

            on = 1;

            if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(int))
                == -1)
            {
                sl_log_error(SL_LOG_EMERG, log, sl_socket_errno,
                             "setsockopt(SO_REUSEADDR) for %.*s failed",
                             SL_STR_ARG(&ls[i].addr_text));
                goto close_error;
            }

            if (ls[i].sockaddr->sa_family == AF_INET6) {
                on = ls[i].ipv6only;

                if (setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &on,
                               sizeof(int))
                    == -1)
                {
                    sl_log_error(SL_LOG_EMERG, log, sl_socket_errno,
                                 "setsockopt(IPV6_V6ONLY) for %.*s failed, "
                                 "ignored", SL_STR_ARG(&ls[i].addr_text));
                }
            }

            if (bind(s, ls[i].sockaddr, ls[i].socklen) == -1
                || listen(s, ls[i].backlog) == -1)
            {
                err = sl_socket_errno;

                if (err != SL_EADDRINUSE || !sl_test_config) {
                    sl_log_error(SL_LOG_EMERG, log, err,
                                 "bind() or listen() to %.*s failed",
                                 SL_STR_ARG(&ls[i].addr_text));
                }

                if (close(s) == -1) {
                    sl_log_error(SL_LOG_EMERG, log, sl_socket_errno,
                                 "close() socket %.*s failed",
                                 SL_STR_ARG(&ls[i].addr_text));
                }

                if (err != SL_EADDRINUSE) {
                    return SL_ERROR;
                }

                if (!sl_test_config) {
                    failed = 1;
                }

                continue;
            }

            ls[i].fd = s;
            ls[i].open = 1;
            ls[i].bound = 1;
            ls[i].listen = 1;
            ls[i].nonblocking = 1;
        }

        if (!failed) {
            break;
        }

        sl_log_error(SL_LOG_NOTICE, log, 0,
                     "try again to bind() after 500ms");

        usleep(SL_BIND_RETRY_DELAY);
    }

    if (failed) {
        sl_log_error(SL_LOG_EMERG, log, 0, "still could not bind()");
        return SL_ERROR;
    }

    return SL_OK;

close_error:

    if (close(s) == -1) {
        sl_log_error(SL_LOG_EMERG, log, sl_socket_errno,
                     "close() socket failed");
    }

    return SL_ERROR;
}


/* per-socket options and the listening log, in the master after opening */

void
sl_configure_listening_sockets(sl_cycle_t *cycle)
{
    sl_uint_t        i;
    sl_listening_t  *ls;

    ls = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {

        /*
         * The log of the cycle being built, unless the protocol gave its
         * own.  What the parser logged to is the previous cycle's, which
         * a reload frees, so it is never kept.
         */

        if (ls[i].logp == NULL
            || (cycle->old_cycle && ls[i].logp == cycle->old_cycle->log))
        {
            ls[i].logp = cycle->log;
        }

        ls[i].log = *ls[i].logp;

        ls[i].log.handler = sl_accept_log_error;
        ls[i].log.data = &ls[i].addr_text;
        ls[i].log.action = "accepting a new connection";

        if (ls[i].fd == (sl_socket_t) -1) {
            continue;
        }

        if (ls[i].rcvbuf != -1
            && setsockopt(ls[i].fd, SOL_SOCKET, SO_RCVBUF, &ls[i].rcvbuf,
                          sizeof(int))
               == -1)
        {
            sl_log_error(SL_LOG_ALERT, cycle->log, sl_socket_errno,
                         "setsockopt(SO_RCVBUF, %d) %.*s failed, ignored",
                         ls[i].rcvbuf, SL_STR_ARG(&ls[i].addr_text));
        }

        if (ls[i].sndbuf != -1
            && setsockopt(ls[i].fd, SOL_SOCKET, SO_SNDBUF, &ls[i].sndbuf,
                          sizeof(int))
               == -1)
        {
            sl_log_error(SL_LOG_ALERT, cycle->log, sl_socket_errno,
                         "setsockopt(SO_SNDBUF, %d) %.*s failed, ignored",
                         ls[i].sndbuf, SL_STR_ARG(&ls[i].addr_text));
        }

        /* an inherited socket whose backlog changed listens again */

        if (ls[i].previous && ls[i].previous->backlog != ls[i].backlog
            && listen(ls[i].fd, ls[i].backlog) == -1)
        {
            sl_log_error(SL_LOG_ALERT, cycle->log, sl_socket_errno,
                         "listen() to %.*s, backlog %d failed, ignored",
                         SL_STR_ARG(&ls[i].addr_text), ls[i].backlog);
        }
    }
}


/*
 * Called by a reload before sl_open_listening_sockets.  An old socket
 * taken over is marked "remain": the cycle code closes the old sockets
 * without the mark once the new cycle is committed, and none at all if
 * the new cycle fails.
 */

sl_int_t
sl_inherit_listening(sl_cycle_t *cycle, sl_cycle_t *old_cycle)
{
    sl_uint_t        i, n;
    sl_listening_t  *ls, *nls;

    if (old_cycle == NULL || old_cycle->listening.nelts == 0) {
        return SL_OK;
    }

    ls = old_cycle->listening.elts;

    for (i = 0; i < old_cycle->listening.nelts; i++) {
        ls[i].remain = 0;
    }

    nls = cycle->listening.elts;

    for (n = 0; n < cycle->listening.nelts; n++) {

        for (i = 0; i < old_cycle->listening.nelts; i++) {

            if (ls[i].ignore || ls[i].remain
                || ls[i].fd == (sl_socket_t) -1
                || ls[i].type != nls[n].type)
            {
                continue;
            }

            if (sl_cmp_sockaddr(nls[n].sockaddr, nls[n].socklen,
                                ls[i].sockaddr, ls[i].socklen)
                != SL_OK)
            {
                continue;
            }

            nls[n].fd = ls[i].fd;
            nls[n].inherited = 1;
            nls[n].bound = 1;
            nls[n].listen = 1;
            nls[n].nonblocking = ls[i].nonblocking;
            nls[n].previous = &ls[i];

            ls[i].remain = 1;

            break;
        }
    }

    return SL_OK;
}


/*
 * A worker stops accepting (graceful shutdown): its listening events go
 * and its copies of the fds are closed.  The master and the other
 * workers keep theirs, so the sockets stay open.
 */

void
sl_close_listening_sockets(sl_cycle_t *cycle)
{
    sl_uint_t         i;
    sl_listening_t   *ls;
    sl_connection_t  *c;

    ls = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {

        c = ls[i].connection;

        if (c) {
            if (c->read->active) {
                /* shared fd: closing ours would not remove it from epoll */
                (void) sl_del_event(c->read, SL_READ_EVENT, 0);
            }

            if (c->read->timer_set) {
                sl_del_timer(c->read);
            }

            if (c->read->posted) {
                sl_delete_posted_event(c->read);
            }

            sl_free_connection(c);

            c->fd = (sl_socket_t) -1;
            ls[i].connection = NULL;
        }

        if (ls[i].fd == (sl_socket_t) -1) {
            continue;
        }

        if (close(ls[i].fd) == -1) {
            sl_log_error(SL_LOG_EMERG, cycle->log, sl_socket_errno,
                         "close() socket %.*s failed",
                         SL_STR_ARG(&ls[i].addr_text));
        }

        ls[i].fd = (sl_socket_t) -1;
    }
}


sl_connection_t *
sl_get_connection(sl_socket_t s, sl_log_t *log)
{
    sl_uint_t          instance;
    sl_event_t        *rev, *wev;
    sl_cycle_t        *cycle;
    sl_connection_t   *c;

    cycle = (sl_cycle_t *) sl_cycle;

    c = cycle->free_connections;

    if (c == NULL) {
        sl_drain_connections(cycle, log);
        c = cycle->free_connections;
    }

    if (c == NULL) {
        sl_connections_exhausted(cycle, log, "");
        return NULL;
    }

    cycle->free_connections = c->data;
    cycle->free_connection_n--;

    rev = c->read;
    wev = c->write;

    sl_memzero(c, sizeof(sl_connection_t));

    c->read = rev;
    c->write = wev;
    c->fd = s;
    c->log = log;

    /* flipped on every reuse, so epoll events of the previous use go */
    instance = rev->instance;

    sl_memzero(rev, sizeof(sl_event_t));
    sl_memzero(wev, sizeof(sl_event_t));

    rev->instance = !instance;
    wev->instance = !instance;

    rev->index = SL_INVALID_INDEX;
    wev->index = SL_INVALID_INDEX;

    rev->data = c;
    wev->data = c;

    rev->log = log;
    wev->log = log;

    wev->write = 1;

    return c;
}


void
sl_free_connection(sl_connection_t *c)
{
    sl_cycle_t  *cycle;

    cycle = (sl_cycle_t *) sl_cycle;

    c->data = cycle->free_connections;
    cycle->free_connections = c;
    cycle->free_connection_n++;
}


void
sl_close_connection(sl_connection_t *c)
{
    sl_err_t     err;
    sl_uint_t    level;
    sl_socket_t  fd;

    if (c->fd == (sl_socket_t) -1) {
        sl_log_error(SL_LOG_ALERT, c->log, 0, "connection already closed");
        return;
    }

    if (c->read->timer_set) {
        sl_del_timer(c->read);
    }

    if (c->write->timer_set) {
        sl_del_timer(c->write);
    }

    if (c->read->active || c->write->active) {
        /* an fd another process holds must leave epoll explicitly */
        (void) sl_del_conn(c, c->shared ? 0 : SL_CLOSE_EVENT);
    }

    if (c->read->posted) {
        sl_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        sl_delete_posted_event(c->write);
    }

    c->read->closed = 1;
    c->write->closed = 1;

    sl_reusable_connection(c, 0);

    if (c->listening && !c->read->accept) {
        sl_stat_active_add(-1);
    }

    sl_free_connection(c);

    fd = c->fd;
    c->fd = (sl_socket_t) -1;

    if (close(fd) == -1) {
        err = sl_socket_errno;

        level = (err == SL_ECONNRESET || err == SL_ENOTCONN)
                ? SL_LOG_INFO : SL_LOG_ALERT;

        sl_log_error(level, c->log, err, "close() socket %d failed", fd);
    }
}


void
sl_reusable_connection(sl_connection_t *c, sl_uint_t reusable)
{
    sl_cycle_t  *cycle;

    cycle = (sl_cycle_t *) sl_cycle;

    if (c->reusable) {
        sl_queue_remove(&c->queue);
        cycle->reusable_connections_n--;
    }

    c->reusable = reusable;

    if (reusable) {
        /* the most recently idle first: draining takes the tail */
        sl_queue_insert_head(&cycle->reusable_connections_queue, &c->queue);
        cycle->reusable_connections_n++;
    }
}


static void
sl_drain_connections(sl_cycle_t *cycle, sl_log_t *log)
{
    sl_uint_t         i;
    sl_queue_t       *q;
    sl_connection_t  *c;

    if (sl_queue_empty(&cycle->reusable_connections_queue)) {
        return;
    }

    sl_connections_exhausted(cycle, log, ", closing idle connections");

    for (i = 0; i < SL_DRAIN_CONNECTIONS; i++) {

        if (sl_queue_empty(&cycle->reusable_connections_queue)) {
            break;
        }

        q = sl_queue_last(&cycle->reusable_connections_queue);
        c = sl_queue_data(q, sl_connection_t, queue);

        sl_log_debug(c->log, "reusing connection");

        c->close = 1;
        c->read->handler(c->read);
    }
}


/* at most once a second, or the log would grow with every accept */

static void
sl_connections_exhausted(sl_cycle_t *cycle, sl_log_t *log, const char *what)
{
    static sl_msec_t  warned;

    if (warned != 0 && sl_current_msec - warned < 1000) {
        return;
    }

    warned = sl_current_msec ? sl_current_msec : 1;

    sl_log_error(SL_LOG_WARN, log, 0, "%lu worker_connections are not enough%s",
                 (unsigned long) cycle->connection_n, what);
}


void
sl_close_idle_connections(sl_cycle_t *cycle)
{
    sl_uint_t         i;
    sl_connection_t  *c;

    c = cycle->connections;

    for (i = 0; i < cycle->connection_n; i++) {

        /* the handler closes it, and frees this slot */

        if (c[i].fd != (sl_socket_t) -1 && c[i].idle) {
            c[i].close = 1;
            c[i].read->handler(c[i].read);
        }
    }
}


/*
 * Logs a socket error: the peer's doing (reset, broken pipe) at info,
 * anything else at error.  Returns SL_ERROR for the caller to pass on.
 */

sl_int_t
sl_connection_error(sl_connection_t *c, sl_err_t err, char *text)
{
    sl_uint_t  level;

    switch (err) {

    case 0:
    case SL_ECONNRESET:
    case SL_EPIPE:
    case SL_ENOTCONN:
    case SL_ETIMEDOUT:
    case SL_ECONNREFUSED:
    case SL_EHOSTUNREACH:
    case ENETDOWN:
    case ENETUNREACH:
    case EHOSTDOWN:
        level = SL_LOG_INFO;
        break;

    default:
        level = SL_LOG_ERR;
    }

    sl_log_error(level, c->log, err, "%s", text);

    return SL_ERROR;
}


static u_char *
sl_accept_log_error(sl_log_t *log, u_char *buf, size_t len)
{
    sl_str_t  *addr;

    addr = log->data;

    return sl_slprintf(buf, buf + len, "listening on: %.*s",
                       SL_STR_ARG(addr));
}
