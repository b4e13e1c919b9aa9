
/*
 * The partition log's figures beside the raw limits measured in the same
 * run on the same disk: appends of 1 KiB records in 16 KiB batches with
 * flush off and flush always (beside writing the same bytes with write()
 * and with O_DSYNC, as dd does), sendfile() reads through the log (beside
 * a raw sendfile() of a plain file), and start-up with 1,000 closed
 * segments after a clean and after an unclean stop.
 *
 *     bench_log DIR [MIB]
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_broker.h>
#include <sl_broker_storage.h>


#define BATCH_RECORDS  16
#define RECORD_VALUE   1000
#define READ_PASSES    5


static sl_open_file_t    errfile = { 2, sl_null_string };
static sl_log_t          blog = { SL_LOG_WARN, &errfile, 0, NULL, NULL,
                                  NULL, NULL };
static sl_broker_conf_t  conf;


static double
now_s(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}


static u_char *
make_batch(size_t *len)
{
    u_char  *b, *p, *r, rec[RECORD_VALUE + 64];
    int      j;

    b = malloc(61 + BATCH_RECORDS * sizeof(rec));
    p = b + 61;

    for (j = 0; j < BATCH_RECORDS; j++) {
        r = rec;
        *r++ = 0;
        r = sl_varint_write_s64(r, j);
        r = sl_varint_write_s32(r, j);
        r = sl_varint_write_s32(r, -1);
        r = sl_varint_write_s32(r, RECORD_VALUE);
        memset(r, 'a' + j, RECORD_VALUE);
        r += RECORD_VALUE;
        r = sl_varint_write_s32(r, 0);
        p = sl_varint_write_s32(p, (int32_t) (r - rec));
        p = sl_cpymem(p, rec, r - rec);
    }

    *len = p - b;
    memset(b, 0, 61);
    sl_broker_put32(b + 8, (uint32_t) (*len - 12));
    b[16] = 2;
    sl_broker_put32(b + 23, BATCH_RECORDS - 1);
    sl_broker_put64(b + 27, (uint64_t) sl_broker_wall_ms());
    sl_broker_put64(b + 35, (uint64_t) sl_broker_wall_ms());
    sl_broker_put64(b + 43, (uint64_t) -1);
    sl_broker_put16(b + 51, (uint16_t) -1);
    sl_broker_put32(b + 53, (uint32_t) -1);
    sl_broker_put32(b + 57, BATCH_RECORDS);
    sl_broker_batch_set_crc(b, *len);

    return b;
}


static void
setup(const char *dir, off_t segment_bytes)
{
    char  cmd[512];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", dir, dir);
    if (system(cmd) != 0) {
        exit(1);
    }

    memset(&conf, 0, sizeof(conf));
    conf.data_dir.data = (u_char *) dir;
    conf.data_dir.len = strlen(dir);
    conf.zone_size = 32 * 1024 * 1024;
    conf.topic.segment_bytes = segment_bytes;
    conf.topic.segment_ms = 7 * 24 * 3600 * 1000;
    conf.topic.index_interval = 4096;
    conf.topic.retention_ms = (sl_msec_t) -1;
    conf.topic.retention_bytes = -1;
    conf.topic.cleanup_policy = SL_BROKER_CLEANUP_DELETE;
    conf.topic.delete_retention_ms = 24 * 3600 * 1000;
    conf.topic.flush = SL_BROKER_FLUSH_OFF;
    conf.topic.flush_every = 10000;
    conf.topic.flush_interval = 1000;
    conf.topic.max_record_batch_bytes = 1024 * 1024;
    conf.topic.message_timestamp_type = SL_BROKER_CREATE_TIME;

    if (sl_broker_init_storage(&conf, &blog) != SL_OK) {
        exit(1);
    }
}


static sl_broker_partition_t *
topic(const char *name, sl_int_t flush)
{
    sl_str_t                 n;
    sl_broker_topic_t       *t;
    sl_broker_topic_conf_t   c;

    n.data = (u_char *) name;
    n.len = strlen(name);

    sl_broker_topic_conf_init(&c);
    c.flush = flush;

    if (sl_broker_topic_create(&n, 1, &c, &blog, &t) != SL_BROKER_OK) {
        exit(1);
    }

    return sl_broker_partition(t, 0);
}


static double
append(sl_broker_partition_t *part, u_char *b, size_t len, size_t n)
{
    size_t   i;
    double   t;
    int64_t  base, lat;

    t = now_s();

    for (i = 0; i < n; i++) {
        if (sl_broker_log_append(part, b, len, &base, &lat, &blog)
            != SL_BROKER_OK)
        {
            fprintf(stderr, "append failed\n");
            exit(1);
        }
    }

    return now_s() - t;
}


static double
raw_write(const char *path, u_char *b, size_t len, size_t n, int dsync)
{
    int     fd;
    size_t  i;
    double  t;

    fd = open(path, O_WRONLY|O_CREAT|O_TRUNC|(dsync ? O_DSYNC : 0), 0644);

    t = now_s();

    for (i = 0; i < n; i++) {
        if (write(fd, b, len) != (ssize_t) len) {
            exit(1);
        }
    }

    t = now_s() - t;
    close(fd);

    return t;
}


/* sendfile() into the pipe, then splice() out of it, len bytes */

static int
sink(int *pfd, int null, int fd, off_t *off, size_t len)
{
    ssize_t  n, m;

    while (len) {
        n = sendfile(pfd[1], fd, off, len);
        if (n <= 0) {
            return -1;
        }

        len -= n;

        while (n) {
            m = splice(pfd[0], NULL, null, NULL, n, 0);
            if (m <= 0) {
                return -1;
            }

            n -= m;
        }
    }

    return 0;
}


int
main(int argc, char **argv)
{
    int                     fd, null, pfd[2];
    char                    dir[512], path[600];
    u_char                 *b;
    off_t                   off, total;
    size_t                  len, n, nsync, i;
    double                  t, traw, mib, tlog[2], traws[2];
    int64_t                 o;
    struct stat             st;
    sl_broker_read_t        rd;
    sl_broker_partition_t  *part;

    if (argc < 2) {
        fprintf(stderr, "usage: bench_log DIR [MIB]\n");
        return 2;
    }

    sl_crc32c_init();
    sl_slab_sizes_init();

    snprintf(dir, sizeof(dir), "%s/data", argv[1]);
    mib = (argc > 2) ? atof(argv[2]) : 1024;

    b = make_batch(&len);
    n = (size_t) (mib * 1024 * 1024 / len);
    nsync = sl_min(n, 2000);

    printf("log: %zu batches of %zu bytes (%d records of ~1 KiB), "
           "%.0f MiB, in %s\n", n, len, BATCH_RECORDS,
           (double) n * len / 1048576, argv[1]);

    /* appends, flush off, beside write() of the same bytes */

    setup(dir, 1024 * 1024 * 1024);
    part = topic("off", SL_BROKER_FLUSH_OFF);
    t = append(part, b, len, n);
    snprintf(path, sizeof(path), "%s/raw", argv[1]);
    traw = raw_write(path, b, len, n, 0);

    printf("append flush off:    %8.1f MiB/s  %8.0f batches/s   "
           "raw write: %8.1f MiB/s  (%.0f%%)\n",
           n * len / 1048576.0 / t, n / t, n * len / 1048576.0 / traw,
           100 * traw / t);

    (void) unlink(path);

    /* flush always, beside O_DSYNC writes */

    part = topic("always", SL_BROKER_FLUSH_ALWAYS);
    t = append(part, b, len, nsync);
    snprintf(path, sizeof(path), "%s/rawsync", argv[1]);
    traw = raw_write(path, b, len, nsync, 1);

    printf("append flush always: %8.1f MiB/s  %8.0f batches/s   "
           "raw dsync: %8.1f MiB/s  (%.0f%%)\n",
           nsync * len / 1048576.0 / t, nsync / t,
           nsync * len / 1048576.0 / traw, 100 * traw / t);

    (void) unlink(path);

    /* reads with sendfile(), beside a raw sendfile of the plain file */

    /*
     * The two files compared are written batch by batch in turn: the
     * pages of a file written first and of one written after it are not
     * equally fast to hand over (physical memory placement; two plain
     * files written one after the other differ by some 20% here), so a
     * log and a plain file written one after the other measure their
     * order, not the log.
     */

    part = topic("read", SL_BROKER_FLUSH_OFF);
    snprintf(path, sizeof(path), "%s/rawread", argv[1]);
    fd = open(path, O_RDWR|O_CREAT|O_TRUNC, 0644);

    for (i = 0; i < n; i++) {
        (void) append(part, b, len, 1);

        if (write(fd, b, len) != (ssize_t) len) {
            return 1;
        }
    }

    fstat(fd, &st);

    /*
     * The sink of both: a pipe spliced on to /dev/null, so that the pages
     * are really handed over, as to a socket.
     */

    if (pipe(pfd) == -1) {
        return 1;
    }

    (void) fcntl(pfd[1], F_SETPIPE_SZ, 1024 * 1024);
    null = open("/dev/null", O_WRONLY);

    /*
     * Both files in the same state for each figure, passes in turn: the
     * page cache counts reads (the second read of a page moves it to the
     * active list, a cost paid inside that read), so a file read once
     * more than the other is measured at a different cost.  The first
     * pass is also the first touch of this process's mapping of the log
     * (page faults on the batch headers), so it is shown apart; the warm
     * figure is the best of the passes once both files are active.
     */

    tlog[0] = traws[0] = 0;
    tlog[1] = traws[1] = 1e9;
    total = 0;

    for (i = 0; i < READ_PASSES; i++) {
        t = now_s();
        o = 0;
        total = 0;

        while (o < part->high_watermark) {
            if (sl_broker_log_read(part, o, 1024 * 1024, &rd, &blog)
                != SL_BROKER_OK || rd.len == 0)
            {
                fprintf(stderr, "read failed at %lld\n", (long long) o);
                return 1;
            }

            off = rd.pos;
            while (off < rd.pos + (off_t) rd.len) {
                if (sink(pfd, null, rd.fd, &off, rd.pos + rd.len - off)
                    != 0)
                {
                    return 1;
                }
            }

            total += rd.len;
            o += (int64_t) (rd.len / len) * BATCH_RECORDS;
        }

        t = now_s() - t;

        traw = now_s();
        off = 0;
        while (off < st.st_size) {
            if (sink(pfd, null, fd, &off,
                     sl_min(st.st_size - off, 1024 * 1024))
                != 0)
            {
                return 1;
            }
        }
        traw = now_s() - traw;

        if (i == 0) {
            tlog[0] = t;
            traws[0] = traw;

        } else if (i >= 2) {
            tlog[1] = sl_min(tlog[1], t);
            traws[1] = sl_min(traws[1], traw);
        }
    }

    close(fd);
    (void) unlink(path);

    for (i = 0; i < 2; i++) {
        printf("read (sendfile, 1 MiB fetches), %s %8.1f MiB/s   "
               "raw sendfile: %8.1f MiB/s  (%.0f%%)\n",
               i == 0 ? "first pass:" : "warm:      ",
               total / 1048576.0 / tlog[i],
               st.st_size / 1048576.0 / traws[i],
               100 * traws[i] / tlog[i]);
    }

    /* start-up with 1,000 closed segments */

    setup(dir, 16 * 1024);
    part = topic("segs", SL_BROKER_FLUSH_OFF);
    (void) append(part, b, len, 1001);

    printf("segments: %u\n", (unsigned) sl_broker_log_segments(part));

    sl_broker_shutdown(&blog);

    for (i = 0; i < 2; i++) {
        t = now_s();
        if (sl_broker_init_storage(&conf, &blog) != SL_OK) {
            return 1;
        }
        t = now_s() - t;

        printf("start-up, %s stop, 1,000 closed segments: %.1f ms\n",
               i == 0 ? "clean" : "unclean (checkpoint 1 s old)", t * 1000);

        part = sl_broker_partition(sl_broker_topic_find(&(sl_str_t)
                                                        sl_string("segs")),
                                   0);
        (void) append(part, b, len, 50);
        sl_broker_background(sl_broker_wall_ms(), 1, &blog);
    }

    snprintf(path, sizeof(path), "rm -rf '%s'", dir);
    return system(path) ? 1 : 0;
}
