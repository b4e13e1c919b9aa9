
/*
 * Listening sockets and connections.  A protocol module adds listening
 * sockets with a handler; the event module accepts and calls it with a
 * fresh connection whose pool, log and buffers are the module's to use.
 */

#ifndef _SL_CONNECTION_H_INCLUDED_
#define _SL_CONNECTION_H_INCLUDED_


#include <sl_config.h>
#include <sl_core.h>


struct sl_listening_s {
    sl_socket_t           fd;

    struct sockaddr      *sockaddr;
    socklen_t             socklen;
    sl_str_t              addr_text;      /* "127.0.0.1:9092" */

    int                   type;
    int                   backlog;
    int                   rcvbuf;
    int                   sndbuf;

    sl_connection_handler_pt   handler;   /* the protocol's init */
    void                 *servers;        /* the protocol's conf */

    sl_log_t              log;
    sl_log_t             *logp;           /* NULL: the cycle's error log;
                                           * else one of the new cycle */

    size_t                pool_size;

    sl_listening_t       *previous;       /* inherited across a reload */
    sl_connection_t      *connection;

    unsigned              open:1;
    unsigned              remain:1;
    unsigned              ignore:1;
    unsigned              bound:1;
    unsigned              inherited:1;
    unsigned              listen:1;
    unsigned              nonblocking:1;
    unsigned              ipv6only:1;
};


typedef ssize_t (*sl_recv_pt)(sl_connection_t *c, u_char *buf, size_t size);
typedef ssize_t (*sl_send_pt)(sl_connection_t *c, u_char *buf, size_t size);
/* sends a chain of memory and file buffers; returns the first unsent link,
 * NULL when all went, SL_CHAIN_ERROR on error */
typedef sl_chain_t *(*sl_send_chain_pt)(sl_connection_t *c, sl_chain_t *in,
    off_t limit);

#define SL_CHAIN_ERROR     (sl_chain_t *) SL_ERROR


struct sl_connection_s {
    void                 *data;           /* the protocol's session */
    sl_event_t           *read;
    sl_event_t           *write;

    sl_socket_t           fd;

    sl_recv_pt            recv;
    sl_send_pt            send;
    sl_send_chain_pt      send_chain;

    sl_listening_t       *listening;

    off_t                 sent;

    sl_log_t             *log;
    sl_pool_t            *pool;

    int                   type;

    struct sockaddr      *sockaddr;
    socklen_t             socklen;
    sl_str_t              addr_text;

    struct sockaddr      *local_sockaddr;
    socklen_t             local_socklen;

    sl_buf_t             *buffer;

    sl_queue_t            queue;          /* reusable connections */

    sl_atomic_uint_t      number;
    sl_msec_t             start_time;
    sl_uint_t             requests;

    unsigned              timedout:1;
    unsigned              error:1;
    unsigned              destroyed:1;
    unsigned              idle:1;
    unsigned              reusable:1;
    unsigned              close:1;
    unsigned              shared:1;
    unsigned              sendfile:1;
    unsigned              tcp_nodelay:1;
};


sl_listening_t *sl_create_listening(sl_conf_t *cf, struct sockaddr *sockaddr,
    socklen_t socklen);
sl_int_t sl_open_listening_sockets(sl_cycle_t *cycle);
void sl_configure_listening_sockets(sl_cycle_t *cycle);
void sl_close_listening_sockets(sl_cycle_t *cycle);
/* takes listening fds that the previous cycle has at the same address */
sl_int_t sl_inherit_listening(sl_cycle_t *cycle, sl_cycle_t *old_cycle);

sl_connection_t *sl_get_connection(sl_socket_t s, sl_log_t *log);
void sl_free_connection(sl_connection_t *c);
/* removes events, timers and posted events, closes the fd, frees the
 * slot; the caller destroys c->pool afterwards if it made one (c->log
 * lives in it): pool = c->pool; sl_close_connection(c);
 * sl_destroy_pool(pool); */
void sl_close_connection(sl_connection_t *c);
/* an idle keep-alive connection may be closed when connections run out */
void sl_reusable_connection(sl_connection_t *c, sl_uint_t reusable);
void sl_close_idle_connections(sl_cycle_t *cycle);
sl_int_t sl_connection_error(sl_connection_t *c, sl_err_t err, char *text);

ssize_t sl_unix_recv(sl_connection_t *c, u_char *buf, size_t size);
ssize_t sl_unix_send(sl_connection_t *c, u_char *buf, size_t size);
sl_chain_t *sl_linux_sendfile_chain(sl_connection_t *c, sl_chain_t *in,
    off_t limit);


extern sl_atomic_t  *sl_connection_counter;


#endif /* _SL_CONNECTION_H_INCLUDED_ */
