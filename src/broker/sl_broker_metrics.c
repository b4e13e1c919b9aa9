
/*
 * The broker's metrics (see sl_broker_metrics.h).  Every number is read
 * from the shared zones at the time of the scrape, so the page is the
 * same whichever worker writes it: traffic counters are the partitions'
 * own (appends count in, readers count out), offsets and sizes are the
 * partitions' published state, groups come from the coordinator.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_broker.h>
#include <sl_broker_group.h>
#include <sl_broker_metrics.h>


#define SL_BROKER_METRICS_STATES  (SL_BROKER_GROUP_DEAD + 1)


/* a counter summed over a topic's partitions */
typedef struct {
    const char              *name;
    const char              *help;
    size_t                   offset;     /* in sl_broker_partition_t */
} sl_broker_metric_t;


/* a gauge of each partition */
typedef struct {
    const char              *name;
    const char              *help;
    int64_t                (*get)(sl_broker_partition_t *part);
} sl_broker_gauge_t;


static void sl_broker_metrics_partitions(sl_metrics_t *m);
static int64_t sl_broker_metrics_start(sl_broker_partition_t *part);
static int64_t sl_broker_metrics_end(sl_broker_partition_t *part);
static int64_t sl_broker_metrics_hw(sl_broker_partition_t *part);
static int64_t sl_broker_metrics_segments(sl_broker_partition_t *part);
static int64_t sl_broker_metrics_size(sl_broker_partition_t *part);
static void sl_broker_metrics_committed(void *data, sl_str_t *group,
    sl_str_t *topic, int32_t partition, int64_t committed,
    int64_t high_watermark);
static void sl_broker_metrics_lag(void *data, sl_str_t *group,
    sl_str_t *topic, int32_t partition, int64_t committed,
    int64_t high_watermark);


#define sl_broker_metric_field(f)  offsetof(sl_broker_partition_t, f)

static sl_broker_metric_t  sl_broker_topic_metrics[] = {

    { "sluice_topic_bytes_in_total",
      "Record batch bytes appended to the topic.",
      sl_broker_metric_field(bytes_in) },

    { "sluice_topic_records_in_total",
      "Records appended to the topic.",
      sl_broker_metric_field(records_in) },

    { "sluice_topic_bytes_out_total",
      "Record batch bytes sent to readers of the topic.",
      sl_broker_metric_field(bytes_out) },

    { "sluice_topic_records_out_total",
      "Records sent to readers of the topic.",
      sl_broker_metric_field(records_out) },

    { NULL, NULL, 0 }
};


static sl_broker_gauge_t  sl_broker_partition_gauges[] = {

    { "sluice_partition_log_start_offset",
      "The first offset still in the partition log.",
      sl_broker_metrics_start },

    { "sluice_partition_log_end_offset",
      "The offset the next appended record gets.",
      sl_broker_metrics_end },

    { "sluice_partition_high_watermark",
      "The offset up to which readers see records.",
      sl_broker_metrics_hw },

    { "sluice_partition_segments",
      "Segment files of the partition log.",
      sl_broker_metrics_segments },

    { "sluice_partition_size_bytes",
      "Bytes of the partition's segments on disk.",
      sl_broker_metrics_size },

    { NULL, NULL, NULL }
};


void
sl_broker_metrics_topics(sl_metrics_t *m, void *data)
{
    uint64_t                sum;
    int32_t                 i;
    sl_broker_metric_t     *bm;
    sl_broker_topic_t      *topic;
    sl_metrics_label_t      label;
    sl_broker_partition_t  *part;

    label.name = "topic";

    for (bm = sl_broker_topic_metrics; bm->name; bm++) {

        sl_metrics_family(m, bm->name, "counter", bm->help);

        for (topic = sl_broker_topic_next(NULL);
             topic;
             topic = sl_broker_topic_next(topic))
        {
            sum = 0;

            for (i = 0; i < topic->partitions_n; i++) {
                part = sl_broker_partition(topic, i);

                if (part) {
                    sum += sl_atomic_load((volatile uint64_t *)
                                          ((u_char *) part + bm->offset));
                }
            }

            label.value = topic->name;
            sl_metrics_counter(m, bm->name, &label, 1, sum);
        }
    }

    sl_broker_metrics_partitions(m);
}


static void
sl_broker_metrics_partitions(sl_metrics_t *m)
{
    u_char                 *p, id[16];
    int32_t                 i;
    sl_broker_gauge_t      *bg;
    sl_broker_topic_t      *topic;
    sl_metrics_label_t      labels[2];
    sl_broker_partition_t  *part;

    labels[0].name = "topic";
    labels[1].name = "partition";
    labels[1].value.data = id;

    for (bg = sl_broker_partition_gauges; bg->name; bg++) {

        sl_metrics_family(m, bg->name, "gauge", bg->help);

        for (topic = sl_broker_topic_next(NULL);
             topic;
             topic = sl_broker_topic_next(topic))
        {
            labels[0].value = topic->name;

            for (i = 0; i < topic->partitions_n; i++) {
                part = sl_broker_partition(topic, i);
                if (part == NULL) {
                    continue;
                }

                p = sl_slprintf(id, id + sizeof(id), "%d", (int) i);
                labels[1].value.len = p - id;

                sl_metrics_gauge(m, bg->name, labels, 2, bg->get(part));
            }
        }
    }
}


static int64_t
sl_broker_metrics_start(sl_broker_partition_t *part)
{
    return sl_atomic_load(&part->log_start_offset);
}


static int64_t
sl_broker_metrics_end(sl_broker_partition_t *part)
{
    return sl_atomic_load(&part->log_end_offset);
}


static int64_t
sl_broker_metrics_hw(sl_broker_partition_t *part)
{
    return sl_atomic_load(&part->high_watermark);
}


static int64_t
sl_broker_metrics_segments(sl_broker_partition_t *part)
{
    return part->data ? (int64_t) sl_broker_log_segments(part) : 0;
}


static int64_t
sl_broker_metrics_size(sl_broker_partition_t *part)
{
    return (int64_t) sl_atomic_load(&part->size_bytes);
}


/*
 * Groups: the list is copied out of the coordinator's zone into the
 * page's pool; committed offsets and lag are written from inside
 * sl_broker_group_lag_each(), which only appends to the page.
 */

void
sl_broker_metrics_groups(sl_metrics_t *m, void *data)
{
    sl_uint_t                i, s;
    sl_array_t               groups;
    sl_metrics_label_t       labels[2];
    sl_broker_group_desc_t  *d;

    if (sl_array_init(&groups, m->pool, 8, sizeof(sl_broker_group_desc_t))
        != SL_OK)
    {
        m->failed = 1;
        return;
    }

    if (sl_broker_group_list(m->pool, &groups) != SL_OK) {
        m->failed = 1;
        return;
    }

    d = groups.elts;

    labels[0].name = "group";

    sl_metrics_family(m, "sluice_group_members", "gauge",
                      "Members of the consumer group.");

    for (i = 0; i < groups.nelts; i++) {
        labels[0].value = d[i].group_id;
        sl_metrics_gauge(m, "sluice_group_members", labels, 1,
                         (int64_t) d[i].nmembers);
    }

    sl_metrics_family(m, "sluice_group_state", "gauge",
                      "1 for the state the consumer group is in.");

    labels[1].name = "state";

    for (i = 0; i < groups.nelts; i++) {
        labels[0].value = d[i].group_id;

        for (s = 0; s < SL_BROKER_METRICS_STATES; s++) {
            labels[1].value.data = (u_char *) sl_broker_group_state_name(s);
            labels[1].value.len = sl_strlen(labels[1].value.data);

            sl_metrics_gauge(m, "sluice_group_state", labels, 2,
                             d[i].state == s);
        }
    }

    sl_metrics_family(m, "sluice_group_committed_offset", "gauge",
                      "The consumer group's committed offset.");
    sl_broker_group_lag_each(sl_broker_metrics_committed, m);

    sl_metrics_family(m, "sluice_group_lag", "gauge",
                      "High watermark minus committed offset.");
    sl_broker_group_lag_each(sl_broker_metrics_lag, m);
}


/* one gauge of a group's partition, labelled group, topic, partition */

static void
sl_broker_metrics_group_gauge(sl_metrics_t *m, const char *name,
    sl_str_t *group, sl_str_t *topic, int32_t partition, int64_t value)
{
    u_char              *p, id[16];
    sl_metrics_label_t   labels[3];

    p = sl_slprintf(id, id + sizeof(id), "%d", (int) partition);

    labels[0].name = "group";
    labels[0].value = *group;
    labels[1].name = "topic";
    labels[1].value = *topic;
    labels[2].name = "partition";
    labels[2].value.data = id;
    labels[2].value.len = p - id;

    sl_metrics_gauge(m, name, labels, 3, value);
}


static void
sl_broker_metrics_committed(void *data, sl_str_t *group, sl_str_t *topic,
    int32_t partition, int64_t committed, int64_t high_watermark)
{
    if (committed >= 0) {
        sl_broker_metrics_group_gauge(data, "sluice_group_committed_offset",
                                      group, topic, partition, committed);
    }
}


static void
sl_broker_metrics_lag(void *data, sl_str_t *group, sl_str_t *topic,
    int32_t partition, int64_t committed, int64_t high_watermark)
{
    if (committed >= 0 && high_watermark >= 0) {
        sl_broker_metrics_group_gauge(data, "sluice_group_lag", group, topic,
                                      partition,
                                      sl_max(high_watermark - committed, 0));
    }
}
