
/*
 * A Kafka load generator on librdkafka, in the manner of librdkafka's
 * rdkafka_performance: produce N records of S bytes (acks 1 or all,
 * optionally at a fixed rate) and report records/s, MB/s and the
 * produce latency percentiles (enqueue to delivery report); or consume
 * N records from the beginning of every partition and report the rate.
 *
 *     kafka_perf -P -b HOST:PORT -t TOPIC -n N -s SIZE -a ACKS [-r RATE]
 *     kafka_perf -C -b HOST:PORT -t TOPIC -n N
 *
 * One line of figures goes to stdout, "key=value ..." so that the
 * driving script can pick values out.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#include <librdkafka/rdkafka.h>


static uint64_t   *lat_us;
static size_t      lat_n;
static size_t      delivered;
static size_t      failed;


static uint64_t
now_us(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}


static int
cmp_u64(const void *a, const void *b)
{
    uint64_t  x = *(const uint64_t *) a, y = *(const uint64_t *) b;

    return (x > y) - (x < y);
}


static void
dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    uint64_t  sent;

    if (m->err) {
        failed++;
        return;
    }

    sent = (uint64_t) (uintptr_t) m->_private;

    if (delivered < lat_n) {
        lat_us[delivered] = now_us() - sent;
    }

    delivered++;
}


static void
set(rd_kafka_conf_t *conf, const char *name, const char *value)
{
    char  err[512];

    if (rd_kafka_conf_set(conf, name, value, err, sizeof(err))
        != RD_KAFKA_CONF_OK)
    {
        fprintf(stderr, "kafka_perf: %s=%s: %s\n", name, value, err);
        exit(2);
    }
}


static double
pct(double p)
{
    size_t  i;

    if (delivered == 0) {
        return 0;
    }

    i = (size_t) (p / 100.0 * (double) (delivered - 1));

    return (double) lat_us[i] / 1000.0;
}


static int
produce(const char *brokers, const char *topic, size_t n, size_t size,
    const char *acks, double rate)
{
    char                err[512];
    char               *payload;
    size_t              i;
    uint64_t            t0, t1, due;
    rd_kafka_t         *rk;
    rd_kafka_conf_t    *conf;
    rd_kafka_resp_err_t rc;

    conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", brokers);
    set(conf, "acks", acks);
    set(conf, "linger.ms", rate > 0 ? "1" : "5");
    set(conf, "batch.num.messages", "10000");
    set(conf, "queue.buffering.max.messages", "2000000");
    set(conf, "queue.buffering.max.kbytes", "2097151");
    set(conf, "message.timeout.ms", "60000");
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);

    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (rk == NULL) {
        fprintf(stderr, "kafka_perf: %s\n", err);
        return 2;
    }

    lat_us = calloc(n, sizeof(uint64_t));
    payload = malloc(size ? size : 1);
    if (lat_us == NULL || payload == NULL) {
        return 2;
    }

    lat_n = n;
    memset(payload, 'x', size);

    /* warm up: the connection, the topic's metadata, one record */

    {
        const struct rd_kafka_metadata  *md;

        if (rd_kafka_metadata(rk, 0, rd_kafka_topic_new(rk, topic, NULL),
                              &md, 10000)
            == RD_KAFKA_RESP_ERR_NO_ERROR)
        {
            rd_kafka_metadata_destroy(md);
        }

        rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
                          RD_KAFKA_V_VALUE(payload, size),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                          RD_KAFKA_V_OPAQUE((void *) (uintptr_t) now_us()),
                          RD_KAFKA_V_END);
        rd_kafka_flush(rk, 10000);
        delivered = 0;
        failed = 0;
    }

    t0 = now_us();

    for (i = 0; i < n; i++) {

        if (rate > 0) {
            due = t0 + (uint64_t) ((double) i * 1000000.0 / rate);

            while (now_us() < due) {
                rd_kafka_poll(rk, 0);
            }
        }

        for ( ;; ) {
            rc = rd_kafka_producev(rk,
                                   RD_KAFKA_V_TOPIC(topic),
                                   RD_KAFKA_V_VALUE(payload, size),
                                   RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                   RD_KAFKA_V_OPAQUE((void *) (uintptr_t)
                                                     now_us()),
                                   RD_KAFKA_V_END);

            if (rc != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                break;
            }

            rd_kafka_poll(rk, 1);
        }

        if (rc) {
            fprintf(stderr, "kafka_perf: produce: %s\n", rd_kafka_err2str(rc));
            return 1;
        }

        if ((i & 1023) == 0) {
            rd_kafka_poll(rk, 0);
        }
    }

    rd_kafka_flush(rk, 120000);
    t1 = now_us();

    qsort(lat_us, delivered, sizeof(uint64_t), cmp_u64);

    printf("mode=produce acks=%s records=%zu failed=%zu size=%zu "
           "seconds=%.3f records_s=%.0f MB_s=%.1f "
           "p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f\n",
           acks, delivered, failed, size, (t1 - t0) / 1e6,
           delivered / ((t1 - t0) / 1e6),
           delivered * (double) size / ((t1 - t0) / 1e6) / 1e6,
           pct(50), pct(99), pct(99.9));

    rd_kafka_destroy(rk);

    return failed ? 1 : 0;
}


static int
consume(const char *brokers, const char *topic, size_t n)
{
    int                               i, parts;
    char                              err[512];
    size_t                            got, bytes;
    uint64_t                          t0, t1;
    rd_kafka_t                       *rk;
    rd_kafka_conf_t                  *conf;
    rd_kafka_message_t               *m;
    const struct rd_kafka_metadata   *md;
    rd_kafka_topic_partition_list_t  *tps;

    conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", brokers);
    set(conf, "group.id", "kafka_perf");
    set(conf, "enable.auto.commit", "false");
    set(conf, "fetch.wait.max.ms", "100");
    set(conf, "fetch.max.bytes", "52428800");
    set(conf, "max.partition.fetch.bytes", "4194304");
    set(conf, "queued.max.messages.kbytes", "1048576");

    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (rk == NULL) {
        fprintf(stderr, "kafka_perf: %s\n", err);
        return 2;
    }

    if (rd_kafka_metadata(rk, 0, rd_kafka_topic_new(rk, topic, NULL),
                          &md, 10000)
        != RD_KAFKA_RESP_ERR_NO_ERROR
        || md->topic_cnt != 1)
    {
        fprintf(stderr, "kafka_perf: no metadata for %s\n", topic);
        return 2;
    }

    parts = md->topics[0].partition_cnt;
    tps = rd_kafka_topic_partition_list_new(parts);

    for (i = 0; i < parts; i++) {
        rd_kafka_topic_partition_list_add(tps, topic, i)->offset =
                                                   RD_KAFKA_OFFSET_BEGINNING;
    }

    rd_kafka_metadata_destroy(md);
    rd_kafka_assign(rk, tps);

    got = 0;
    bytes = 0;
    t0 = now_us();

    while (got < n && now_us() - t0 < 120000000) {
        m = rd_kafka_consumer_poll(rk, 100);
        if (m == NULL) {
            continue;
        }

        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            got++;
            bytes += m->len;
        }

        rd_kafka_message_destroy(m);
    }

    t1 = now_us();

    printf("mode=consume records=%zu seconds=%.3f records_s=%.0f "
           "MB_s=%.1f\n", got, (t1 - t0) / 1e6, got / ((t1 - t0) / 1e6),
           bytes / ((t1 - t0) / 1e6) / 1e6);

    rd_kafka_consumer_close(rk);
    rd_kafka_topic_partition_list_destroy(tps);
    rd_kafka_destroy(rk);

    return got == n ? 0 : 1;
}


int
main(int argc, char **argv)
{
    int          c, mode;
    double       rate;
    size_t       n, size;
    const char  *brokers, *topic, *acks;

    mode = 'P';
    brokers = "127.0.0.1:9092";
    topic = "bench";
    acks = "1";
    n = 1000000;
    size = 1024;
    rate = 0;

    while ((c = getopt(argc, argv, "PCb:t:n:s:a:r:")) != -1) {
        switch (c) {
        case 'P':
        case 'C':
            mode = c;
            break;
        case 'b':
            brokers = optarg;
            break;
        case 't':
            topic = optarg;
            break;
        case 'n':
            n = strtoull(optarg, NULL, 10);
            break;
        case 's':
            size = strtoull(optarg, NULL, 10);
            break;
        case 'a':
            acks = optarg;
            break;
        case 'r':
            rate = strtod(optarg, NULL);
            break;
        default:
            fprintf(stderr, "usage: kafka_perf -P|-C -b BROKERS -t TOPIC "
                    "-n N -s SIZE -a ACKS -r RATE\n");
            return 2;
        }
    }

    if (mode == 'P') {
        return produce(brokers, topic, n, size, acks, rate);
    }

    return consume(brokers, topic, n);
}
