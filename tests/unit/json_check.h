/*
 * json_check.h - reading a json-c tree by dotted path in tests:
 * at(o, "output.0.content.1.text"), sat() for strings, iat() for numbers
 * (-999 when absent). Numbers index arrays.
 */
#ifndef JSON_CHECK_H
#define JSON_CHECK_H

#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include "aura.h"

static json_object *at(json_object *o, const char *path)
{
    char buf[256], *tok, *save = NULL;
    apr_cpystrn(buf, path, sizeof(buf));
    for (tok = strtok_r(buf, ".", &save); tok && o;
         tok = strtok_r(NULL, ".", &save)) {
        if (json_object_is_type(o, json_type_array))
            o = json_object_array_get_idx(o, atoi(tok));
        else
            o = aura_json_get(o, tok);
    }
    return o;
}

static const char *sat(json_object *o, const char *path)
{
    json_object *v = at(o, path);
    return v && json_object_is_type(v, json_type_string)
               ? json_object_get_string(v) : NULL;
}

static long iat(json_object *o, const char *path)
{
    json_object *v = at(o, path);
    return v ? (long)json_object_get_int64(v) : -999;
}

#endif /* JSON_CHECK_H */
