
/*
 * send() for connections, edge-triggered: a short write means the socket
 * buffer is full, so wev->ready is cleared and epoll reports the next
 * edge when there is room again.  MSG_NOSIGNAL keeps a closed peer from
 * raising SIGPIPE.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_event.h>


/*
 * Returns the bytes sent (possibly fewer than size; 0 only when size is
 * 0), SL_AGAIN when none could be (wev->ready cleared), or SL_ERROR
 * (wev->error set, the error logged).
 */

ssize_t
sl_unix_send(sl_connection_t *c, u_char *buf, size_t size)
{
    ssize_t      n;
    sl_err_t     err;
    sl_event_t  *wev;

    if (size == 0) {
        return 0;
    }

    wev = c->write;

    for ( ;; ) {
        n = send(c->fd, buf, size, MSG_NOSIGNAL);

        if (n >= 0) {
            if ((size_t) n < size) {
                wev->ready = 0;
            }

            c->sent += n;

            return n;
        }

        err = sl_socket_errno;

        if (err == SL_EINTR) {
            continue;
        }

        wev->ready = 0;

        if (err == SL_EAGAIN) {
            return SL_AGAIN;
        }

        wev->error = 1;

        return sl_connection_error(c, err, "send() failed");
    }
}
