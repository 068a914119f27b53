/*
 * aura_stream_int.h - private to the response builder's files
 * (aura_stream.c: items, events, the end; aura_stream_resource.c: the
 * resource's request-given fields).
 */
#ifndef AURA_STREAM_INT_H
#define AURA_STREAM_INT_H

#include "aura_stream.h"

/* A new in-progress ResponseResource (status in_progress, empty output,
 * no usage) for req; caller owns it. */
json_object *aura_rb_resource_new(const aura_request_t *req, const char *id,
                                  const char *model);

#endif /* AURA_STREAM_INT_H */
