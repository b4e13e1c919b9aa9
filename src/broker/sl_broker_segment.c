
/*
 * Segment files: a .log of record batches and its .index and .timeindex,
 * named by the base offset in 20 digits inside data/<topic>-<partition>/.
 * A process opens and maps them lazily; when a segment is removed or
 * rewritten its descriptors and mappings linger for SL_BROKER_LINGER_MS,
 * so that a read handed out earlier (a sendfile() not yet done) stays
 * valid.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_broker.h>
#include <sl_broker_storage.h>


typedef struct sl_broker_linger_s  sl_broker_linger_t;

struct sl_broker_linger_s {
    sl_broker_lseg_t        seg;
    int64_t                 expire;
    sl_broker_linger_t     *next;
};


static sl_int_t sl_broker_file_prealloc(sl_fd_t fd, off_t size);
static u_char *sl_broker_map(sl_fd_t fd, size_t len, sl_uint_t writable);
static void sl_broker_seg_close(sl_broker_lseg_t *ls);


static sl_broker_linger_t  *sl_broker_lingering;


int64_t
sl_broker_mono_ms(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);

    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


int64_t
sl_broker_wall_ms(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_REALTIME, &ts);

    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


u_char *
sl_broker_part_dir(u_char *buf, sl_broker_partition_t *part)
{
    return sl_slprintf(buf, buf + SL_BROKER_PATH_LEN - 64, "%.*s/%.*s-%d",
                       SL_STR_ARG(&sl_broker_cf->data_dir),
                       SL_STR_ARG(&part->topic->name), (int) part->id);
}


u_char *
sl_broker_seg_path(u_char *buf, sl_broker_partition_t *part, int64_t base,
    const char *ext)
{
    u_char  *p;

    p = sl_broker_part_dir(buf, part);
    p = sl_slprintf(p, buf + SL_BROKER_PATH_LEN - 1, "/%020lld.%s",
                    (long long) base, ext);
    *p = '\0';

    return p;
}


/* index entries for a segment: one per index_interval bytes, capped */

size_t
sl_broker_index_capacity(sl_broker_topic_conf_t *conf)
{
    size_t  n;

    n = ((size_t) conf->segment_bytes + conf->max_record_batch_bytes)
        / conf->index_interval + 2;

    return sl_min(n, (size_t) SL_BROKER_INDEX_MAX_BYTES
                     / SL_BROKER_TIMEINDEX_ENTRY);
}


sl_int_t
sl_broker_seg_create(sl_broker_partition_t *part, int64_t base,
    sl_broker_lseg_t *ls, sl_log_t *log)
{
    size_t   n;
    u_char   path[SL_BROKER_PATH_LEN];
    sl_err_t err;

    sl_memzero(ls, sizeof(sl_broker_lseg_t));
    ls->fd = SL_INVALID_FILE;
    ls->ifd = SL_INVALID_FILE;
    ls->tfd = SL_INVALID_FILE;
    ls->base_offset = base;
    ls->writable = 1;

    n = sl_broker_index_capacity(&part->topic->conf);

    sl_broker_seg_path(path, part, base, "log");
    ls->fd = sl_open_file(path, O_RDWR, O_CREAT|O_TRUNC, 0644);
    if (ls->fd == SL_INVALID_FILE) {
        goto failed;
    }

    sl_broker_seg_path(path, part, base, "index");
    ls->ifd = sl_open_file(path, O_RDWR, O_CREAT|O_TRUNC, 0644);
    if (ls->ifd == SL_INVALID_FILE) {
        goto failed;
    }

    ls->imap_len = n * SL_BROKER_INDEX_ENTRY;

    if (sl_broker_file_prealloc(ls->ifd, ls->imap_len) != SL_OK) {
        goto failed;
    }

    ls->imap = sl_broker_map(ls->ifd, ls->imap_len, 1);
    if (ls->imap == NULL) {
        goto failed;
    }

    sl_broker_seg_path(path, part, base, "timeindex");
    ls->tfd = sl_open_file(path, O_RDWR, O_CREAT|O_TRUNC, 0644);
    if (ls->tfd == SL_INVALID_FILE) {
        goto failed;
    }

    ls->tmap_len = n * SL_BROKER_TIMEINDEX_ENTRY;

    if (sl_broker_file_prealloc(ls->tfd, ls->tmap_len) != SL_OK) {
        goto failed;
    }

    ls->tmap = sl_broker_map(ls->tfd, ls->tmap_len, 1);
    if (ls->tmap == NULL) {
        goto failed;
    }

    return SL_OK;

failed:

    err = sl_errno;

    sl_log_error(SL_LOG_ERR, log, err, "segment \"%s\" not created",
                 (char *) path);

    sl_broker_seg_close(ls);
    sl_broker_seg_unlink(part, base, "");

    sl_set_errno(err);

    return SL_ERROR;
}


sl_int_t
sl_broker_seg_open(sl_broker_partition_t *part, sl_broker_seg_t *seg,
    sl_broker_lseg_t *ls, sl_uint_t active, sl_log_t *log)
{
    u_char       path[SL_BROKER_PATH_LEN];
    struct stat  st;

    sl_memzero(ls, sizeof(sl_broker_lseg_t));
    ls->fd = SL_INVALID_FILE;
    ls->ifd = SL_INVALID_FILE;
    ls->tfd = SL_INVALID_FILE;
    ls->base_offset = seg->base_offset;
    ls->file_id = seg->file_id;

    sl_broker_seg_path(path, part, seg->base_offset, "log");
    ls->fd = sl_open_file(path, O_RDWR, 0, 0);
    if (ls->fd == SL_INVALID_FILE) {
        goto failed;
    }

    sl_broker_seg_path(path, part, seg->base_offset, "index");
    ls->ifd = sl_open_file(path, O_RDWR, O_CREAT, 0644);
    if (ls->ifd == SL_INVALID_FILE) {
        goto failed;
    }

    sl_broker_seg_path(path, part, seg->base_offset, "timeindex");
    ls->tfd = sl_open_file(path, O_RDWR, O_CREAT, 0644);
    if (ls->tfd == SL_INVALID_FILE) {
        goto failed;
    }

    if (active) {
        return sl_broker_seg_extend(part, ls, log);
    }

    if (fstat(ls->ifd, &st) == -1) {
        goto failed;
    }

    ls->imap_len = (size_t) st.st_size;

    if (ls->imap_len) {
        ls->imap = sl_broker_map(ls->ifd, ls->imap_len, 0);
        if (ls->imap == NULL) {
            goto failed;
        }
    }

    if (fstat(ls->tfd, &st) == -1) {
        goto failed;
    }

    ls->tmap_len = (size_t) st.st_size;

    if (ls->tmap_len) {
        ls->tmap = sl_broker_map(ls->tfd, ls->tmap_len, 0);
        if (ls->tmap == NULL) {
            goto failed;
        }
    }

    return SL_OK;

failed:

    sl_log_error(SL_LOG_ERR, log, sl_errno, "segment \"%s\" not opened",
                 (char *) path);

    sl_broker_seg_close(ls);

    return SL_ERROR;
}


/* makes the indexes of an opened segment writable at full capacity */

sl_int_t
sl_broker_seg_extend(sl_broker_partition_t *part, sl_broker_lseg_t *ls,
    sl_log_t *log)
{
    size_t       n, ilen, tlen;
    struct stat  st;

    n = sl_broker_index_capacity(&part->topic->conf);

    if (fstat(ls->ifd, &st) == -1) {
        goto failed;
    }

    ilen = sl_max(n * SL_BROKER_INDEX_ENTRY, (size_t) st.st_size);
    ilen = sl_align(ilen, SL_BROKER_INDEX_ENTRY);

    if (fstat(ls->tfd, &st) == -1) {
        goto failed;
    }

    tlen = sl_max(n * SL_BROKER_TIMEINDEX_ENTRY, (size_t) st.st_size);
    tlen = tlen / SL_BROKER_TIMEINDEX_ENTRY * SL_BROKER_TIMEINDEX_ENTRY;

    /* always: a roll that died may have trimmed files mapped here */

    if (sl_broker_file_prealloc(ls->ifd, ilen) != SL_OK
        || sl_broker_file_prealloc(ls->tfd, tlen) != SL_OK)
    {
        goto failed;
    }

    if (ls->writable && ls->imap_len == ilen && ls->tmap_len == tlen) {
        return SL_OK;
    }

    if (ls->imap) {
        (void) munmap(ls->imap, ls->imap_len);
    }

    ls->imap_len = ilen;
    ls->imap = sl_broker_map(ls->ifd, ilen, 1);

    if (ls->tmap) {
        (void) munmap(ls->tmap, ls->tmap_len);
    }

    ls->tmap_len = tlen;
    ls->tmap = sl_broker_map(ls->tfd, tlen, 1);

    if (ls->imap == NULL || ls->tmap == NULL) {
        goto failed;
    }

    ls->writable = 1;

    return SL_OK;

failed:

    sl_log_error(SL_LOG_ERR, log, sl_errno,
                 "indexes of segment %lld of \"%.*s-%d\" not extended",
                 (long long) ls->base_offset, SL_STR_ARG(&part->topic->name),
                 (int) part->id);

    sl_broker_seg_close(ls);

    return SL_ERROR;
}


/*
 * Maps the .log for reads.  The active segment is mapped beyond its end
 * once (bytes are only touched below the published end); a segment that
 * outgrew its mapping is remapped, the old mapping lingering.
 */

sl_int_t
sl_broker_seg_map_log(sl_broker_lseg_t *ls, size_t need, sl_log_t *log)
{
    u_char              *map;
    size_t               len;
    sl_broker_linger_t  *lg;

    if (need <= ls->map_len) {
        return SL_OK;
    }

    len = sl_align(need, ((size_t) 1 << 20));

    map = sl_broker_map(ls->fd, len, 0);
    if (map == NULL) {
        sl_log_error(SL_LOG_ERR, log, sl_errno,
                     "mmap(%zu) of segment %lld failed", len,
                     (long long) ls->base_offset);
        return SL_ERROR;
    }

    if (ls->map) {
        lg = sl_alloc(sizeof(sl_broker_linger_t), log);

        if (lg == NULL) {
            (void) munmap(map, len);
            return SL_ERROR;
        }

        sl_memzero(&lg->seg, sizeof(sl_broker_lseg_t));
        lg->seg.fd = SL_INVALID_FILE;
        lg->seg.ifd = SL_INVALID_FILE;
        lg->seg.tfd = SL_INVALID_FILE;
        lg->seg.map = ls->map;
        lg->seg.map_len = ls->map_len;
        lg->expire = sl_broker_mono_ms() + SL_BROKER_LINGER_MS;
        lg->next = sl_broker_lingering;
        sl_broker_lingering = lg;
    }

    ls->map = map;
    ls->map_len = len;

    return SL_OK;
}


sl_int_t
sl_broker_seg_trim(sl_broker_lseg_t *ls, uint32_t index_n,
    uint32_t timeindex_n, sl_log_t *log)
{
    if (ftruncate(ls->ifd, (off_t) index_n * SL_BROKER_INDEX_ENTRY) == -1
        || ftruncate(ls->tfd,
                     (off_t) timeindex_n * SL_BROKER_TIMEINDEX_ENTRY) == -1)
    {
        sl_log_error(SL_LOG_ERR, log, sl_errno,
                     "indexes of segment %lld not trimmed",
                     (long long) ls->base_offset);
        return SL_ERROR;
    }

    return SL_OK;
}


/* hands the descriptors and mappings to the linger list */

void
sl_broker_seg_release(sl_broker_lseg_t *ls)
{
    sl_broker_linger_t  *lg;

    lg = malloc(sizeof(sl_broker_linger_t));

    if (lg == NULL) {
        /* no memory: a pending read may fail, the process stays sound */
        sl_broker_seg_close(ls);
        return;
    }

    lg->seg = *ls;
    lg->expire = sl_broker_mono_ms() + SL_BROKER_LINGER_MS;
    lg->next = sl_broker_lingering;
    sl_broker_lingering = lg;

    ls->fd = SL_INVALID_FILE;
    ls->ifd = SL_INVALID_FILE;
    ls->tfd = SL_INVALID_FILE;
    ls->map = NULL;
    ls->imap = NULL;
    ls->tmap = NULL;
}


void
sl_broker_linger_reap(sl_uint_t all)
{
    int64_t              now;
    sl_broker_linger_t  *lg, **prev;

    now = sl_broker_mono_ms();

    prev = &sl_broker_lingering;

    for (lg = sl_broker_lingering; lg; lg = *prev) {

        if (all || lg->expire <= now) {
            *prev = lg->next;
            sl_broker_seg_close(&lg->seg);
            free(lg);
            continue;
        }

        prev = &lg->next;
    }
}


void
sl_broker_seg_unlink(sl_broker_partition_t *part, int64_t base,
    const char *suffix)
{
    u_char  ext[32];
    u_char  path[SL_BROKER_PATH_LEN];

    *sl_slprintf(ext, ext + sizeof(ext) - 1, "log%s", suffix) = '\0';
    sl_broker_seg_path(path, part, base, (char *) ext);
    (void) sl_delete_file(path);

    *sl_slprintf(ext, ext + sizeof(ext) - 1, "index%s", suffix) = '\0';
    sl_broker_seg_path(path, part, base, (char *) ext);
    (void) sl_delete_file(path);

    *sl_slprintf(ext, ext + sizeof(ext) - 1, "timeindex%s", suffix) = '\0';
    sl_broker_seg_path(path, part, base, (char *) ext);
    (void) sl_delete_file(path);
}


static void
sl_broker_seg_close(sl_broker_lseg_t *ls)
{
    if (ls->map) {
        (void) munmap(ls->map, ls->map_len);
        ls->map = NULL;
    }

    if (ls->imap) {
        (void) munmap(ls->imap, ls->imap_len);
        ls->imap = NULL;
    }

    if (ls->tmap) {
        (void) munmap(ls->tmap, ls->tmap_len);
        ls->tmap = NULL;
    }

    if (ls->fd != SL_INVALID_FILE) {
        (void) sl_close_file(ls->fd);
        ls->fd = SL_INVALID_FILE;
    }

    if (ls->ifd != SL_INVALID_FILE) {
        (void) sl_close_file(ls->ifd);
        ls->ifd = SL_INVALID_FILE;
    }

    if (ls->tfd != SL_INVALID_FILE) {
        (void) sl_close_file(ls->tfd);
        ls->tfd = SL_INVALID_FILE;
    }
}


/*
 * Index files are allocated for real, not left sparse: a store into a
 * mapping of a hole on a full disk would be SIGBUS, not an error.
 */

static sl_int_t
sl_broker_file_prealloc(sl_fd_t fd, off_t size)
{
    struct stat  st;

    if (fstat(fd, &st) == -1) {
        return SL_ERROR;
    }

    if (st.st_size >= size) {
        return SL_OK;
    }

    if (fallocate(fd, 0, 0, size) == 0) {
        return SL_OK;
    }

    if (sl_errno != EOPNOTSUPP) {
        return SL_ERROR;
    }

    return (ftruncate(fd, size) == 0) ? SL_OK : SL_ERROR;
}


static u_char *
sl_broker_map(sl_fd_t fd, size_t len, sl_uint_t writable)
{
    u_char  *p;

    p = mmap(NULL, len, writable ? PROT_READ|PROT_WRITE : PROT_READ,
             MAP_SHARED, fd, 0);

    return (p == MAP_FAILED) ? NULL : p;
}
