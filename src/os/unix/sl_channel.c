
/*
 * Master <-> worker channels: one end of a socketpair per worker.  A
 * message is a fixed sl_channel_t; when it carries a descriptor
 * (SL_CMD_OPEN_CHANNEL) the descriptor travels as SCM_RIGHTS.
 */


#include <sl_config.h>
#include <sl_core.h>


sl_int_t
sl_write_channel(sl_socket_t s, sl_channel_t *ch, size_t size, sl_log_t *log)
{
    ssize_t          n;
    sl_err_t         err;
    struct iovec     iov[1];
    struct msghdr    msg;
    struct cmsghdr  *cmsg;
    union {
        struct cmsghdr  cm;
        char            space[CMSG_SPACE(sizeof(int))];
    } cmsg_buf;

    sl_memzero(&msg, sizeof(struct msghdr));
    sl_memzero(&cmsg_buf, sizeof(cmsg_buf));

    if (ch->fd != -1) {
        msg.msg_control = (caddr_t) &cmsg_buf;
        msg.msg_controllen = sizeof(cmsg_buf);

        cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_len = CMSG_LEN(sizeof(int));
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;

        sl_memcpy(CMSG_DATA(cmsg), &ch->fd, sizeof(int));
    }

    iov[0].iov_base = (char *) ch;
    iov[0].iov_len = size;

    msg.msg_iov = iov;
    msg.msg_iovlen = 1;

    n = sendmsg(s, &msg, MSG_NOSIGNAL);

    if (n == -1) {
        err = sl_errno;
        if (err == SL_EAGAIN) {
            return SL_AGAIN;
        }

        sl_log_error(SL_LOG_ALERT, log, err, "sendmsg() on channel failed");
        return SL_ERROR;
    }

    return SL_OK;
}


sl_int_t
sl_read_channel(sl_socket_t s, sl_channel_t *ch, size_t size, sl_log_t *log)
{
    int              fd;
    ssize_t          n;
    sl_err_t         err;
    struct iovec     iov[1];
    struct msghdr    msg;
    struct cmsghdr  *cmsg;
    union {
        struct cmsghdr  cm;
        char            space[CMSG_SPACE(sizeof(int))];
    } cmsg_buf;

    iov[0].iov_base = (char *) ch;
    iov[0].iov_len = size;

    sl_memzero(&msg, sizeof(struct msghdr));
    msg.msg_iov = iov;
    msg.msg_iovlen = 1;
    msg.msg_control = (caddr_t) &cmsg_buf;
    msg.msg_controllen = sizeof(cmsg_buf);

    n = recvmsg(s, &msg, MSG_CMSG_CLOEXEC);

    if (n == -1) {
        err = sl_errno;
        if (err == SL_EAGAIN) {
            return SL_AGAIN;
        }

        sl_log_error(SL_LOG_ALERT, log, err, "recvmsg() on channel failed");
        return SL_ERROR;
    }

    if (n == 0) {
        sl_log_debug(log, "recvmsg() returned zero: the channel is closed");
        return SL_ERROR;
    }

    fd = -1;

    cmsg = CMSG_FIRSTHDR(&msg);

    if (cmsg != NULL
        && cmsg->cmsg_len == CMSG_LEN(sizeof(int))
        && cmsg->cmsg_level == SOL_SOCKET
        && cmsg->cmsg_type == SCM_RIGHTS)
    {
        sl_memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
    }

    if ((size_t) n < sizeof(sl_channel_t)) {
        sl_log_error(SL_LOG_ALERT, log, 0,
                     "recvmsg() returned not enough data: %zd", n);

        /* a descriptor that came with a broken message is not kept */
        if (fd != -1) {
            (void) close(fd);
        }

        return SL_ERROR;
    }

    ch->fd = fd;

    if (msg.msg_flags & (MSG_TRUNC|MSG_CTRUNC)) {
        sl_log_error(SL_LOG_ALERT, log, 0,
                     "recvmsg() truncated data on channel");
    }

    if (ch->command == SL_CMD_OPEN_CHANNEL && ch->fd == -1) {
        sl_log_error(SL_LOG_ALERT, log, 0,
                     "recvmsg() returned no descriptor with open_channel");
        return SL_ERROR;
    }

    return n;
}


sl_int_t
sl_add_channel_event(sl_cycle_t *cycle, sl_fd_t fd, sl_int_t event,
    sl_event_handler_pt handler)
{
    sl_event_t       *ev;
    sl_connection_t  *c;

    c = sl_get_connection(fd, cycle->log);
    if (c == NULL) {
        return SL_ERROR;
    }

    c->pool = cycle->pool;

    ev = (event == SL_WRITE_EVENT) ? c->write : c->read;

    c->read->channel = 1;
    c->write->channel = 1;

    ev->log = cycle->log;
    ev->handler = handler;

    /* level-triggered: the handler may stop before the socket is drained */
    if (sl_add_event(ev, event, SL_LEVEL_EVENT) == SL_ERROR) {
        sl_free_connection(c);
        return SL_ERROR;
    }

    return SL_OK;
}


void
sl_close_channel(sl_fd_t *fd, sl_log_t *log)
{
    if (fd[0] != -1 && close(fd[0]) == -1) {
        sl_log_error(SL_LOG_ALERT, log, sl_errno, "close() channel failed");
    }

    if (fd[1] != -1 && close(fd[1]) == -1) {
        sl_log_error(SL_LOG_ALERT, log, sl_errno, "close() channel failed");
    }

    fd[0] = -1;
    fd[1] = -1;
}
