
/*
 * Addresses: parse "ADDR:PORT", "PORT", "*:PORT", "[::1]:PORT" and print
 * them back.
 */

#ifndef _SL_INET_H_INCLUDED_
#define _SL_INET_H_INCLUDED_


#include <sl_config.h>
#include <sl_core.h>


#define SL_SOCKADDR_STRLEN                                                   \
    (sizeof("[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535") - 1)


typedef union {
    struct sockaddr           sockaddr;
    struct sockaddr_in        sockaddr_in;
    struct sockaddr_in6       sockaddr_in6;
    struct sockaddr_un        sockaddr_un;
} sl_sockaddr_t;


typedef struct {
    sl_str_t          url;          /* as written */
    sl_str_t          host;         /* without brackets, "" for wildcard */
    in_port_t         port;
    sl_uint_t         default_port;
    sl_sockaddr_t     sockaddr;
    socklen_t         socklen;
    unsigned          wildcard:1;
    unsigned          no_port:1;
    const char       *err;          /* why parsing failed */
} sl_url_t;


/* numeric addresses only: configuration never waits on DNS */
sl_int_t sl_parse_url(sl_pool_t *pool, sl_url_t *u);
size_t sl_sock_ntop(struct sockaddr *sa, socklen_t socklen, u_char *text,
    size_t len, sl_uint_t port);
/* SL_OK if both are the same address and port, else SL_DECLINED */
sl_int_t sl_cmp_sockaddr(struct sockaddr *sa1, socklen_t slen1,
    struct sockaddr *sa2, socklen_t slen2);


#endif /* _SL_INET_H_INCLUDED_ */
