
/*
 * The Prometheus text writer and the collector registry (see
 * sl_metrics.h).  The registry is process-wide and fixed once
 * configuration is read, like the produce filter chain; the numbers
 * themselves live in shared memory zones of their owners, so any worker
 * writes the same page.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_metrics.h>


typedef struct {
    sl_metrics_collect_pt    handler;
    void                    *data;
} sl_metrics_collector_t;


static u_char *sl_metrics_reserve(sl_metrics_t *m, size_t len);
static void sl_metrics_line(sl_metrics_t *m, const char *name,
    const char *suffix, sl_metrics_label_t *labels, sl_uint_t n,
    const char *le, u_char *value, size_t vlen);
static void sl_metrics_core(sl_metrics_t *m, void *data);


const double  sl_metrics_latency_bounds[SL_METRICS_LATENCY_N] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1, 2.5, 5, 10
};

static sl_metrics_collector_t  sl_metrics_collectors[SL_METRICS_COLLECTORS_MAX];
static sl_uint_t               sl_metrics_ncollectors;


sl_int_t
sl_metrics_init(sl_metrics_t *m, sl_pool_t *pool, size_t size)
{
    if (size < 64) {
        size = 64;
    }

    m->pool = pool;
    m->failed = 0;

    m->start = sl_pnalloc(pool, size);
    if (m->start == NULL) {
        return SL_ERROR;
    }

    m->pos = m->start;
    m->end = m->start + size;

    return SL_OK;
}


/* room for len more bytes, the buffer doubled as often as needed */

static u_char *
sl_metrics_reserve(sl_metrics_t *m, size_t len)
{
    size_t   size, used;
    u_char  *p;

    if (m->failed) {
        return NULL;
    }

    if ((size_t) (m->end - m->pos) >= len) {
        return m->pos;
    }

    used = m->pos - m->start;
    size = m->end - m->start;

    while (size - used < len) {
        size *= 2;
    }

    p = sl_pnalloc(m->pool, size);
    if (p == NULL) {
        m->failed = 1;
        return NULL;
    }

    sl_memcpy(p, m->start, used);
    (void) sl_pfree(m->pool, m->start);

    m->start = p;
    m->pos = p + used;
    m->end = p + size;

    return m->pos;
}


void
sl_metrics_write(sl_metrics_t *m, u_char *data, size_t len)
{
    u_char  *p;

    p = sl_metrics_reserve(m, len);
    if (p == NULL) {
        return;
    }

    m->pos = sl_cpymem(p, data, len);
}


size_t
sl_metrics_escaped_len(u_char *src, size_t len)
{
    size_t  i, n;

    n = len;

    for (i = 0; i < len; i++) {
        if (src[i] == '\\' || src[i] == '"' || src[i] == '\n') {
            n++;
        }
    }

    return n;
}


u_char *
sl_metrics_escape(u_char *dst, u_char *src, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        switch (src[i]) {

        case '\\':
            *dst++ = '\\';
            *dst++ = '\\';
            break;

        case '"':
            *dst++ = '\\';
            *dst++ = '"';
            break;

        case '\n':
            *dst++ = '\\';
            *dst++ = 'n';
            break;

        default:
            *dst++ = src[i];
        }
    }

    return dst;
}


void
sl_metrics_family(sl_metrics_t *m, const char *name, const char *type,
    const char *help)
{
    size_t   len;
    u_char  *p;

    /* and the NUL that sl_slprintf() writes */
    len = sizeof("# HELP  \n# TYPE  \n") + 2 * sl_strlen(name)
          + sl_strlen(type) + sl_strlen(help);

    p = sl_metrics_reserve(m, len);
    if (p == NULL) {
        return;
    }

    /* help texts are ours: no backslash or newline to escape */
    m->pos = sl_slprintf(p, m->end, "# HELP %s %s\n# TYPE %s %s\n",
                         name, help, name, type);
}


/* name[suffix]{labels[,le="..."]} value */

static void
sl_metrics_line(sl_metrics_t *m, const char *name, const char *suffix,
    sl_metrics_label_t *labels, sl_uint_t n, const char *le, u_char *value,
    size_t vlen)
{
    size_t     len, nlen, slen;
    u_char    *p;
    sl_uint_t  i;

    nlen = sl_strlen(name);
    slen = suffix ? sl_strlen(suffix) : 0;

    len = nlen + slen + sizeof("{}  \n") + vlen;

    for (i = 0; i < n; i++) {
        len += sl_strlen(labels[i].name) + sizeof("=\"\",")
               + sl_metrics_escaped_len(labels[i].value.data,
                                        labels[i].value.len);
    }

    if (le) {
        len += sizeof("le=\"\"") + sl_strlen(le);
    }

    p = sl_metrics_reserve(m, len);
    if (p == NULL) {
        return;
    }

    p = sl_cpymem(p, name, nlen);

    if (suffix) {
        p = sl_cpymem(p, suffix, slen);
    }

    if (n || le) {
        *p++ = '{';

        for (i = 0; i < n; i++) {
            if (i) {
                *p++ = ',';
            }

            p = sl_cpymem(p, labels[i].name, sl_strlen(labels[i].name));
            *p++ = '=';
            *p++ = '"';
            p = sl_metrics_escape(p, labels[i].value.data,
                                  labels[i].value.len);
            *p++ = '"';
        }

        if (le) {
            if (n) {
                *p++ = ',';
            }

            p = sl_cpymem(p, "le=\"", 4);
            p = sl_cpymem(p, le, sl_strlen(le));
            *p++ = '"';
        }

        *p++ = '}';
    }

    *p++ = ' ';
    p = sl_cpymem(p, value, vlen);
    *p++ = '\n';

    m->pos = p;
}


void
sl_metrics_counter(sl_metrics_t *m, const char *name,
    sl_metrics_label_t *labels, sl_uint_t n, uint64_t value)
{
    u_char  *p, buf[32];

    p = sl_slprintf(buf, buf + sizeof(buf), "%llu",
                    (unsigned long long) value);

    sl_metrics_line(m, name, NULL, labels, n, NULL, buf, p - buf);
}


void
sl_metrics_gauge(sl_metrics_t *m, const char *name,
    sl_metrics_label_t *labels, sl_uint_t n, int64_t value)
{
    u_char  *p, buf[32];

    p = sl_slprintf(buf, buf + sizeof(buf), "%lld", (long long) value);

    sl_metrics_line(m, name, NULL, labels, n, NULL, buf, p - buf);
}


void
sl_metrics_gauge_double(sl_metrics_t *m, const char *name,
    sl_metrics_label_t *labels, sl_uint_t n, double value)
{
    u_char  *p, buf[64];

    p = sl_slprintf(buf, buf + sizeof(buf), "%.17g", value);

    sl_metrics_line(m, name, NULL, labels, n, NULL, buf, p - buf);
}


void
sl_metrics_histogram(sl_metrics_t *m, const char *name,
    sl_metrics_label_t *labels, sl_uint_t n, sl_metrics_histogram_t *h)
{
    u_char     *p, buf[64], le[32];
    uint64_t    total;
    sl_uint_t   i;

    total = 0;

    for (i = 0; i <= h->nbounds; i++) {
        total += h->counts[i];

        if (i < h->nbounds) {
            p = sl_slprintf(le, le + sizeof(le) - 1, "%g", h->bounds[i]);
        } else {
            p = sl_cpymem(le, "+Inf", 4);
        }

        *p = '\0';

        p = sl_slprintf(buf, buf + sizeof(buf), "%llu",
                        (unsigned long long) total);

        sl_metrics_line(m, name, "_bucket", labels, n, (char *) le, buf,
                        p - buf);
    }

    p = sl_slprintf(buf, buf + sizeof(buf), "%.6f", h->sum);
    sl_metrics_line(m, name, "_sum", labels, n, NULL, buf, p - buf);

    p = sl_slprintf(buf, buf + sizeof(buf), "%llu",
                    (unsigned long long) total);
    sl_metrics_line(m, name, "_count", labels, n, NULL, buf, p - buf);
}


sl_uint_t
sl_metrics_latency_bucket(uint64_t usec)
{
    double     s;
    sl_uint_t  i;

    s = (double) usec / 1000000.0;

    for (i = 0; i < SL_METRICS_LATENCY_N; i++) {
        if (s <= sl_metrics_latency_bounds[i]) {
            return i;
        }
    }

    return SL_METRICS_LATENCY_N;
}


sl_int_t
sl_metrics_add_collector(sl_metrics_collect_pt handler, void *data)
{
    sl_uint_t  i;

    for (i = 0; i < sl_metrics_ncollectors; i++) {
        if (sl_metrics_collectors[i].handler == handler) {
            sl_metrics_collectors[i].data = data;
            return SL_OK;
        }
    }

    if (sl_metrics_ncollectors == SL_METRICS_COLLECTORS_MAX) {
        return SL_ERROR;
    }

    sl_metrics_collectors[sl_metrics_ncollectors].handler = handler;
    sl_metrics_collectors[sl_metrics_ncollectors].data = data;
    sl_metrics_ncollectors++;

    return SL_OK;
}


sl_int_t
sl_metrics_collect(sl_metrics_t *m)
{
    sl_uint_t  i;

    sl_metrics_core(m, NULL);

    for (i = 0; i < sl_metrics_ncollectors; i++) {
        sl_metrics_collectors[i].handler(m, sl_metrics_collectors[i].data);
    }

    return m->failed ? SL_ERROR : SL_OK;
}


/* the process-wide counters of sl_stat, what GET /status shows */

static void
sl_metrics_core(sl_metrics_t *m, void *data)
{
    uint64_t  workers, accepted, handled, requests;
    int64_t   active;

    workers = 0;
    accepted = 0;
    handled = 0;
    requests = 0;
    active = 0;

    if (sl_stat) {
        workers = sl_atomic_load(&sl_stat->workers);
        accepted = sl_atomic_load(&sl_stat->accepted);
        handled = sl_atomic_load(&sl_stat->handled);
        requests = sl_atomic_load(&sl_stat->requests);
        active = sl_stat_active();
    }

    sl_metrics_family(m, "sluice_workers", "gauge",
                      "Live worker processes.");
    sl_metrics_gauge(m, "sluice_workers", NULL, 0, (int64_t) workers);

    sl_metrics_family(m, "sluice_connections", "gauge",
                      "Open client connections of every protocol.");
    sl_metrics_gauge(m, "sluice_connections", NULL, 0, active);

    sl_metrics_family(m, "sluice_connections_accepted_total", "counter",
                      "Client connections accepted.");
    sl_metrics_counter(m, "sluice_connections_accepted_total", NULL, 0,
                       accepted);

    sl_metrics_family(m, "sluice_connections_handled_total", "counter",
                      "Client connections handled.");
    sl_metrics_counter(m, "sluice_connections_handled_total", NULL, 0,
                       handled);

    sl_metrics_family(m, "sluice_requests_total", "counter",
                      "Requests of every protocol.");
    sl_metrics_counter(m, "sluice_requests_total", NULL, 0, requests);
}
