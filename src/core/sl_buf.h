
/*
 * Buffers that are memory or a file range, so that a chain can mix a
 * response header in memory with segment bytes sent by sendfile().
 */

#ifndef _SL_BUF_H_INCLUDED_
#define _SL_BUF_H_INCLUDED_


#include <sl_config.h>
#include <sl_core.h>


struct sl_file_s {
    sl_fd_t              fd;
    sl_str_t             name;
    sl_log_t            *log;
};


struct sl_buf_s {
    u_char              *pos;
    u_char              *last;
    off_t                file_pos;
    off_t                file_last;

    u_char              *start;         /* start of buffer */
    u_char              *end;           /* end of buffer */
    sl_file_t           *file;
    void                *tag;

    unsigned             temporary:1;   /* memory we may change */
    unsigned             memory:1;      /* read-only memory (mapping) */
    unsigned             in_file:1;
    unsigned             flush:1;
    unsigned             last_buf:1;
};


struct sl_chain_s {
    sl_buf_t            *buf;
    sl_chain_t          *next;
};


#define sl_buf_in_memory(b)       ((b)->temporary || (b)->memory)
#define sl_buf_size(b)                                                       \
    (sl_buf_in_memory(b) ? (off_t) ((b)->last - (b)->pos)                    \
                         : ((b)->file_last - (b)->file_pos))

sl_buf_t *sl_create_temp_buf(sl_pool_t *pool, size_t size);
#define sl_calloc_buf(pool) sl_pcalloc(pool, sizeof(sl_buf_t))
sl_chain_t *sl_alloc_chain_link(sl_pool_t *pool);
off_t sl_chain_size(sl_chain_t *cl);


#endif /* _SL_BUF_H_INCLUDED_ */
