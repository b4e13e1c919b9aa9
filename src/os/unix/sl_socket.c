
/*
 * Socket options the event code sets on every connection.
 */


#include <sl_config.h>
#include <sl_core.h>


sl_int_t
sl_set_nonblocking(sl_socket_t s, int on)
{
    int  flags;

    flags = fcntl(s, F_GETFL);
    if (flags == -1) {
        return SL_ERROR;
    }

    flags = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);

    if (fcntl(s, F_SETFL, flags) == -1) {
        return SL_ERROR;
    }

    return SL_OK;
}


sl_int_t
sl_tcp_nodelay(sl_socket_t s)
{
    int  on;

    on = 1;

    if (setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(int)) == -1) {
        return SL_ERROR;
    }

    return SL_OK;
}
