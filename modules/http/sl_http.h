
/*
 * The HTTP module family: the http {} block and its configuration
 * contexts, the request record, the incremental parser, the phases a
 * request runs through and the response API that content handlers use.
 *
 * A later module adds a location directive whose set handler calls
 * sl_http_set_content_handler(), or pushes a phase handler from its
 * postconfiguration hook; it never reaches into the request code.
 */

#ifndef _SL_HTTP_H_INCLUDED_
#define _SL_HTTP_H_INCLUDED_


#include <sl_config.h>
#include <sl_core.h>


#define SL_HTTP_MODULE              0x50545448  /* "HTTP" */

/* directive contexts; the bits are reused by other families on purpose:
 * sl_conf_t.module_type keeps them apart */
#define SL_HTTP_MAIN_CONF           0x02000000
#define SL_HTTP_LOC_CONF            0x08000000

#define SL_HTTP_MAIN_CONF_OFFSET    offsetof(sl_http_conf_ctx_t, main_conf)
#define SL_HTTP_LOC_CONF_OFFSET     offsetof(sl_http_conf_ctx_t, loc_conf)


/* methods, as bits so that a location can hold a set of them */
#define SL_HTTP_UNKNOWN             0x00000001
#define SL_HTTP_GET                 0x00000002
#define SL_HTTP_HEAD                0x00000004
#define SL_HTTP_POST                0x00000008
#define SL_HTTP_PUT                 0x00000010
#define SL_HTTP_DELETE              0x00000020
#define SL_HTTP_OPTIONS             0x00000040
#define SL_HTTP_PATCH               0x00000080
#define SL_HTTP_TRACE               0x00000100
#define SL_HTTP_CONNECT             0x00000200

#define SL_HTTP_VERSION_10          1000
#define SL_HTTP_VERSION_11          1001


/* parser results besides SL_OK and SL_AGAIN */
#define SL_HTTP_PARSE_HEADER_DONE       1
#define SL_HTTP_PARSE_INVALID_REQUEST   10
#define SL_HTTP_PARSE_INVALID_VERSION   11
#define SL_HTTP_PARSE_INVALID_HEADER    12


#define SL_HTTP_OK                      200
#define SL_HTTP_NO_CONTENT              204
#define SL_HTTP_MOVED_PERMANENTLY       301
#define SL_HTTP_NOT_MODIFIED            304
#define SL_HTTP_BAD_REQUEST             400
#define SL_HTTP_FORBIDDEN               403
#define SL_HTTP_NOT_FOUND               404
#define SL_HTTP_NOT_ALLOWED             405
#define SL_HTTP_REQUEST_TIME_OUT        408
#define SL_HTTP_LENGTH_REQUIRED         411
#define SL_HTTP_REQUEST_ENTITY_TOO_LARGE  413
#define SL_HTTP_REQUEST_URI_TOO_LARGE   414
#define SL_HTTP_UNSUPPORTED_MEDIA_TYPE  415
#define SL_HTTP_UNPROCESSABLE_ENTITY    422
#define SL_HTTP_TOO_MANY_REQUESTS       429
#define SL_HTTP_HEADER_TOO_LARGE        431
#define SL_HTTP_INTERNAL_SERVER_ERROR   500
#define SL_HTTP_NOT_IMPLEMENTED         501
#define SL_HTTP_SERVICE_UNAVAILABLE     503
#define SL_HTTP_VERSION_NOT_SUPPORTED   505

/* a handler's result: the core sends an error page for any status >= 300 */
#define SL_HTTP_SPECIAL_RESPONSE        300


typedef struct sl_http_request_s  sl_http_request_t;

typedef sl_int_t (*sl_http_handler_pt)(sl_http_request_t *r);
/* a location's own body for the error pages the core sends (the REST
 * proxy's JSON): SL_OK with type and body set, else the core's page */
typedef sl_int_t (*sl_http_error_body_pt)(sl_http_request_t *r,
    sl_uint_t status, sl_str_t *type, sl_str_t *body);
typedef void (*sl_http_event_handler_pt)(sl_http_request_t *r);
typedef void (*sl_http_body_handler_pt)(sl_http_request_t *r);


/* what the http {} block and each location {} hold */
typedef struct {
    void                **main_conf;
    void                **loc_conf;
} sl_http_conf_ctx_t;


/* the context of an SL_HTTP_MODULE module */
typedef struct {
    sl_int_t            (*preconfiguration)(sl_conf_t *cf);
    sl_int_t            (*postconfiguration)(sl_conf_t *cf);

    void               *(*create_main_conf)(sl_conf_t *cf);
    char               *(*init_main_conf)(sl_conf_t *cf, void *conf);

    void               *(*create_loc_conf)(sl_conf_t *cf);
    char               *(*merge_loc_conf)(sl_conf_t *cf, void *prev,
                                          void *conf);
} sl_http_module_t;


/*
 * Phases.  A module pushes a handler onto cmcf->phases[phase].handlers in
 * its postconfiguration.  A handler returns SL_DECLINED or SL_OK to go on,
 * SL_AGAIN to be called again later (it arranges the wake-up and then
 * calls sl_http_run_phases), SL_DONE when it finalized the request
 * itself, or an HTTP status to end the request with that status.  The
 * content phase is skipped when the location has its own handler.
 */
typedef enum {
    SL_HTTP_POST_READ_PHASE = 0,    /* before the location is known */
    SL_HTTP_ACCESS_PHASE,           /* auth, limits */
    SL_HTTP_CONTENT_PHASE,          /* static files, by default */
    SL_HTTP_LOG_PHASE               /* once, however the request ended */
} sl_http_phases_e;

#define SL_HTTP_PHASES_N            (SL_HTTP_LOG_PHASE + 1)


typedef struct {
    sl_array_t             handlers;   /* of sl_http_handler_pt */
} sl_http_phase_t;


typedef struct {
    sl_sockaddr_t          sockaddr;
    socklen_t              socklen;
    sl_str_t               addr_text;
} sl_http_listen_t;


typedef struct sl_http_core_loc_conf_s  sl_http_core_loc_conf_t;

typedef struct {
    sl_array_t             listen;     /* of sl_http_listen_t */
    sl_array_t             locations;  /* of sl_http_core_loc_conf_t *,
                                          sorted longest prefix first */
    sl_http_phase_t        phases[SL_HTTP_PHASES_N];
    sl_http_conf_ctx_t    *ctx;        /* the http {} level */

    /* read before a location is known, so they live here */
    size_t                 client_header_buffer_size;
    sl_msec_t              client_header_timeout;
} sl_http_core_main_conf_t;


struct sl_http_core_loc_conf_s {
    sl_str_t               name;       /* the location's prefix */
    void                 **loc_conf;   /* every module's, for this one */

    /* set by a directive (status, rest_proxy, metrics ...) */
    sl_http_handler_pt     handler;
    sl_http_error_body_pt  error_body;

    sl_str_t               root;
    sl_array_t            *index;      /* of sl_str_t */
    sl_str_t               default_type;
    sl_array_t            *types;      /* of sl_hash_elt_t, while parsing */
    sl_hash_t              types_hash;

    size_t                 client_max_body_size;
    size_t                 client_body_buffer_size;
    sl_msec_t              client_body_timeout;
    sl_msec_t              send_timeout;
    sl_msec_t              keepalive_timeout;
    sl_uint_t              keepalive_requests;

    unsigned               exact_match:1;
};


/* one field name and value, both pointing into the header buffer */
typedef struct {
    sl_str_t               key;
    sl_str_t               value;
} sl_http_header_t;


typedef struct {
    sl_array_t             headers;    /* of sl_http_header_t */

    sl_http_header_t      *host;
    sl_http_header_t      *connection;
    sl_http_header_t      *content_length;
    sl_http_header_t      *content_type;
    sl_http_header_t      *transfer_encoding;
    sl_http_header_t      *if_modified_since;
    sl_http_header_t      *expect;
    sl_http_header_t      *last_event_id;

    off_t                  content_length_n;   /* -1: none */

    unsigned               chunked:1;
    unsigned               connection_close:1;
    unsigned               connection_keep_alive:1;
} sl_http_headers_in_t;


typedef struct {
    sl_uint_t              status;
    sl_str_t               content_type;
    off_t                  content_length_n;   /* -1: unknown */
    time_t                 last_modified_time; /* -1: none */
    sl_str_t               location;
    sl_array_t             headers;            /* of sl_keyval_t, lazily */
} sl_http_headers_out_t;


/* the chunked transfer coding's parser state */
typedef struct {
    sl_uint_t              state;
    off_t                  size;       /* of the data still to consume */
} sl_http_chunked_t;


typedef struct {
    sl_buf_t              *buf;        /* the body, in memory */
    off_t                  rest;       /* of a Content-Length body */
    off_t                  received;
    sl_http_chunked_t      chunked;
    sl_buf_t              *tmp;        /* what is read from the socket */
    sl_http_body_handler_pt  post_handler;
} sl_http_request_body_t;


/* per connection, across the requests of a keep-alive connection */
typedef struct {
    sl_http_conf_ctx_t    *conf_ctx;
    sl_buf_t               buf;        /* request header bytes; freed while
                                          a keep-alive connection idles */
    sl_http_request_t     *request;    /* the current one, or NULL */
    sl_msec_t              lingering_time;
} sl_http_connection_t;


struct sl_http_request_s {
    sl_connection_t           *connection;
    sl_http_connection_t      *http_connection;
    sl_pool_t                 *pool;

    void                     **main_conf;
    void                     **loc_conf;
    void                     **ctx;        /* modules' per-request state */

    sl_http_event_handler_pt   read_event_handler;
    sl_http_event_handler_pt   write_event_handler;

    sl_uint_t                  phase;
    sl_uint_t                  phase_index;

    sl_uint_t                  method;
    sl_uint_t                  http_version;
    sl_uint_t                  http_major;
    sl_uint_t                  http_minor;

    sl_str_t                   request_line;
    sl_str_t                   method_name;
    sl_str_t                   unparsed_uri;   /* as sent, with the args */
    sl_str_t                   uri;            /* decoded and normalised */
    sl_str_t                   args;
    sl_str_t                   exten;
    sl_str_t                   host;           /* of an absolute URI */

    sl_http_headers_in_t       headers_in;
    sl_http_headers_out_t      headers_out;

    sl_http_request_body_t    *request_body;

    sl_chain_t                *out;            /* not yet sent */

    /* what the access log reports ($request_time, $bytes_sent, ...) */
    sl_msec_t                  start_msec;     /* monotonic, at creation */
    off_t                      sent_start;     /* c->sent at creation */
    size_t                     header_size;    /* of the response header */
    off_t                      request_length; /* header and body read */

    /* the parser's state and the positions it found */
    sl_uint_t                  state;
    u_char                    *request_start;
    u_char                    *request_end;
    u_char                    *method_end;
    u_char                    *uri_start;
    u_char                    *uri_end;
    u_char                    *args_start;
    u_char                    *host_start;
    u_char                    *host_end;
    u_char                    *header_name_start;
    u_char                    *header_name_end;
    u_char                    *header_start;
    u_char                    *header_end;

    unsigned                   complex_uri:1;   /* "//", "/." or '%' */
    unsigned                   header_only:1;   /* HEAD */
    unsigned                   header_sent:1;
    unsigned                   keepalive:1;
    unsigned                   lingering_close:1;
    unsigned                   chunked_out:1;
    unsigned                   last_sent:1;     /* last_buf was queued */
    unsigned                   finalized:1;     /* the handler is done */
    unsigned                   body_read:1;     /* or discarded */
    unsigned                   discarding:1;
    unsigned                   logged:1;
};


/* configuration access */
#define sl_http_conf_get_module_main_conf(cf, module)                        \
    ((sl_http_conf_ctx_t *) cf->ctx)->main_conf[module.ctx_index]
#define sl_http_conf_get_module_loc_conf(cf, module)                         \
    ((sl_http_conf_ctx_t *) cf->ctx)->loc_conf[module.ctx_index]

#define sl_http_get_module_main_conf(r, module)                              \
    (r)->main_conf[module.ctx_index]
#define sl_http_get_module_loc_conf(r, module)                               \
    (r)->loc_conf[module.ctx_index]
#define sl_http_get_module_ctx(r, module)   (r)->ctx[module.ctx_index]
#define sl_http_set_ctx(r, c, module)       (r)->ctx[module.ctx_index] = c

#define sl_http_cycle_get_module_main_conf(cycle, module)                    \
    ((cycle)->conf_ctx[sl_http_module.index]                                 \
     ? ((sl_http_conf_ctx_t *) (cycle)->conf_ctx[sl_http_module.index])      \
           ->main_conf[module.ctx_index]                                     \
     : NULL)


/* sl_http_parse.c: no pools, no events, so tests and fuzzers link it
 * alone */
sl_int_t sl_http_parse_request_line(sl_http_request_t *r, sl_buf_t *b);
sl_int_t sl_http_parse_header_line(sl_http_request_t *r, sl_buf_t *b);
/* decodes and normalises the path into dst, which has room for the raw
 * path: r->uri and r->exten are set */
sl_int_t sl_http_parse_complex_uri(sl_http_request_t *r, u_char *dst);
sl_int_t sl_http_parse_chunked(sl_http_request_t *r, sl_buf_t *b,
    sl_http_chunked_t *ctx);
sl_uint_t sl_http_parse_method(u_char *name, size_t len);
/* the file extension of a normalised path (may be empty) */
void sl_http_set_exten(sl_http_request_t *r);


/* sl_http_request.c */
void sl_http_init_connection(sl_connection_t *c);
void sl_http_run_phases(sl_http_request_t *r);
void sl_http_finalize_request(sl_http_request_t *r, sl_int_t rc);
sl_int_t sl_http_send_header(sl_http_request_t *r);
/* queues in (NULL to flush) and writes what the socket takes */
sl_int_t sl_http_output(sl_http_request_t *r, sl_chain_t *in);
/* the whole body in memory, then post_handler; SL_AGAIN or a status */
sl_int_t sl_http_read_client_request_body(sl_http_request_t *r,
    sl_http_body_handler_pt post_handler);
sl_int_t sl_http_add_header(sl_http_request_t *r, char *key,
    sl_str_t *value);
sl_int_t sl_http_send_response(sl_http_request_t *r, sl_uint_t status,
    sl_str_t *content_type, sl_str_t *body);
sl_http_header_t *sl_http_find_header(sl_http_request_t *r, char *name);
const char *sl_http_status_text(sl_uint_t status);
void sl_http_block_reading(sl_http_request_t *r);
/*
 * For a request that stays parked long (an event stream, a long poll):
 * gives the connection's header buffer back after copying what the
 * request's fields point at (request line, method, URI, args, exten,
 * host, every header) into its pool, so the log phase still has them.
 * The caller must keep no other pointer into the header.  SL_DECLINED
 * when unparsed bytes (a pipelined request, body bytes) keep the buffer.
 */
sl_int_t sl_http_release_header_buffer(sl_http_request_t *r);


/* sl_http.c and sl_http_core_module.c */
/* a location directive's way to own the content of its location */
char *sl_http_set_content_handler(sl_conf_t *cf, sl_http_handler_pt h);
/* and to render the core's error pages in its own format */
void sl_http_set_error_body(sl_conf_t *cf, sl_http_error_body_pt h);
sl_str_t *sl_http_find_type(sl_http_core_loc_conf_t *clcf, sl_str_t *exten);
sl_int_t sl_http_find_location(sl_http_request_t *r);


extern sl_module_t  sl_http_module;
extern sl_module_t  sl_http_core_module;
extern sl_uint_t    sl_http_max_module;


#endif /* _SL_HTTP_H_INCLUDED_ */
