
/*
 * The Kafka module's metrics, in a shared zone of its own so that the
 * page sums every worker: requests by API and error code, a latency
 * histogram per API (from the frame read to the response queued, so a
 * parked fetch counts its wait), fetches that parked, and connections.
 *
 * Totals are only ever added to, so a worker killed with kill -9 takes
 * nothing back.  Open connections are counted per process slot; a
 * worker starting in a slot zeroes what a dead one left there.
 *
 * The error of a request is its response's top-level error code; for
 * Produce and Fetch, whose errors are mostly per partition, the first
 * one that is not NONE; -1 (UNKNOWN_SERVER_ERROR) when the handler
 * failed.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_broker_metrics.h>
#include <sl_kafka.h>


#define SL_KAFKA_METRICS_ZONE_SIZE  (256 * 1024)

/* error codes -1 .. 126 by code + 1; higher ones share the last slot */
#define SL_KAFKA_METRICS_ERRORS     128


typedef struct {
    sl_atomic_t              requests[SL_KAFKA_API_MAX]
                                     [SL_KAFKA_METRICS_ERRORS];
    sl_atomic_t              buckets[SL_KAFKA_API_MAX]
                                    [SL_METRICS_LATENCY_N + 1];
    sl_atomic_t              sum_usec[SL_KAFKA_API_MAX];
    sl_atomic_t              fetch_waits;
    sl_atomic_t              accepted;
    sl_atomic_t              active[SL_MAX_PROCESSES];
} sl_kafka_metrics_sh_t;


static sl_int_t sl_kafka_metrics_init_zone(sl_shm_zone_t *zone,
    void *data);
static sl_int_t sl_kafka_metrics_error(sl_kafka_request_t *r, sl_int_t rc);
static sl_int_t sl_kafka_metrics_produce_error(sl_kafka_produce_resp_t *pr);
static sl_int_t sl_kafka_metrics_fetch_error(sl_kafka_fetch_resp_t *fr);
static void sl_kafka_metrics_collect(sl_metrics_t *m, void *data);
static void sl_kafka_metrics_requests(sl_metrics_t *m,
    sl_kafka_metrics_sh_t *sh);
static void sl_kafka_metrics_latency(sl_metrics_t *m,
    sl_kafka_metrics_sh_t *sh);


static sl_kafka_metrics_sh_t  *sl_kafka_metrics_sh;
static sl_uint_t               sl_kafka_metrics_tag;


/* in postconfiguration: the zone and the collectors */

sl_int_t
sl_kafka_metrics_configure(sl_conf_t *cf)
{
    sl_str_t        name;
    sl_shm_zone_t  *zone;

    sl_str_set(&name, "sl_kafka_metrics");

    zone = sl_shared_memory_add(cf, &name, SL_KAFKA_METRICS_ZONE_SIZE,
                                &sl_kafka_metrics_tag);
    if (zone == NULL) {
        return SL_ERROR;
    }

    zone->init = sl_kafka_metrics_init_zone;

    /* the groups' zone exists wherever the kafka { } block does */

    if (sl_metrics_add_collector(sl_kafka_metrics_collect, NULL) != SL_OK
        || sl_metrics_add_collector(sl_broker_metrics_topics, NULL) != SL_OK
        || sl_metrics_add_collector(sl_broker_metrics_groups, NULL) != SL_OK)
    {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "too many metrics collectors");
        return SL_ERROR;
    }

    return SL_OK;
}


/* the counters survive a reload: the old zone's data is taken over */

static sl_int_t
sl_kafka_metrics_init_zone(sl_shm_zone_t *zone, void *data)
{
    sl_slab_pool_t  *sp;

    if (data) {
        zone->data = data;
        sl_kafka_metrics_sh = data;
        return SL_OK;
    }

    sp = (sl_slab_pool_t *) zone->shm.addr;

    if (zone->shm.exists && sp->data) {
        zone->data = sp->data;
        sl_kafka_metrics_sh = sp->data;
        return SL_OK;
    }

    sl_kafka_metrics_sh = sl_slab_calloc(sp, sizeof(sl_kafka_metrics_sh_t));
    if (sl_kafka_metrics_sh == NULL) {
        sl_log_error(SL_LOG_EMERG, zone->shm.log, 0,
                     "the kafka metrics zone is too small");
        return SL_ERROR;
    }

    sp->data = sl_kafka_metrics_sh;
    zone->data = sl_kafka_metrics_sh;

    return SL_OK;
}


void
sl_kafka_metrics_init_process(void)
{
    if (sl_kafka_metrics_sh
        && sl_process_slot >= 0 && sl_process_slot < SL_MAX_PROCESSES)
    {
        sl_atomic_store(&sl_kafka_metrics_sh->active[sl_process_slot], 0);
    }
}


uint64_t
sl_kafka_metrics_now(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}


void
sl_kafka_metrics_connection(sl_int_t n)
{
    sl_kafka_metrics_sh_t  *sh;

    sh = sl_kafka_metrics_sh;

    if (sh == NULL
        || sl_process_slot < 0 || sl_process_slot >= SL_MAX_PROCESSES)
    {
        return;
    }

    if (n > 0) {
        (void) sl_atomic_fetch_add(&sh->accepted, 1);
    }

    (void) sl_atomic_fetch_add(&sh->active[sl_process_slot], (uint64_t) n);
}


void
sl_kafka_metrics_fetch_wait(void)
{
    if (sl_kafka_metrics_sh) {
        (void) sl_atomic_fetch_add(&sl_kafka_metrics_sh->fetch_waits, 1);
    }
}


/* a request is answered (or failed with rc SL_ERROR) */

void
sl_kafka_metrics_request(sl_kafka_request_t *r, sl_int_t rc)
{
    uint64_t                usec, now;
    sl_int_t                err;
    sl_uint_t               b;
    sl_kafka_metrics_sh_t  *sh;

    sh = sl_kafka_metrics_sh;

    if (sh == NULL || r->api_key < 0 || r->api_key >= SL_KAFKA_API_MAX) {
        return;
    }

    err = sl_kafka_metrics_error(r, rc) + 1;

    if (err < 0) {
        err = 0;
    }

    if (err >= SL_KAFKA_METRICS_ERRORS) {
        err = SL_KAFKA_METRICS_ERRORS - 1;
    }

    (void) sl_atomic_fetch_add(&sh->requests[r->api_key][err], 1);

    now = sl_kafka_metrics_now();
    usec = now > r->start_usec ? now - r->start_usec : 0;

    b = sl_metrics_latency_bucket(usec);

    (void) sl_atomic_fetch_add(&sh->buckets[r->api_key][b], 1);
    (void) sl_atomic_fetch_add(&sh->sum_usec[r->api_key], usec);
}


static sl_int_t
sl_kafka_metrics_error(sl_kafka_request_t *r, sl_int_t rc)
{
    sl_kafka_msg_t  *msg;

    if (rc == SL_ERROR) {
        return SL_KAFKA_UNKNOWN_SERVER_ERROR;
    }

    msg = r->msg;

    if (r->resp == NULL || msg == NULL) {
        /* ApiVersions answered with v0 for a version it does not know */
        return SL_KAFKA_UNSUPPORTED_VERSION;
    }

    if (msg->error_offset >= 0 && r->version <= msg->error_max_version) {
        return *(int16_t *) ((u_char *) r->resp + msg->error_offset);
    }

    if (rc == SL_DONE) {
        /* produce with acks 0: nothing was encoded */
        return SL_KAFKA_NONE;
    }

    switch (r->api_key) {

    case SL_KAFKA_PRODUCE:
        return sl_kafka_metrics_produce_error(r->resp);

    case SL_KAFKA_FETCH:
        return sl_kafka_metrics_fetch_error(r->resp);

    default:
        return SL_KAFKA_NONE;
    }
}


static sl_int_t
sl_kafka_metrics_produce_error(sl_kafka_produce_resp_t *pr)
{
    int32_t                                          i, j;
    sl_kafka_produce_resp_topic_produce_response_t  *pt;

    for (i = 0; i < pr->responses_n; i++) {
        pt = &pr->responses[i];

        for (j = 0; j < pt->partition_responses_n; j++) {
            if (pt->partition_responses[j].error_code != SL_KAFKA_NONE) {
                return pt->partition_responses[j].error_code;
            }
        }
    }

    return SL_KAFKA_NONE;
}


static sl_int_t
sl_kafka_metrics_fetch_error(sl_kafka_fetch_resp_t *fr)
{
    int32_t                                          i, j;
    sl_kafka_fetch_resp_fetchable_topic_response_t  *ft;

    if (fr->error_code != SL_KAFKA_NONE) {
        return fr->error_code;
    }

    for (i = 0; i < fr->responses_n; i++) {
        ft = &fr->responses[i];

        for (j = 0; j < ft->partitions_n; j++) {
            if (ft->partitions[j].error_code != SL_KAFKA_NONE) {
                return ft->partitions[j].error_code;
            }
        }
    }

    return SL_KAFKA_NONE;
}


static void
sl_kafka_metrics_collect(sl_metrics_t *m, void *data)
{
    int64_t                 active;
    sl_uint_t               i;
    sl_kafka_metrics_sh_t  *sh;

    sh = sl_kafka_metrics_sh;
    if (sh == NULL) {
        return;
    }

    sl_kafka_metrics_requests(m, sh);
    sl_kafka_metrics_latency(m, sh);

    sl_metrics_family(m, "sluice_kafka_fetch_waits_total", "counter",
                      "Fetches that waited for data (long polls).");
    sl_metrics_counter(m, "sluice_kafka_fetch_waits_total", NULL, 0,
                       sl_atomic_load(&sh->fetch_waits));

    active = 0;

    for (i = 0; i < SL_MAX_PROCESSES; i++) {
        active += (int64_t) sl_atomic_load(&sh->active[i]);
    }

    sl_metrics_family(m, "sluice_kafka_connections", "gauge",
                      "Open Kafka protocol connections.");
    sl_metrics_gauge(m, "sluice_kafka_connections", NULL, 0, active);

    sl_metrics_family(m, "sluice_kafka_connections_accepted_total", "counter",
                      "Kafka protocol connections accepted.");
    sl_metrics_counter(m, "sluice_kafka_connections_accepted_total", NULL, 0,
                       sl_atomic_load(&sh->accepted));
}


static void
sl_kafka_metrics_requests(sl_metrics_t *m, sl_kafka_metrics_sh_t *sh)
{
    u_char              *p, code[16];
    uint64_t             n;
    sl_uint_t            api, err;
    sl_kafka_msg_t      *msg;
    sl_metrics_label_t   labels[2];

    sl_metrics_family(m, "sluice_kafka_requests_total", "counter",
                      "Kafka requests by API and error code.");

    labels[0].name = "api";
    labels[1].name = "error";
    labels[1].value.data = code;

    for (api = 0; api < SL_KAFKA_API_MAX; api++) {
        msg = sl_kafka_msg(api);
        if (msg == NULL) {
            continue;
        }

        labels[0].value.data = (u_char *) msg->name;
        labels[0].value.len = sl_strlen(msg->name);

        for (err = 0; err < SL_KAFKA_METRICS_ERRORS; err++) {
            n = sl_atomic_load(&sh->requests[api][err]);
            if (n == 0) {
                continue;
            }

            p = sl_slprintf(code, code + sizeof(code), "%d", (int) err - 1);
            labels[1].value.len = p - code;

            sl_metrics_counter(m, "sluice_kafka_requests_total", labels, 2,
                               n);
        }
    }
}


static void
sl_kafka_metrics_latency(sl_metrics_t *m, sl_kafka_metrics_sh_t *sh)
{
    uint64_t                 counts[SL_METRICS_LATENCY_N + 1], total;
    sl_uint_t                api, i;
    sl_kafka_msg_t          *msg;
    sl_metrics_label_t       label;
    sl_metrics_histogram_t   h;

    sl_metrics_family(m, "sluice_kafka_request_duration_seconds",
                      "histogram",
                      "Kafka request time, from the request read to its "
                      "response queued.");

    label.name = "api";

    h.bounds = sl_metrics_latency_bounds;
    h.nbounds = SL_METRICS_LATENCY_N;
    h.counts = counts;

    for (api = 0; api < SL_KAFKA_API_MAX; api++) {
        msg = sl_kafka_msg(api);
        if (msg == NULL) {
            continue;
        }

        total = 0;

        for (i = 0; i <= SL_METRICS_LATENCY_N; i++) {
            counts[i] = sl_atomic_load(&sh->buckets[api][i]);
            total += counts[i];
        }

        if (total == 0) {
            continue;
        }

        h.sum = (double) sl_atomic_load(&sh->sum_usec[api]) / 1000000.0;

        label.value.data = (u_char *) msg->name;
        label.value.len = sl_strlen(msg->name);

        sl_metrics_histogram(m, "sluice_kafka_request_duration_seconds",
                             &label, 1, &h);
    }
}
