
/*
 * Addresses of listen directives: "PORT", "*:PORT", "ADDR:PORT" and
 * "[IPV6]:PORT", numeric only so that loading a configuration never
 * waits on DNS; and their text form for logs and /status.
 */


#include <sl_config.h>
#include <sl_core.h>


static sl_int_t sl_parse_port(u_char *p, u_char *last, sl_url_t *u);


sl_int_t
sl_parse_url(sl_pool_t *pool, sl_url_t *u)
{
    u_char               *p, *last, *host, *host_end, *colon;
    char                  text[INET6_ADDRSTRLEN + 1];
    size_t                len;
    struct sockaddr_in   *sin;
    struct sockaddr_in6  *sin6;

    p = u->url.data;
    last = p + u->url.len;

    u->err = NULL;
    u->wildcard = 0;
    u->no_port = 0;
    u->host.len = 0;
    u->host.data = p;

    sl_memzero(&u->sockaddr, sizeof(sl_sockaddr_t));

    if (p == last) {
        u->err = "no address";
        return SL_ERROR;
    }

    if (*p == '[') {

        /* [IPV6]:PORT */

        host = p + 1;
        host_end = sl_strlchr(host, last, ']');

        if (host_end == NULL) {
            u->err = "invalid IPv6 address: no \"]\"";
            return SL_ERROR;
        }

        p = host_end + 1;

        if (p == last) {
            u->no_port = 1;

        } else if (*p != ':') {
            u->err = "invalid IPv6 address: \":PORT\" expected after \"]\"";
            return SL_ERROR;
        }

        len = host_end - host;

        if (len == 0 || len >= sizeof(text)) {
            u->err = "invalid IPv6 address";
            return SL_ERROR;
        }

        sl_memcpy(text, host, len);
        text[len] = '\0';

        sin6 = &u->sockaddr.sockaddr_in6;

        if (inet_pton(AF_INET6, text, &sin6->sin6_addr) != 1) {
            u->err = "invalid IPv6 address";
            return SL_ERROR;
        }

        sin6->sin6_family = AF_INET6;
        u->socklen = sizeof(struct sockaddr_in6);
        u->host.data = host;
        u->host.len = len;

        if (IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr)) {
            u->wildcard = 1;
        }

        if (!u->no_port && sl_parse_port(p + 1, last, u) != SL_OK) {
            return SL_ERROR;
        }

        if (u->no_port) {
            if (u->default_port == 0) {
                u->err = "no port";
                return SL_ERROR;
            }

            u->port = (in_port_t) u->default_port;
        }

        sin6->sin6_port = htons(u->port);

        return SL_OK;
    }

    sin = &u->sockaddr.sockaddr_in;
    sin->sin_family = AF_INET;
    u->socklen = sizeof(struct sockaddr_in);

    colon = sl_strlchr(p, last, ':');

    if (colon == NULL) {

        /* "PORT" alone, or "ADDR" with the default port */

        if (sl_atoi(p, last - p) != SL_ERROR) {
            u->wildcard = 1;
            sin->sin_addr.s_addr = htonl(INADDR_ANY);

            if (sl_parse_port(p, last, u) != SL_OK) {
                return SL_ERROR;
            }

            sin->sin_port = htons(u->port);

            return SL_OK;
        }

        u->no_port = 1;
        host_end = last;

    } else {
        if (sl_strlchr(colon + 1, last, ':')) {
            u->err = "invalid address: an IPv6 address must be in \"[]\"";
            return SL_ERROR;
        }

        host_end = colon;
    }

    len = host_end - p;

    if (len == 1 && *p == '*') {
        u->wildcard = 1;
        sin->sin_addr.s_addr = htonl(INADDR_ANY);
        u->host.len = 0;

    } else {
        if (len == 0 || len >= sizeof(text)) {
            u->err = "invalid address";
            return SL_ERROR;
        }

        sl_memcpy(text, p, len);
        text[len] = '\0';

        if (inet_pton(AF_INET, text, &sin->sin_addr) != 1) {
            u->err = "invalid address: a numeric IPv4 address, \"*\" or "
                     "\"[IPv6]\" expected";
            return SL_ERROR;
        }

        u->host.data = p;
        u->host.len = len;

        if (sin->sin_addr.s_addr == htonl(INADDR_ANY)) {
            u->wildcard = 1;
        }
    }

    if (u->no_port) {
        if (u->default_port == 0) {
            u->err = "no port";
            return SL_ERROR;
        }

        u->port = (in_port_t) u->default_port;

    } else if (sl_parse_port(colon + 1, last, u) != SL_OK) {
        return SL_ERROR;
    }

    sin->sin_port = htons(u->port);

    return SL_OK;
}


static sl_int_t
sl_parse_port(u_char *p, u_char *last, sl_url_t *u)
{
    sl_int_t  port;

    port = sl_atoi(p, last - p);

    if (port < 1 || port > 65535) {
        u->err = "invalid port";
        return SL_ERROR;
    }

    u->port = (in_port_t) port;

    return SL_OK;
}


size_t
sl_sock_ntop(struct sockaddr *sa, socklen_t socklen, u_char *text,
    size_t len, sl_uint_t port)
{
    u_char               *p, *last;
    char                  addr[INET6_ADDRSTRLEN];
    size_t                n;
    struct sockaddr_in   *sin;
    struct sockaddr_in6  *sin6;
    struct sockaddr_un   *saun;

    if (len == 0) {
        return 0;
    }

    p = text;
    last = text + len;

    switch (sa->sa_family) {

    case AF_INET:
        sin = (struct sockaddr_in *) sa;

        if (inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr)) == NULL) {
            return 0;
        }

        if (port) {
            p = sl_slprintf(p, last, "%s:%d", addr, ntohs(sin->sin_port));

        } else {
            p = sl_slprintf(p, last, "%s", addr);
        }

        break;

    case AF_INET6:
        sin6 = (struct sockaddr_in6 *) sa;

        if (inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof(addr)) == NULL)
        {
            return 0;
        }

        if (port) {
            p = sl_slprintf(p, last, "[%s]:%d", addr, ntohs(sin6->sin6_port));

        } else {
            p = sl_slprintf(p, last, "%s", addr);
        }

        break;

    case AF_UNIX:
        saun = (struct sockaddr_un *) sa;

        n = socklen > offsetof(struct sockaddr_un, sun_path)
            ? socklen - offsetof(struct sockaddr_un, sun_path) : 0;
        n = strnlen(saun->sun_path, sl_min(n, sizeof(saun->sun_path)));

        p = sl_slprintf(p, last, "unix:%.*s", (int) n, saun->sun_path);
        break;

    default:
        return 0;
    }

    return p - text;
}


/* SL_OK when both name the same address and port, SL_DECLINED if not */

sl_int_t
sl_cmp_sockaddr(struct sockaddr *sa1, socklen_t slen1,
    struct sockaddr *sa2, socklen_t slen2)
{
    struct sockaddr_in   *sin1, *sin2;
    struct sockaddr_in6  *sin61, *sin62;
    struct sockaddr_un   *saun1, *saun2;

    if (sa1->sa_family != sa2->sa_family) {
        return SL_DECLINED;
    }

    switch (sa1->sa_family) {

    case AF_INET:
        sin1 = (struct sockaddr_in *) sa1;
        sin2 = (struct sockaddr_in *) sa2;

        if (sin1->sin_port != sin2->sin_port
            || sin1->sin_addr.s_addr != sin2->sin_addr.s_addr)
        {
            return SL_DECLINED;
        }

        return SL_OK;

    case AF_INET6:
        sin61 = (struct sockaddr_in6 *) sa1;
        sin62 = (struct sockaddr_in6 *) sa2;

        if (sin61->sin6_port != sin62->sin6_port
            || sl_memcmp(&sin61->sin6_addr, &sin62->sin6_addr, 16) != 0)
        {
            return SL_DECLINED;
        }

        return SL_OK;

    case AF_UNIX:
        saun1 = (struct sockaddr_un *) sa1;
        saun2 = (struct sockaddr_un *) sa2;

        if (slen1 != slen2
            || sl_memcmp(saun1->sun_path, saun2->sun_path,
                         slen1 - offsetof(struct sockaddr_un, sun_path))
               != 0)
        {
            return SL_DECLINED;
        }

        return SL_OK;
    }

    return SL_DECLINED;
}
