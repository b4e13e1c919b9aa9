
/*
 * The produce filter chain (see sl_broker_filter.h).  The chain is
 * process-wide and fixed once configuration is read: filters decide per
 * topic whether they have anything to do, so an unfiltered topic costs
 * one loop over an empty or short array.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_broker_filter.h>


static sl_broker_produce_filter_pt
    sl_broker_filters[SL_BROKER_FILTER_STAGES][SL_BROKER_FILTER_MAX];
static sl_uint_t  sl_broker_nfilters[SL_BROKER_FILTER_STAGES];


sl_int_t
sl_broker_produce_filter_add(sl_uint_t stage,
    sl_broker_produce_filter_pt filter)
{
    sl_uint_t  i;

    if (stage >= SL_BROKER_FILTER_STAGES) {
        return SL_ERROR;
    }

    for (i = 0; i < sl_broker_nfilters[stage]; i++) {
        if (sl_broker_filters[stage][i] == filter) {
            return SL_OK;
        }
    }

    if (sl_broker_nfilters[stage] == SL_BROKER_FILTER_MAX) {
        return SL_ERROR;
    }

    sl_broker_filters[stage][sl_broker_nfilters[stage]++] = filter;

    return SL_OK;
}


sl_int_t
sl_broker_produce_filters(sl_broker_produce_t *pr)
{
    sl_int_t   rc;
    sl_uint_t  s, i;

    for (s = 0; s < SL_BROKER_FILTER_STAGES; s++) {
        for (i = 0; i < sl_broker_nfilters[s]; i++) {

            if (pr->len == 0) {
                return SL_BROKER_OK;
            }

            rc = sl_broker_filters[s][i](pr);
            if (rc != SL_BROKER_OK) {
                return rc;
            }
        }
    }

    return SL_BROKER_OK;
}
