
/*
 * The configuration file: nginx's grammar (directives end with ';',
 * blocks with '{}', include with globs, quotes and escapes, '#' comments)
 * and the generic "slot" setters, so that most directives need no code.
 */

#ifndef _SL_CONF_FILE_H_INCLUDED_
#define _SL_CONF_FILE_H_INCLUDED_


#include <sl_config.h>
#include <sl_core.h>


/* argument counts, in the low bits of sl_command_t.type */
#define SL_CONF_NOARGS      0x00000001
#define SL_CONF_TAKE1       0x00000002
#define SL_CONF_TAKE2       0x00000004
#define SL_CONF_TAKE3       0x00000008
#define SL_CONF_TAKE4       0x00000010
#define SL_CONF_TAKE5       0x00000020
#define SL_CONF_TAKE6       0x00000040
#define SL_CONF_TAKE7       0x00000080

#define SL_CONF_MAX_ARGS    8

#define SL_CONF_TAKE12      (SL_CONF_TAKE1|SL_CONF_TAKE2)
#define SL_CONF_TAKE13      (SL_CONF_TAKE1|SL_CONF_TAKE3)
#define SL_CONF_TAKE23      (SL_CONF_TAKE2|SL_CONF_TAKE3)
#define SL_CONF_TAKE123     (SL_CONF_TAKE1|SL_CONF_TAKE2|SL_CONF_TAKE3)
#define SL_CONF_TAKE1234    (SL_CONF_TAKE1|SL_CONF_TAKE2|SL_CONF_TAKE3     \
                             |SL_CONF_TAKE4)

#define SL_CONF_ARGS_NUMBER 0x000000ff
#define SL_CONF_BLOCK       0x00000100
#define SL_CONF_FLAG        0x00000200
#define SL_CONF_ANY         0x00000400
#define SL_CONF_1MORE       0x00000800
#define SL_CONF_2MORE       0x00001000

/* contexts, in the high bits: where a directive may appear */
#define SL_DIRECT_CONF      0x00010000   /* conf is the module's own struct */
#define SL_MAIN_CONF        0x01000000
#define SL_ANY_CONF         0xFF000000

#define SL_CONF_UNSET       -1
#define SL_CONF_UNSET_UINT  (sl_uint_t) -1
#define SL_CONF_UNSET_PTR   (void *) -1
#define SL_CONF_UNSET_SIZE  (size_t) -1
#define SL_CONF_UNSET_MSEC  (sl_msec_t) -1

#define SL_CONF_OK          NULL
#define SL_CONF_ERROR       (void *) -1

#define SL_CONF_BLOCK_START 1
#define SL_CONF_BLOCK_DONE  2
#define SL_CONF_FILE_DONE   3

#define SL_CORE_MODULE      0x45524f43  /* "CORE" */
#define SL_CONF_MODULE      0x464e4f43  /* "CONF" */

#define SL_MAX_CONF_ERRSTR  1024


struct sl_command_s {
    sl_str_t             name;
    sl_uint_t            type;
    char               *(*set)(sl_conf_t *cf, sl_command_t *cmd, void *conf);
    sl_uint_t            conf;     /* offset of the ctx slot, see below */
    sl_uint_t            offset;   /* offset of the field in the conf */
    void                *post;
};

#define sl_null_command  { sl_null_string, 0, NULL, 0, 0, NULL }


typedef struct {
    sl_file_t            file;
    off_t                offset;   /* bytes of the file consumed */
    sl_buf_t            *buffer;
    sl_uint_t            line;
} sl_conf_file_t;


typedef char *(*sl_conf_handler_pt)(sl_conf_t *cf, sl_command_t *dummy,
    void *conf);


struct sl_conf_s {
    char                *name;
    sl_array_t          *args;     /* of sl_str_t, args[0] is the name */

    sl_cycle_t          *cycle;
    sl_pool_t           *pool;
    sl_pool_t           *temp_pool;
    sl_conf_file_t      *conf_file;
    sl_log_t            *log;

    void                *ctx;
    sl_uint_t            module_type;
    sl_uint_t            cmd_type;

    /* a block's own parser (types { } in mime.types), bypassing modules */
    sl_conf_handler_pt   handler;
    void                *handler_conf;
};


typedef char *(*sl_conf_post_handler_pt) (sl_conf_t *cf,
    void *data, void *conf);

typedef struct {
    sl_conf_post_handler_pt  post_handler;
} sl_conf_post_t;

typedef struct {
    sl_str_t             name;
    sl_uint_t            value;
} sl_conf_enum_t;

typedef struct {
    sl_conf_post_handler_pt  post_handler;
    sl_int_t                 low;
    sl_int_t                 high;
} sl_conf_num_bounds_t;


/* -T: a copy of a configuration file as it was read */
typedef struct {
    sl_str_t             name;
    sl_str_t             text;
} sl_conf_dump_t;


/* parses filename, or the current block when filename is NULL */
char *sl_conf_parse(sl_conf_t *cf, sl_str_t *filename);
/* parses a string of directives (-g 'daemon off;') as if it were a file */
char *sl_conf_param(sl_conf_t *cf);
char *sl_conf_include(sl_conf_t *cf, sl_command_t *cmd, void *conf);
sl_int_t sl_conf_full_name(sl_cycle_t *cycle, sl_str_t *name,
    sl_uint_t conf_prefix);

/* "in FILE:LINE" is appended when parsing, so messages need not name it */
void sl_conf_log_error(sl_uint_t level, sl_conf_t *cf, sl_err_t err,
    const char *fmt, ...) SL_PRINTF(4, 5);


char *sl_conf_set_flag_slot(sl_conf_t *cf, sl_command_t *cmd, void *conf);
char *sl_conf_set_str_slot(sl_conf_t *cf, sl_command_t *cmd, void *conf);
char *sl_conf_set_str_array_slot(sl_conf_t *cf, sl_command_t *cmd,
    void *conf);
char *sl_conf_set_num_slot(sl_conf_t *cf, sl_command_t *cmd, void *conf);
char *sl_conf_set_size_slot(sl_conf_t *cf, sl_command_t *cmd, void *conf);
char *sl_conf_set_off_slot(sl_conf_t *cf, sl_command_t *cmd, void *conf);
char *sl_conf_set_msec_slot(sl_conf_t *cf, sl_command_t *cmd, void *conf);
char *sl_conf_set_sec_slot(sl_conf_t *cf, sl_command_t *cmd, void *conf);
char *sl_conf_set_enum_slot(sl_conf_t *cf, sl_command_t *cmd, void *conf);
char *sl_conf_check_num_bounds(sl_conf_t *cf, void *post, void *data);


/* "include", the one directive of every context */
extern sl_module_t   sl_conf_module;

/*
 * -T: when not NULL, sl_conf_parse() appends to it a copy of every file
 * it opens (includes too, in the order read), allocated from the array's
 * pool; an array of sl_conf_dump_t, set by whoever handles -T.
 */
extern sl_array_t   *sl_conf_dump;


#define sl_conf_init_value(conf, default)                                    \
    if (conf == SL_CONF_UNSET) {                                             \
        conf = default;                                                      \
    }

#define sl_conf_init_ptr_value(conf, default)                                \
    if (conf == SL_CONF_UNSET_PTR) {                                         \
        conf = default;                                                      \
    }

#define sl_conf_init_uint_value(conf, default)                               \
    if (conf == SL_CONF_UNSET_UINT) {                                        \
        conf = default;                                                      \
    }

#define sl_conf_init_size_value(conf, default)                               \
    if (conf == SL_CONF_UNSET_SIZE) {                                        \
        conf = default;                                                      \
    }

#define sl_conf_init_msec_value(conf, default)                               \
    if (conf == SL_CONF_UNSET_MSEC) {                                        \
        conf = default;                                                      \
    }

#define sl_conf_merge_value(conf, prev, default)                             \
    if (conf == SL_CONF_UNSET) {                                             \
        conf = (prev == SL_CONF_UNSET) ? default : prev;                     \
    }

#define sl_conf_merge_ptr_value(conf, prev, default)                         \
    if (conf == SL_CONF_UNSET_PTR) {                                         \
        conf = (prev == SL_CONF_UNSET_PTR) ? default : prev;                 \
    }

#define sl_conf_merge_uint_value(conf, prev, default)                        \
    if (conf == SL_CONF_UNSET_UINT) {                                        \
        conf = (prev == SL_CONF_UNSET_UINT) ? default : prev;                \
    }

#define sl_conf_merge_msec_value(conf, prev, default)                        \
    if (conf == SL_CONF_UNSET_MSEC) {                                        \
        conf = (prev == SL_CONF_UNSET_MSEC) ? default : prev;                \
    }

#define sl_conf_merge_size_value(conf, prev, default)                        \
    if (conf == SL_CONF_UNSET_SIZE) {                                        \
        conf = (prev == SL_CONF_UNSET_SIZE) ? default : prev;                \
    }

#define sl_conf_merge_off_value(conf, prev, default)                         \
    if (conf == SL_CONF_UNSET) {                                             \
        conf = (prev == SL_CONF_UNSET) ? default : prev;                     \
    }

#define sl_conf_merge_str_value(conf, prev, default)                         \
    if (conf.data == NULL) {                                                 \
        if (prev.data) {                                                     \
            conf.len = prev.len;                                             \
            conf.data = prev.data;                                           \
        } else {                                                             \
            conf.len = sizeof(default) - 1;                                  \
            conf.data = (u_char *) default;                                  \
        }                                                                    \
    }


#endif /* _SL_CONF_FILE_H_INCLUDED_ */
