
/*
 * Helpers of the broker's unit tests: a storage in a temporary folder,
 * record batches made by hand (magic 2, uncompressed), restarts, and
 * byte-level damage to segment files.
 */

#ifndef _TEST_BROKER_H_INCLUDED_
#define _TEST_BROKER_H_INCLUDED_


#define tb_str(s)  ((sl_str_t) sl_string(s))


static char               tb_dir[256];
static sl_broker_conf_t   tb_conf;
static sl_open_file_t     tb_errfile = { 2, sl_null_string };
static sl_log_t           tb_log_s;
static sl_log_t          *tb_log = &tb_log_s;
static u_char            *tb_saved;
static size_t             tb_saved_len;


static sl_unused void
tb_reopen(void)
{
    assert_int_equal(sl_broker_init_storage(&tb_conf, tb_log), SL_OK);
}


static sl_unused void
tb_setup_conf(off_t segment_bytes, size_t index_interval)
{
    const char  *v;

    v = getenv("TB_VERBOSE");

    tb_log_s.log_level = v ? SL_LOG_DEBUG : SL_LOG_CRIT;
    tb_log_s.file = &tb_errfile;

    sl_crc32c_init();
    sl_slab_sizes_init();

    snprintf(tb_dir, sizeof(tb_dir), "%s/sluice-broker-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(tb_dir));

    sl_memzero(&tb_conf, sizeof(sl_broker_conf_t));
    tb_conf.data_dir.data = (u_char *) tb_dir;
    tb_conf.data_dir.len = strlen(tb_dir);
    tb_conf.zone_size = 1024 * 1024;

    tb_conf.topic.segment_bytes = segment_bytes;
    tb_conf.topic.segment_ms = 7 * 24 * 3600 * 1000;
    tb_conf.topic.index_interval = index_interval;
    tb_conf.topic.retention_ms = (sl_msec_t) -1;
    tb_conf.topic.retention_bytes = -1;
    tb_conf.topic.cleanup_policy = SL_BROKER_CLEANUP_DELETE;
    tb_conf.topic.delete_retention_ms = 24 * 3600 * 1000;
    tb_conf.topic.flush = SL_BROKER_FLUSH_OFF;
    tb_conf.topic.flush_every = 10000;
    tb_conf.topic.flush_interval = 1000;
    tb_conf.topic.max_record_batch_bytes = 1024 * 1024;
    tb_conf.topic.message_timestamp_type = SL_BROKER_CREATE_TIME;
}


static sl_unused void
tb_setup(off_t segment_bytes, size_t index_interval)
{
    tb_setup_conf(segment_bytes, index_interval);
    tb_reopen();
}


static sl_unused void
tb_teardown(void)
{
    char  cmd[512];

    if (getenv("TB_KEEP")) {
        return;
    }

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tb_dir);
    assert_int_equal(system(cmd), 0);
}


static sl_unused void
tb_restart(int clean)
{
    if (clean) {
        sl_broker_shutdown(tb_log);
    }

    tb_reopen();
}


static sl_unused void
tb_kill_state(void)
{
}


static sl_unused sl_broker_topic_t *
tb_topic(const char *name, int partitions, sl_broker_topic_conf_t *conf)
{
    sl_str_t            n;
    sl_broker_topic_t  *t;

    n.data = (u_char *) name;
    n.len = strlen(name);

    assert_int_equal(sl_broker_topic_create(&n, partitions, conf, tb_log, &t),
                     SL_BROKER_OK);
    assert_non_null(t);
    assert_ptr_equal(sl_broker_topic_find(&n), t);

    return t;
}


/*
 * A batch of n records, record j with timestamp ts + j * step, key
 * "<key><seed>-<j>" (key NULL: keyless), a value of vlen bytes.
 */

static sl_unused u_char *
tb_batch_kv(size_t *len, int n, int64_t ts, int64_t step, int vlen,
    const char *key, int seed, int tombstone)
{
    u_char   *b, *p, *r, k[64];
    int       j, klen, rlen;
    u_char    rec[4096 + 128];

    b = malloc(61 + (size_t) n * (vlen + 128));
    assert_non_null(b);

    p = b + 61;

    for (j = 0; j < n; j++) {
        r = rec;
        *r++ = 0;
        r = sl_varint_write_s64(r, j * step);
        r = sl_varint_write_s32(r, j);

        if (key) {
            klen = snprintf((char *) k, sizeof(k), "%s%d-%d", key, seed, j);
            r = sl_varint_write_s32(r, klen);
            r = sl_cpymem(r, k, klen);

        } else {
            r = sl_varint_write_s32(r, -1);
        }

        if (tombstone) {
            r = sl_varint_write_s32(r, -1);

        } else {
            r = sl_varint_write_s32(r, vlen);
            sl_memset(r, 'a' + (seed + j) % 26, vlen);
            r += vlen;
        }

        r = sl_varint_write_s32(r, 0);

        rlen = r - rec;
        p = sl_varint_write_s32(p, rlen);
        p = sl_cpymem(p, rec, rlen);
    }

    *len = p - b;

    sl_memzero(b, 61);
    sl_broker_put32(b + 8, (uint32_t) (*len - 12));
    sl_broker_put32(b + 12, 0);
    b[16] = 2;
    sl_broker_put16(b + 21, 0);
    sl_broker_put32(b + 23, (uint32_t) (n - 1));
    sl_broker_put64(b + 27, (uint64_t) ts);
    sl_broker_put64(b + 35, (uint64_t) (ts + (n - 1) * step));
    sl_broker_put64(b + 43, (uint64_t) -1);
    sl_broker_put16(b + 51, (uint16_t) -1);
    sl_broker_put32(b + 53, (uint32_t) -1);
    sl_broker_put32(b + 57, (uint32_t) n);
    sl_broker_batch_set_crc(b, *len);

    return b;
}


static sl_unused u_char *
tb_batch(size_t *len, int n, int64_t ts, int64_t step, int vlen,
    const char *key, int seed)
{
    return tb_batch_kv(len, n, ts, step, vlen, key, seed, 0);
}


/* checks whole, valid, ascending batches; returns the offset after */

static sl_unused int64_t
tb_walk(u_char *p, size_t len, int64_t off)
{
    size_t             pos;
    sl_broker_batch_t  b;

    pos = 0;

    while (pos < len) {
        assert_int_equal(sl_broker_batch_parse(p + pos, len - pos, &b),
                         SL_BROKER_OK);
        assert_true(b.base_offset + b.last_offset_delta >= off);

        if (pos > 0) {
            assert_true(b.base_offset >= off);
        }

        off = b.base_offset + b.last_offset_delta + 1;
        pos += 12 + b.length;
    }

    assert_int_equal(pos, len);

    return off;
}


static sl_unused void
tb_check_fd(sl_broker_read_t *rd)
{
    u_char  *buf;

    buf = malloc(rd->len);
    assert_non_null(buf);
    assert_int_equal(pread(rd->fd, buf, rd->len, rd->pos), (ssize_t) rd->len);
    assert_memory_equal(buf, rd->mem, rd->len);
    free(buf);
}


static sl_unused void
tb_save(u_char *path)
{
    int          fd;
    struct stat  st;

    fd = open((char *) path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);

    free(tb_saved);
    tb_saved_len = st.st_size;
    tb_saved = malloc(tb_saved_len + 1);
    assert_int_equal(pread(fd, tb_saved, tb_saved_len, 0),
                     (ssize_t) tb_saved_len);
    close(fd);
}


static sl_unused void
tb_restore(u_char *path, off_t len)
{
    int  fd;

    fd = open((char *) path, O_WRONLY|O_TRUNC);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, tb_saved, len, 0), (ssize_t) len);
    close(fd);
}


static sl_unused void
tb_flip(u_char *path, off_t at)
{
    int     fd;
    u_char  c;

    fd = open((char *) path, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, &c, 1, at), 1);
    c ^= 0xff;
    assert_int_equal(pwrite(fd, &c, 1, at), 1);
    close(fd);
}


static sl_unused int
tb_count_dirs(const char *suffix)
{
    DIR            *d;
    int             n;
    size_t          len, slen;
    struct dirent  *de;

    d = opendir(tb_dir);
    assert_non_null(d);

    n = 0;
    slen = strlen(suffix);

    while ((de = readdir(d)) != NULL) {
        len = strlen(de->d_name);

        if (len >= slen && strcmp(de->d_name + len - slen, suffix) == 0) {
            n++;
        }
    }

    closedir(d);

    return n;
}


#endif /* _TEST_BROKER_H_INCLUDED_ */
