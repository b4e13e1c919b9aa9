
/*
 * recv() for connections, edge-triggered: rev->ready says whether more
 * may be waiting.  A short read means the socket is drained (ready = 0;
 * epoll reports the next data as a new edge) unless the peer's FIN was
 * already seen (pending_eof): then ready stays set so that the next call
 * returns 0 at once.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_event.h>


/*
 * Returns the bytes read (> 0), 0 at end of stream (rev->eof set),
 * SL_AGAIN when nothing is there now (rev->ready cleared), or SL_ERROR
 * (rev->error set, the error logged).
 */

ssize_t
sl_unix_recv(sl_connection_t *c, u_char *buf, size_t size)
{
    ssize_t      n;
    sl_err_t     err;
    sl_event_t  *rev;

    rev = c->read;

    for ( ;; ) {
        n = recv(c->fd, buf, size, 0);

        if (n == 0) {
            rev->ready = 0;
            rev->eof = 1;
            return 0;
        }

        if (n > 0) {
            if ((size_t) n < size) {
                if (!rev->pending_eof) {
                    rev->ready = 0;
                }

                rev->available = 0;
            }

            return n;
        }

        err = sl_socket_errno;

        if (err == SL_EINTR) {
            continue;
        }

        rev->ready = 0;

        if (err == SL_EAGAIN) {
            return SL_AGAIN;
        }

        rev->error = 1;

        return sl_connection_error(c, err, "recv() failed");
    }
}
