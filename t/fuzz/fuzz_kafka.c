
/*
 * libFuzzer target for Kafka request decoding: the request header, the
 * tag section of header v2, then the body of whatever API and version
 * the header names (any version the schema knows), as the connection
 * handler decodes it.  A body that decodes is encoded again, and its
 * bytes decoded once more; a body the fuzzer cannot make valid is also
 * decoded as a response, so every generated decoder sees hostile input.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_kafka_proto.h>
#include <sl_kafka_msgs.h>


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static size_t fuzz_flatten(sl_chain_t *cl, u_char *out, size_t size);


static size_t
fuzz_flatten(sl_chain_t *cl, u_char *out, size_t size)
{
    size_t     n, len;
    sl_buf_t  *b;

    n = 0;

    for ( /* void */ ; cl; cl = cl->next) {
        b = cl->buf;
        len = b->last - b->pos;

        if (n + len > size) {
            abort();
        }

        memcpy(out + n, b->pos, len);
        n += len;
    }

    return n;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char             *copy, *again;
    size_t              n, m;
    void               *req, *req2;
    sl_pool_t          *pool;
    sl_kafka_rd_t       rd;
    sl_kafka_wr_t       wr;
    sl_kafka_msg_t     *msg;
    sl_kafka_header_t   h;

    if (size > 1024 * 1024) {
        return 0;
    }

    pool = sl_create_pool(4096, NULL);
    if (pool == NULL) {
        return 0;
    }

    /* a copy of exactly the input, so that ASan sees any overread */
    copy = malloc(size ? size : 1);
    if (copy == NULL) {
        sl_destroy_pool(pool);
        return 0;
    }

    memcpy(copy, data, size);

    sl_kafka_rd_init(&rd, copy, size, pool);

    if (sl_kafka_rd_header(&rd, &h) != SL_OK) {
        goto done;
    }

    msg = sl_kafka_msg(h.api_key);
    if (msg == NULL
        || h.api_version < msg->min_version
        || h.api_version > msg->max_version)
    {
        goto done;
    }

    if (sl_kafka_msg_flexible(h.api_key, h.api_version)) {
        sl_kafka_rd_tags(&rd);
    }

    req = sl_pcalloc(pool, msg->request_size);
    if (req == NULL) {
        goto done;
    }

    {
        sl_kafka_rd_t  body;

        body = rd;

        if (msg->decode_request(&rd, h.api_version, req) != SL_OK) {
            /* the same bytes as a response */
            void  *resp;

            resp = sl_pcalloc(pool, msg->response_size);
            if (resp) {
                (void) msg->decode_response(&body, h.api_version, resp);
            }

            goto done;
        }
    }

    if (rd.pos > rd.last) {
        abort();
    }

    /* what decoded encodes, and decodes to the same bytes again */

    sl_kafka_wr_init(&wr, pool, 0);
    msg->encode_request(&wr, h.api_version, req);

    if (wr.failed) {
        goto done;
    }

    n = wr.size;
    again = sl_palloc(pool, n + 1);
    if (again == NULL) {
        goto done;
    }

    if (fuzz_flatten(sl_kafka_wr_finish(&wr), again, n) != n) {
        abort();
    }

    req2 = sl_pcalloc(pool, msg->request_size);
    if (req2 == NULL) {
        goto done;
    }

    sl_kafka_rd_init(&rd, again, n, pool);

    if (msg->decode_request(&rd, h.api_version, req2) != SL_OK
        || rd.pos != again + n)
    {
        abort();
    }

    sl_kafka_wr_init(&wr, pool, 0);
    msg->encode_request(&wr, h.api_version, req2);

    m = wr.size;

    if (!wr.failed && m != n) {
        abort();
    }

done:

    free(copy);
    sl_destroy_pool(pool);

    return 0;
}
