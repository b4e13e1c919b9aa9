
/*
 * Sends a chain that mixes memory buffers and file ranges: consecutive
 * memory buffers go out in one sendmsg() (a gather write), each file
 * range by sendfile(), so segment bytes of a Kafka fetch never pass
 * through user space.  A gather write followed by a file range is sent
 * with MSG_MORE, so a response header and its first data share packets.
 *
 * Buffers are advanced as bytes go (pos, file_pos); the caller keeps the
 * returned chain and calls again when the write event is ready.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_event.h>


#define SL_IOVS_MAX        64

/* Linux never moves more than this in one sendfile() */
#define SL_SENDFILE_MAX    0x7ffff000


static sl_chain_t *sl_chain_skip_empty(sl_chain_t *in);
static sl_chain_t *sl_chain_advance(sl_chain_t *in, off_t sent);


/*
 * Sends up to limit bytes (0: no limit) of the chain.  Returns NULL when
 * all of it went, the first link not completely sent otherwise (then
 * c->write->ready says whether the socket is full, or the limit was hit),
 * or SL_CHAIN_ERROR (logged, c->write->error set).
 */

sl_chain_t *
sl_linux_sendfile_chain(sl_connection_t *c, sl_chain_t *in, off_t limit)
{
    int            flags;
    off_t          total, size, len, offset;
    ssize_t        n;
    sl_err_t       err;
    sl_buf_t      *b;
    sl_uint_t      niov;
    sl_chain_t    *cl;
    sl_event_t    *wev;
    struct iovec   iov[SL_IOVS_MAX];
    struct msghdr  msg;

    wev = c->write;

    if (!wev->ready) {
        return in;
    }

    if (limit <= 0) {
        limit = SL_MAX_OFF_T_VALUE;
    }

    total = 0;

    for ( ;; ) {
        in = sl_chain_skip_empty(in);

        if (in == NULL || total >= limit) {
            return in;
        }

        b = in->buf;

        if (sl_buf_in_memory(b)) {

            niov = 0;
            size = 0;

            for (cl = in;
                 cl && niov < SL_IOVS_MAX && size < limit - total;
                 cl = cl->next)
            {
                b = cl->buf;

                if (!sl_buf_in_memory(b)) {
                    break;
                }

                len = b->last - b->pos;

                if (len == 0) {
                    continue;
                }

                if (len > limit - total - size) {
                    len = limit - total - size;
                }

                iov[niov].iov_base = b->pos;
                iov[niov].iov_len = (size_t) len;
                niov++;

                size += len;
            }

            flags = MSG_NOSIGNAL;

            if (cl && !sl_buf_in_memory(cl->buf) && size < limit - total) {
                flags |= MSG_MORE;
            }

            sl_memzero(&msg, sizeof(struct msghdr));
            msg.msg_iov = iov;
            msg.msg_iovlen = niov;

            n = sendmsg(c->fd, &msg, flags);

        } else {

            size = b->file_last - b->file_pos;

            if (size > limit - total) {
                size = limit - total;
            }

            if (size > SL_SENDFILE_MAX) {
                size = SL_SENDFILE_MAX;
            }

            offset = b->file_pos;

            n = sendfile(c->fd, b->file->fd, &offset, (size_t) size);

            if (n == 0) {
                sl_log_error(SL_LOG_ALERT, c->log, 0,
                             "sendfile() reported that \"%.*s\" was "
                             "truncated at %lld",
                             SL_STR_ARG(&b->file->name),
                             (long long) b->file_pos);
                wev->error = 1;
                return SL_CHAIN_ERROR;
            }
        }

        if (n == -1) {
            err = sl_socket_errno;

            if (err == SL_EINTR) {
                continue;
            }

            if (err == SL_EAGAIN) {
                wev->ready = 0;
                return in;
            }

            wev->error = 1;

            (void) sl_connection_error(c, err,
                                       sl_buf_in_memory(b)
                                       ? "sendmsg() failed"
                                       : "sendfile() failed");

            return SL_CHAIN_ERROR;
        }

        c->sent += n;
        total += n;

        in = sl_chain_advance(in, n);

        if (n < size) {
            /* the socket buffer is full: wait for the next edge */
            wev->ready = 0;
            return in;
        }
    }
}


static sl_chain_t *
sl_chain_skip_empty(sl_chain_t *in)
{
    while (in && sl_buf_size(in->buf) == 0) {
        in = in->next;
    }

    return in;
}


/* moves pos (and file_pos) past sent bytes; returns the first unsent link */

static sl_chain_t *
sl_chain_advance(sl_chain_t *in, off_t sent)
{
    off_t      size, len;
    sl_buf_t  *b;

    for ( /* void */ ; in; in = in->next) {
        b = in->buf;
        size = sl_buf_size(b);

        if (size == 0) {
            continue;
        }

        if (sent == 0) {
            return in;
        }

        len = sl_min(sent, size);

        if (sl_buf_in_memory(b)) {
            b->pos += len;

            if (b->in_file) {
                b->file_pos += len;
            }

        } else {
            b->file_pos += len;
        }

        sent -= len;

        if (len < size) {
            return in;
        }
    }

    return NULL;
}
