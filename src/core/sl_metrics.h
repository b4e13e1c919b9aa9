
/*
 * Metrics in the Prometheus text exposition format (version 0.0.4): a
 * writer that builds the page in a growing buffer from a pool, and the
 * registry of collectors.  A module that has something to report adds
 * a collector at configuration time; the exporter (an HTTP location)
 * calls sl_metrics_collect(), which writes the core's counters and then
 * calls every collector in the order they were added.
 *
 * Each family is written whole: the header, then all its samples.
 */

#ifndef _SL_METRICS_H_INCLUDED_
#define _SL_METRICS_H_INCLUDED_


#include <sl_config.h>
#include <sl_core.h>


#define SL_METRICS_CONTENT_TYPE   "text/plain; version=0.0.4; charset=utf-8"

#define SL_METRICS_COLLECTORS_MAX 32

/* the latency buckets every module shares, in seconds, without +Inf */
#define SL_METRICS_LATENCY_N      14


typedef struct {
    sl_pool_t               *pool;
    u_char                  *start;
    u_char                  *pos;
    u_char                  *end;
    sl_uint_t                failed;     /* out of memory: page lost */
} sl_metrics_t;


typedef struct {
    const char              *name;
    sl_str_t                 value;      /* escaped when written */
} sl_metrics_label_t;


/*
 * A histogram as its owner keeps it: counts per bucket, not cumulative,
 * the last one past every bound (+Inf); the writer accumulates them.
 */
typedef struct {
    const double            *bounds;
    sl_uint_t                nbounds;
    uint64_t                *counts;     /* nbounds + 1 */
    double                   sum;
} sl_metrics_histogram_t;


typedef void (*sl_metrics_collect_pt)(sl_metrics_t *m, void *data);


sl_int_t sl_metrics_init(sl_metrics_t *m, sl_pool_t *pool, size_t size);

/* # HELP and # TYPE ("counter", "gauge", "histogram") */
void sl_metrics_family(sl_metrics_t *m, const char *name, const char *type,
    const char *help);
/* one sample line: name{labels} value */
void sl_metrics_counter(sl_metrics_t *m, const char *name,
    sl_metrics_label_t *labels, sl_uint_t n, uint64_t value);
void sl_metrics_gauge(sl_metrics_t *m, const char *name,
    sl_metrics_label_t *labels, sl_uint_t n, int64_t value);
void sl_metrics_gauge_double(sl_metrics_t *m, const char *name,
    sl_metrics_label_t *labels, sl_uint_t n, double value);
/* name_bucket{labels,le="..."}, name_sum and name_count */
void sl_metrics_histogram(sl_metrics_t *m, const char *name,
    sl_metrics_label_t *labels, sl_uint_t n, sl_metrics_histogram_t *h);
/* bytes written as they are, for what the helpers do not cover */
void sl_metrics_write(sl_metrics_t *m, u_char *data, size_t len);

/* a label value escaped as the format wants: \\, \" and \n */
u_char *sl_metrics_escape(u_char *dst, u_char *src, size_t len);
size_t sl_metrics_escaped_len(u_char *src, size_t len);

/* the bucket of a duration in microseconds among the latency bounds */
sl_uint_t sl_metrics_latency_bucket(uint64_t usec);
extern const double  sl_metrics_latency_bounds[SL_METRICS_LATENCY_N];

/* at configuration time; adding the same handler again updates data */
sl_int_t sl_metrics_add_collector(sl_metrics_collect_pt handler,
    void *data);
/* the whole page: the core's counters, then every collector's */
sl_int_t sl_metrics_collect(sl_metrics_t *m);


#endif /* _SL_METRICS_H_INCLUDED_ */
