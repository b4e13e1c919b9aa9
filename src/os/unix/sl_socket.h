
/*
 * Sockets: non-blocking helpers and the send/recv of connections,
 * including the sendfile() chain writer.
 */

#ifndef _SL_SOCKET_H_INCLUDED_
#define _SL_SOCKET_H_INCLUDED_


#include <sl_config.h>
#include <sl_core.h>


typedef int  sl_socket_t;

#define sl_socket           socket
#define sl_close_socket     close
#define sl_nonblocking(s)   sl_set_nonblocking(s, 1)
#define sl_blocking(s)      sl_set_nonblocking(s, 0)

sl_int_t sl_set_nonblocking(sl_socket_t s, int on);
sl_int_t sl_tcp_nodelay(sl_socket_t s);


#endif /* _SL_SOCKET_H_INCLUDED_ */
