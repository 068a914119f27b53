/*
 * test_stream.c - the response builder: exact event sequences (types,
 * sequence numbers, indices) and the ResponseResource it accumulates.
 */
#include <math.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "aura_test.h"
#include "aura_stream.h"
#include "json_check.h"

/* ---- a recording sink ------------------------------------------------- */

typedef struct rec {
    apr_pool_t *p;
    apr_array_header_t *ev;     /* json_object*: events as they were sent */
    int fail_at;                /* sink fails on this event number (1-based) */
    int finalized;              /* finalize calls */
    int events_at_finalize;
} rec;

static apr_status_t sink(void *baton, const char *type, json_object *e)
{
    rec *r = baton;
    const char *s = aura_json_str(r->p, e, NULL);
    json_object *copy = aura_json_pool(r->p, json_tokener_parse(s));

    if (strcmp(type, aura_json_string(copy, "type")))
        printf("# sink type %s != data.type\n", type);
    APR_ARRAY_PUSH(r->ev, json_object *) = copy;
    if (r->fail_at && r->ev->nelts >= r->fail_at)
        return APR_ECONNABORTED;
    return APR_SUCCESS;
}

static void finalize(void *baton, aura_rb_t *rb, json_object *res)
{
    rec *r = baton;
    (void)rb;
    r->finalized++;
    r->events_at_finalize = r->ev->nelts;
    json_object_object_add(res, "aura", json_object_new_object());
}

static json_object *ev(rec *r, int i)
{
    return i < r->ev->nelts ? APR_ARRAY_IDX(r->ev, i, json_object *) : NULL;
}

/* "type[output_index/content_index|summary_index]" joined by spaces */
static const char *trace(rec *r)
{
    const char *s = "";
    int i;
    for (i = 0; i < r->ev->nelts; i++) {
        json_object *e = ev(r, i);
        const char *t = aura_json_string(e, "type");
        const char *idx = "";
        if (!strncmp(t, "response.", 9))
            t += 9;
        if (aura_json_get(e, "output_index"))
            idx = apr_psprintf(r->p, "%d",
                json_object_get_int(aura_json_get(e, "output_index")));
        if (aura_json_get(e, "content_index"))
            idx = apr_psprintf(r->p, "%s/%d", idx,
                json_object_get_int(aura_json_get(e, "content_index")));
        if (aura_json_get(e, "summary_index"))
            idx = apr_psprintf(r->p, "%s|%d", idx,
                json_object_get_int(aura_json_get(e, "summary_index")));
        s = apr_psprintf(r->p, "%s%s%s%s%s%s", s, i ? " " : "", t,
                         *idx ? "[" : "", idx, *idx ? "]" : "");
    }
    return s;
}

static int seq_ok(rec *r)
{
    int i;
    for (i = 0; i < r->ev->nelts; i++) {
        json_object *s = aura_json_get(ev(r, i), "sequence_number");
        if (!s || json_object_get_int(s) != i)
            return 0;
    }
    return 1;
}

static const char *jstr(apr_pool_t *p, json_object *o)
{
    return o ? aura_json_str(p, o, NULL) : "null";
}


static int has(json_object *o, const char *key)
{
    return json_object_is_type(o, json_type_object)
           && json_object_object_get_ex(o, key, NULL);
}

static const char *const required[] = {
    "id", "object", "created_at", "completed_at", "status",
    "incomplete_details", "model", "previous_response_id", "instructions",
    "output", "error", "tools", "tool_choice", "truncation",
    "parallel_tool_calls", "text", "top_p", "presence_penalty",
    "frequency_penalty", "temperature", "top_logprobs", "reasoning", "usage",
    "max_output_tokens", "max_tool_calls", "store", "background",
    "service_tier", "metadata", "safety_identifier", "prompt_cache_key", NULL
};

static const char *missing_key(json_object *res)
{
    int i;
    for (i = 0; required[i]; i++)
        if (!has(res, required[i]))
            return required[i];
    return NULL;
}

/* ---- fixtures ---------------------------------------------------------- */

static aura_request_t *req_new(apr_pool_t *p)
{
    aura_request_t *r = apr_pcalloc(p, sizeof(*r));
    r->pool = p;
    r->input = aura_json_pool(p, json_object_new_array());
    r->tools = aura_json_pool(p, json_object_new_array());
    r->store = r->parallel_tool_calls = AURA_UNSET;
    r->max_output_tokens = r->max_tool_calls = r->top_logprobs = AURA_UNSET;
    r->temperature = r->top_p = NAN;
    r->presence_penalty = r->frequency_penalty = NAN;
    return r;
}

static aura_rb_t *rb_new(apr_pool_t *p, const aura_request_t *req, rec *r,
                         int streaming)
{
    aura_rb_t *rb = aura_rb_create(p, req, "resp_test", "gpt-test");
    memset(r, 0, sizeof(*r));
    r->p = p;
    r->ev = apr_array_make(p, 32, sizeof(json_object *));
    if (streaming)
        aura_rb_set_sink(rb, sink, r);
    aura_rb_set_finalize(rb, finalize, r);
    return rb;
}

/* ---- tests ------------------------------------------------------------- */

static void test_text(apr_pool_t *p)
{
    rec r;
    aura_rb_t *rb = rb_new(p, req_new(p), &r, 1);
    aura_usage_t u = { 10, 4, 7, 0, 1 };
    json_object *res, *e;
    int idx = -1;

    AT_INTEQ(aura_rb_start(rb), APR_SUCCESS, "text: start");
    AT_INTEQ(aura_rb_start(rb), APR_SUCCESS, "text: start again (idempotent)");
    aura_rb_open_message(rb, NULL, &idx);
    AT_INTEQ(idx, 0, "text: message is output 0");
    aura_rb_text_delta(rb, idx, "Hel", 3);
    aura_rb_text_delta(rb, idx, "", 0);         /* ignored */
    aura_rb_text_delta(rb, idx, "lo \"/\n", 6);
    aura_rb_usage(rb, &u);
    AT_INTEQ(aura_rb_finish(rb, "completed", NULL), APR_SUCCESS, "text: finish");
    AT_STREQ(trace(&r),
             "created in_progress output_item.added[0] "
             "content_part.added[0/0] output_text.delta[0/0] "
             "output_text.delta[0/0] output_text.done[0/0] "
             "content_part.done[0/0] output_item.done[0] completed",
             "text: event sequence");
    AT_OK(seq_ok(&r), "text: sequence numbers 0..n-1");

    e = ev(&r, 0);
    AT_STREQ(sat(e, "response.status"), "in_progress", "created: in_progress");
    AT_STREQ(jstr(p, at(e, "response.output")), "[]", "created: output []");
    AT_OK(has(at(e, "response"), "usage") && !at(e, "response.usage"),
          "created: usage null");
    AT_OK(has(at(e, "response"), "completed_at")
          && !at(e, "response.completed_at"), "created: completed_at null");
    AT_OK(!missing_key(at(e, "response")), "created: every required key");
    AT_STREQ(jstr(p, at(ev(&r, 1), "response")), jstr(p, at(e, "response")),
             "in_progress carries the same snapshot");
    AT_STREQ(jstr(p, at(ev(&r, 2), "item")),
             apr_psprintf(p, "{\"id\":\"%s\",\"type\":\"message\",\"status\":"
                          "\"in_progress\",\"role\":\"assistant\",\"content\":[]}",
                          sat(ev(&r, 2), "item.id")),
             "output_item.added: zero message");
    AT_OK(!strncmp(sat(ev(&r, 2), "item.id"), "msg_", 4), "message id msg_");
    AT_STREQ(jstr(p, at(ev(&r, 3), "part")),
             "{\"type\":\"output_text\",\"text\":\"\",\"annotations\":[]}",
             "content_part.added: empty output_text");
    AT_STREQ(sat(ev(&r, 4), "delta"), "Hel", "delta 1");
    AT_STREQ(jstr(p, at(ev(&r, 4), "logprobs")), "[]", "delta logprobs []");
    AT_STREQ(sat(ev(&r, 4), "item_id"), sat(ev(&r, 2), "item.id"),
             "delta item_id");
    AT_STREQ(sat(ev(&r, 6), "text"), "Hello \"/\n", "output_text.done text");
    AT_STREQ(sat(ev(&r, 7), "part.text"), "Hello \"/\n",
             "content_part.done text");
    AT_STREQ(sat(ev(&r, 8), "item.status"), "completed", "item done completed");
    AT_STREQ(sat(ev(&r, 8), "item.content.0.text"), "Hello \"/\n",
             "item done text");

    res = at(ev(&r, 9), "response");
    AT_STREQ(sat(res, "status"), "completed", "completed: status");
    AT_OK(at(res, "completed_at") != NULL, "completed: completed_at set");
    AT_INTEQ(iat(res, "usage.input_tokens"), 10, "usage input");
    AT_INTEQ(iat(res, "usage.input_tokens_details.cached_tokens"), 4,
             "usage cached");
    AT_INTEQ(iat(res, "usage.output_tokens"), 7, "usage output");
    AT_INTEQ(iat(res, "usage.output_tokens_details.reasoning_tokens"), 0,
             "usage reasoning");
    AT_INTEQ(iat(res, "usage.total_tokens"), 17, "usage total");
    AT_STREQ(sat(res, "output.0.content.0.text"), "Hello \"/\n",
             "resource text");
    AT_OK(!missing_key(res), "completed: every required key");
    AT_INTEQ(r.finalized, 1, "finalize once");
    AT_INTEQ(r.events_at_finalize, 9, "finalize runs before the terminal event");
    AT_OK(at(res, "aura") != NULL, "finalize's additions are in the terminal");
    AT_OK(aura_rb_ended(rb) && !aura_rb_failed(rb), "ended, not failed");

    /* after the end: no-ops */
    AT_INTEQ(aura_rb_text_delta(rb, idx, "x", 1), APR_SUCCESS, "delta after end");
    AT_INTEQ(aura_rb_finish(rb, "completed", NULL), APR_SUCCESS, "finish twice");
    AT_INTEQ(r.ev->nelts, 10, "no events after the end");
}

static void test_parallel_calls(apr_pool_t *p)
{
    rec r;
    aura_rb_t *rb = rb_new(p, req_new(p), &r, 1);
    json_object *res;
    int a = -1, b = -1, c = -1;

    aura_rb_open_call(rb, NULL, "call_A", "get_weather", &a);
    aura_rb_open_call(rb, "fc_given", "call_B", "get_time", &b);
    aura_rb_call_args_delta(rb, a, "{\"city\":", 8);
    aura_rb_call_args_delta(rb, b, "{\"tz\":\"UTC\"}", 12);
    aura_rb_call_args_delta(rb, a, "\"Paris\"}", 8);
    aura_rb_close(rb, a);
    aura_rb_close(rb, a);                       /* no-op */
    aura_rb_close(rb, b);
    aura_rb_open_call(rb, NULL, NULL, "no_args", &c);
    aura_rb_finish(rb, "completed", NULL);

    AT_INTEQ(a, 0, "call a idx");
    AT_INTEQ(b, 1, "call b idx");
    AT_INTEQ(c, 2, "call c idx");
    AT_STREQ(trace(&r),
             "created in_progress output_item.added[0] output_item.added[1] "
             "function_call_arguments.delta[0] function_call_arguments.delta[1] "
             "function_call_arguments.delta[0] function_call_arguments.done[0] "
             "output_item.done[0] function_call_arguments.done[1] "
             "output_item.done[1] output_item.added[2] "
             "function_call_arguments.done[2] output_item.done[2] completed",
             "calls: event sequence");
    AT_OK(seq_ok(&r), "calls: sequence numbers");
    AT_STREQ(jstr(p, at(ev(&r, 3), "item")),
             "{\"id\":\"fc_given\",\"type\":\"function_call\",\"status\":"
             "\"in_progress\",\"call_id\":\"call_B\",\"name\":\"get_time\","
             "\"arguments\":\"\"}", "added: zero function_call");
    AT_OK(!strncmp(sat(ev(&r, 2), "item.id"), "fc_", 3), "made id fc_");
    AT_STREQ(sat(ev(&r, 7), "arguments"), "{\"city\":\"Paris\"}",
             "arguments.done a");
    AT_STREQ(sat(ev(&r, 8), "item.arguments"), "{\"city\":\"Paris\"}",
             "item.done a arguments");
    AT_STREQ(sat(ev(&r, 8), "item.status"), "completed", "item.done a status");
    AT_STREQ(sat(ev(&r, 12), "arguments"), "{}", "no fragments: \"{}\"");
    AT_OK(!strncmp(sat(ev(&r, 11), "item.call_id"), "call_", 5)
          && strlen(sat(ev(&r, 11), "item.call_id")) > 5,
          "missing call_id is made up");

    /* a late fragment for a closed call lands in the final item */
    aura_rb_call_args_delta(rb, a, "x", 1);   /* after end: ignored */
    res = aura_rb_resource(rb);
    AT_STREQ(sat(res, "output.0.arguments"), "{\"city\":\"Paris\"}",
             "after the end nothing changes");
    AT_STREQ(sat(res, "output.1.arguments"), "{\"tz\":\"UTC\"}", "b final");
    AT_STREQ(sat(res, "output.1.call_id"), "call_B", "b call_id");
    AT_STREQ(sat(res, "output.1.name"), "get_time", "b name");

    rb = rb_new(p, req_new(p), &r, 1);
    aura_rb_open_call(rb, NULL, "call_L", "late", &a);
    aura_rb_call_args_delta(rb, a, "{\"a\":", 5);
    aura_rb_close(rb, a);
    aura_rb_call_args_delta(rb, a, "1}", 2);
    aura_rb_finish(rb, "completed", NULL);
    AT_STREQ(sat(aura_rb_resource(rb), "output.0.arguments"), "{\"a\":1}",
             "late fragment folded into the closed call");
    AT_STREQ(trace(&r),
             "created in_progress output_item.added[0] "
             "function_call_arguments.delta[0] function_call_arguments.done[0] "
             "output_item.done[0] completed", "late fragment: no event");
}

static void test_reasoning(apr_pool_t *p)
{
    rec r;
    aura_rb_t *rb = rb_new(p, req_new(p), &r, 1);
    json_object *item;
    int rs = -1, m = -1;

    aura_rb_open_reasoning(rb, "rs_up", &rs);
    aura_rb_reasoning_delta(rb, rs, "think", 5);
    aura_rb_reasoning_summary_delta(rb, rs, 0, "Sum", 3);
    aura_rb_reasoning_summary_delta(rb, rs, 0, "mary", 4);
    aura_rb_reasoning_summary_delta(rb, rs, 3, "Two", 3);  /* gap: index 1 */
    aura_rb_reasoning_encrypted(rb, rs, "ENC");
    aura_rb_close(rb, rs);
    aura_rb_open_message(rb, NULL, &m);
    aura_rb_text_delta(rb, m, "ok", 2);
    aura_rb_finish(rb, "completed", NULL);

    AT_STREQ(trace(&r),
             "created in_progress output_item.added[0] "
             "content_part.added[0/0] reasoning.delta[0/0] "
             "reasoning_summary_part.added[0|0] "
             "reasoning_summary_text.delta[0|0] "
             "reasoning_summary_text.delta[0|0] "
             "reasoning_summary_text.done[0|0] "
             "reasoning_summary_part.done[0|0] "
             "reasoning_summary_part.added[0|1] "
             "reasoning_summary_text.delta[0|1] "
             "reasoning.done[0/0] content_part.done[0/0] "
             "reasoning_summary_text.done[0|1] "
             "reasoning_summary_part.done[0|1] output_item.done[0] "
             "output_item.added[1] content_part.added[1/0] "
             "output_text.delta[1/0] output_text.done[1/0] "
             "content_part.done[1/0] output_item.done[1] completed",
             "reasoning: event sequence");
    AT_OK(seq_ok(&r), "reasoning: sequence numbers");
    AT_STREQ(jstr(p, at(ev(&r, 2), "item")),
             "{\"id\":\"rs_up\",\"type\":\"reasoning\",\"summary\":[]}",
             "reasoning added: no status key");
    AT_STREQ(jstr(p, at(ev(&r, 3), "part")),
             "{\"type\":\"reasoning_text\",\"text\":\"\"}",
             "reasoning content part");
    AT_STREQ(jstr(p, at(ev(&r, 5), "part")),
             "{\"type\":\"summary_text\",\"text\":\"\"}", "summary part");
    AT_STREQ(sat(ev(&r, 8), "text"), "Summary", "summary 0 done text");
    item = at(ev(&r, 16), "item");
    AT_STREQ(jstr(p, item),
             "{\"id\":\"rs_up\",\"type\":\"reasoning\",\"summary\":["
             "{\"type\":\"summary_text\",\"text\":\"Summary\"},"
             "{\"type\":\"summary_text\",\"text\":\"Two\"}],"
             "\"content\":[{\"type\":\"reasoning_text\",\"text\":\"think\"}],"
             "\"encrypted_content\":\"ENC\"}", "reasoning final item");
    AT_OK(!has(at(aura_rb_resource(rb), "output.0"), "status"),
          "reasoning item never gets a status");
}

static void test_incomplete(apr_pool_t *p)
{
    rec r;
    aura_rb_t *rb = rb_new(p, req_new(p), &r, 1);
    json_object *res;
    int c = -1, m = -1;

    aura_rb_open_call(rb, NULL, "call_1", "f", &c);
    aura_rb_call_args_delta(rb, c, "{}", 2);
    aura_rb_open_message(rb, NULL, &m);
    aura_rb_text_delta(rb, m, "cut sho", 7);
    aura_rb_finish(rb, "incomplete", "max_output_tokens");
    AT_STREQ(trace(&r),
             "created in_progress output_item.added[0] "
             "function_call_arguments.delta[0] output_item.added[1] "
             "content_part.added[1/0] output_text.delta[1/0] "
             "function_call_arguments.done[0] output_item.done[0] "
             "output_text.done[1/0] content_part.done[1/0] "
             "output_item.done[1] incomplete", "incomplete: event sequence");
    AT_STREQ(sat(ev(&r, 8), "item.status"), "completed",
             "earlier item completed");
    AT_STREQ(sat(ev(&r, 11), "item.status"), "incomplete",
             "last item incomplete");
    res = at(ev(&r, 12), "response");
    AT_STREQ(sat(res, "status"), "incomplete", "response incomplete");
    AT_STREQ(sat(res, "incomplete_details.reason"), "max_output_tokens",
             "incomplete_details.reason");
    AT_OK(!missing_key(res), "incomplete: every required key");
    AT_OK(!at(res, "usage"), "no usage reported: null");
}

static void test_fail(apr_pool_t *p)
{
    rec r;
    aura_rb_t *rb = rb_new(p, req_new(p), &r, 1);
    aura_error_t *err = aura_error_make(p, 502, "server_error",
                                        "upstream_error", NULL, "boom");
    aura_usage_t u = { 5, 0, 1, 0, 1 };
    json_object *res, *e;
    int m = -1;

    aura_rb_open_message(rb, NULL, &m);
    aura_rb_text_delta(rb, m, "part", 4);
    aura_rb_usage(rb, &u);
    aura_rb_fail(rb, err);
    aura_rb_finish(rb, "completed", NULL);       /* no-op */
    aura_rb_fail(rb, err);                       /* no-op */
    AT_STREQ(trace(&r),
             "created in_progress output_item.added[0] "
             "content_part.added[0/0] output_text.delta[0/0] error failed",
             "fail: event sequence");
    AT_OK(seq_ok(&r), "fail: sequence numbers");
    e = ev(&r, 5);
    AT_STREQ(jstr(p, at(e, "error")),
             "{\"type\":\"server_error\",\"code\":\"upstream_error\","
             "\"message\":\"boom\",\"param\":null}", "error event body");
    res = at(ev(&r, 6), "response");
    AT_STREQ(sat(res, "status"), "failed", "failed status");
    AT_STREQ(jstr(p, at(res, "error")),
             "{\"code\":\"upstream_error\",\"message\":\"boom\"}",
             "failed resource error {code,message}");
    AT_STREQ(sat(res, "output.0.status"), "incomplete",
             "cut item kept, incomplete");
    AT_STREQ(sat(res, "output.0.content.0.text"), "part", "cut item text");
    AT_INTEQ(iat(res, "usage.input_tokens"), 5, "failed keeps usage");
    AT_OK(!missing_key(res), "failed: every required key");
    AT_INTEQ(r.finalized, 1, "failed: finalize once");
    AT_OK(aura_rb_failed(rb) && aura_rb_ended(rb), "failed + ended");

    /* failing before anything else still starts the stream properly */
    rb = rb_new(p, req_new(p), &r, 1);
    aura_rb_fail(rb, aura_error_make(p, 502, "server_error", NULL, NULL, "x"));
    AT_STREQ(trace(&r), "created in_progress error failed",
             "fail at once: created, in_progress, error, failed");
    AT_STREQ(sat(ev(&r, 3), "response.error.code"), "server_error",
             "no code: the type stands in (code is required)");
}

static void test_nonstream_and_params(apr_pool_t *p)
{
    rec r;
    aura_request_t *req = req_new(p);
    aura_rb_t *rb;
    json_object *res, *tool;
    int m = -1;

    req->model = "alias";
    req->instructions = "be brief";
    req->temperature = 0.5;
    req->top_logprobs = 3;
    req->max_output_tokens = 100;
    req->store = 1;
    req->parallel_tool_calls = 0;
    req->truncation = "auto";
    req->service_tier = "flex";
    req->previous_response_id = "resp_prev";
    req->tool_choice = aura_json_pool(p, json_object_new_string("required"));
    req->text = aura_json_pool(p, json_tokener_parse(
        "{\"format\":{\"type\":\"json_schema\",\"name\":\"x\",\"schema\":"
        "{\"type\":\"object\"}},\"verbosity\":\"low\"}"));
    req->reasoning = aura_json_pool(p, json_tokener_parse(
        "{\"effort\":\"high\"}"));
    req->metadata = aura_json_pool(p, json_tokener_parse("{\"k\":\"v\"}"));
    json_object_array_add(req->tools, json_tokener_parse(
        "{\"type\":\"function\",\"name\":\"f\"}"));

    rb = rb_new(p, req, &r, 0);
    AT_INTEQ(aura_rb_start(rb), APR_SUCCESS, "no sink: start ok");
    aura_rb_open_message(rb, "msg_x", &m);
    aura_rb_text_delta(rb, m, "hi", 2);
    aura_rb_finish(rb, "completed", NULL);
    AT_INTEQ(r.ev->nelts, 0, "no sink: no events");
    AT_INTEQ(r.finalized, 1, "no sink: finalize runs");
    res = aura_rb_resource(rb);
    AT_OK(!missing_key(res), "non-stream: every required key");
    AT_STREQ(sat(res, "id"), "resp_test", "id");
    AT_STREQ(sat(res, "object"), "response", "object");
    AT_STREQ(sat(res, "model"), "gpt-test", "model is the resolved one");
    AT_STREQ(sat(res, "output.0.id"), "msg_x", "given item id kept");
    AT_STREQ(sat(res, "output.0.content.0.text"), "hi", "text");
    AT_STREQ(sat(res, "instructions"), "be brief", "instructions");
    AT_STREQ(sat(res, "previous_response_id"), "resp_prev", "previous id");
    AT_STREQ(jstr(p, at(res, "temperature")), "0.5", "temperature echoed");
    AT_STREQ(jstr(p, at(res, "top_p")), "1.0", "top_p default 1.0");
    AT_STREQ(jstr(p, at(res, "presence_penalty")), "0.0", "presence default");
    AT_INTEQ(iat(res, "top_logprobs"), 3, "top_logprobs");
    AT_INTEQ(iat(res, "max_output_tokens"), 100, "max_output_tokens");
    AT_OK(has(res, "max_tool_calls") && !at(res, "max_tool_calls"),
          "max_tool_calls null");
    AT_STREQ(jstr(p, at(res, "store")), "true", "store");
    AT_STREQ(jstr(p, at(res, "background")), "false", "background");
    AT_STREQ(jstr(p, at(res, "parallel_tool_calls")), "false", "ptc");
    AT_STREQ(sat(res, "truncation"), "auto", "truncation");
    AT_STREQ(sat(res, "service_tier"), "flex", "service_tier");
    AT_STREQ(sat(res, "tool_choice"), "required", "tool_choice");
    AT_STREQ(jstr(p, at(res, "text")),
             "{\"format\":{\"type\":\"json_schema\",\"name\":\"x\","
             "\"description\":null,\"schema\":null,\"strict\":false},"
             "\"verbosity\":\"low\"}", "text: json_schema echo, schema null");
    AT_STREQ(jstr(p, at(res, "reasoning")),
             "{\"effort\":\"high\",\"summary\":null}", "reasoning both keys");
    AT_STREQ(jstr(p, at(res, "metadata")), "{\"k\":\"v\"}", "metadata");
    tool = at(res, "tools.0");
    AT_STREQ(jstr(p, tool),
             "{\"type\":\"function\",\"name\":\"f\",\"description\":null,"
             "\"parameters\":null,\"strict\":null}",
             "tool: every FunctionTool key present");

    /* defaults */
    rb = rb_new(p, req_new(p), &r, 0);
    aura_rb_finish(rb, "completed", NULL);
    res = aura_rb_resource(rb);
    AT_STREQ(jstr(p, at(res, "text")), "{\"format\":{\"type\":\"text\"}}",
             "text default");
    AT_STREQ(sat(res, "tool_choice"), "auto", "tool_choice default");
    AT_STREQ(sat(res, "truncation"), "disabled", "truncation default");
    AT_STREQ(jstr(p, at(res, "parallel_tool_calls")), "true", "ptc default");
    AT_STREQ(jstr(p, at(res, "store")), "false", "store default");
    AT_STREQ(sat(res, "service_tier"), "default", "service_tier default");
    AT_STREQ(jstr(p, at(res, "metadata")), "{}", "metadata default {}");
    AT_OK(has(res, "reasoning") && !at(res, "reasoning"), "reasoning null");
    AT_INTEQ(iat(res, "top_logprobs"), 0, "top_logprobs default 0");
    AT_STREQ(jstr(p, at(res, "output")), "[]", "empty output");
    AT_OK(!missing_key(res), "defaults: every required key");
}

static void test_parts_and_sink_failure(apr_pool_t *p)
{
    rec r;
    aura_rb_t *rb = rb_new(p, req_new(p), &r, 1);
    int m = -1;

    aura_rb_open_message(rb, NULL, &m);
    aura_rb_text_delta(rb, m, "a", 1);
    aura_rb_refusal_delta(rb, m, "no", 2);
    aura_rb_finish(rb, "completed", NULL);
    AT_STREQ(trace(&r),
             "created in_progress output_item.added[0] "
             "content_part.added[0/0] output_text.delta[0/0] "
             "output_text.done[0/0] content_part.done[0/0] "
             "content_part.added[0/1] refusal.delta[0/1] refusal.done[0/1] "
             "content_part.done[0/1] output_item.done[0] completed",
             "text then refusal: sequential parts");
    AT_STREQ(jstr(p, at(aura_rb_resource(rb), "output.0.content")),
             "[{\"type\":\"output_text\",\"text\":\"a\",\"annotations\":[]},"
             "{\"type\":\"refusal\",\"refusal\":\"no\"}]", "two parts");

    /* the sink fails (client gone): the status comes back, the resource
     * is still built, the finalize hook still runs */
    rb = rb_new(p, req_new(p), &r, 1);
    r.fail_at = 3;
    AT_INTEQ(aura_rb_open_message(rb, NULL, &m), APR_ECONNABORTED,
             "sink failure returned");
    AT_INTEQ(m, 0, "item opened anyway");
    AT_INTEQ(aura_rb_text_delta(rb, m, "x", 1), APR_ECONNABORTED,
             "later calls return it too");
    AT_INTEQ(r.ev->nelts, 3, "no events after the failure");
    aura_rb_finish(rb, "completed", NULL);
    AT_STREQ(sat(aura_rb_resource(rb), "output.0.content.0.text"), "x",
             "resource complete after sink failure");
    AT_INTEQ(r.finalized, 1, "finalize after sink failure");
}

/* The content cap: the delta that passes it fails the response and
 * returns APR_ENOSPC; all content kinds and items count together. */
static void test_content_cap(apr_pool_t *p)
{
    rec r;
    aura_rb_t *rb = rb_new(p, req_new(p), &r, 1);
    json_object *res;
    int m = -1, c = -1, s = -1;

    AT_INTEQ(aura_rb_max_content(rb), AURA_RB_MAX_CONTENT, "cap: default");
    aura_rb_set_max_content(rb, 10);
    AT_INTEQ(aura_rb_max_content(rb), 10, "cap: override");
    aura_rb_open_reasoning(rb, NULL, &s);
    AT_INTEQ(aura_rb_reasoning_summary_delta(rb, s, 0, "ab", 2), APR_SUCCESS,
             "cap: summary under");
    aura_rb_open_call(rb, NULL, "call_1", "f", &c);
    AT_INTEQ(aura_rb_call_args_delta(rb, c, "{}", 2), APR_SUCCESS,
             "cap: args under");
    aura_rb_open_message(rb, NULL, &m);
    AT_INTEQ(aura_rb_text_delta(rb, m, "123456", 6), APR_SUCCESS,
             "cap: exactly at the cap");
    AT_OK(!aura_rb_ended(rb), "cap: not ended at the cap");
    AT_INTEQ(aura_rb_text_delta(rb, m, "7", 1), APR_ENOSPC,
             "cap: one byte over returns APR_ENOSPC");
    AT_OK(aura_rb_failed(rb), "cap: failed");
    res = aura_rb_resource(rb);
    AT_STREQ(sat(res, "error.code"), "upstream_response_too_large",
             "cap: error code");
    AT_OK(strstr(sat(res, "error.message"), "limit of 10 bytes") != NULL,
          "cap: message names the limit");
    AT_STREQ(sat(res, "output.2.content.0.text"), "123456",
             "cap: the over-cap delta is dropped");
    AT_STREQ(sat(res, "output.2.status"), "incomplete", "cap: item cut");
    AT_STREQ(sat(ev(&r, r.ev->nelts - 2), "type"), "error",
             "cap: error event");
    AT_STREQ(sat(ev(&r, r.ev->nelts - 2), "error.type"), "server_error",
             "cap: error type");
    AT_STREQ(sat(ev(&r, r.ev->nelts - 2), "error.code"),
             "upstream_response_too_large", "cap: error event code");
    AT_STREQ(sat(ev(&r, r.ev->nelts - 1), "type"), "response.failed",
             "cap: then response.failed");
    AT_OK(seq_ok(&r), "cap: sequence numbers");
    AT_INTEQ(r.finalized, 1, "cap: metered");
    AT_INTEQ(aura_rb_text_delta(rb, m, "8", 1), APR_SUCCESS,
             "cap: after the end, a no-op");

    /* one delta bigger than the whole cap; arguments count too */
    rb = rb_new(p, req_new(p), &r, 0);
    aura_rb_set_max_content(rb, 4);
    aura_rb_open_call(rb, NULL, "call_1", "f", &c);
    AT_INTEQ(aura_rb_call_args_delta(rb, c, "{\"a\":1}", 7), APR_ENOSPC,
             "cap: args over, no sink");
    AT_STREQ(sat(aura_rb_resource(rb), "error.code"),
             "upstream_response_too_large", "cap: args code");
}

/* response.created / in_progress keep the resource as it was at the
 * start even though the live resource goes on changing (the snapshot
 * shares values instead of deep-copying them). */
static apr_status_t keep_sink(void *baton, const char *type, json_object *e)
{
    apr_array_header_t *kept = baton;
    (void)type;
    APR_ARRAY_PUSH(kept, json_object *) = json_object_get(e);
    return APR_SUCCESS;
}

static void test_start_snapshot(apr_pool_t *p)
{
    aura_request_t *req = req_new(p);
    apr_array_header_t *kept = apr_array_make(p, 16, sizeof(json_object *));
    aura_rb_t *rb;
    json_object *created, *live;
    aura_usage_t u = { 1, 0, 2, 0, 1 };
    int m = -1, i;

    json_object_array_add(req->tools, json_tokener_parse(
        "{\"type\":\"function\",\"name\":\"f\",\"parameters\":"
        "{\"type\":\"object\",\"properties\":{\"x\":{\"type\":\"string\"}}}}"));
    rb = aura_rb_create(p, req, "resp_snap", "m");
    aura_rb_set_sink(rb, keep_sink, kept);
    aura_rb_open_message(rb, NULL, &m);
    aura_rb_text_delta(rb, m, "hi", 2);
    aura_rb_usage(rb, &u);
    aura_rb_finish(rb, "completed", NULL);
    created = at(APR_ARRAY_IDX(kept, 0, json_object *), "response");
    live = aura_rb_resource(rb);
    AT_OK(at(APR_ARRAY_IDX(kept, 0, json_object *), "response")
          == at(APR_ARRAY_IDX(kept, 1, json_object *), "response"),
          "snapshot: created and in_progress share one object");
    AT_STREQ(sat(created, "status"), "in_progress", "snapshot: status kept");
    AT_STREQ(jstr(p, at(created, "output")), "[]", "snapshot: output kept");
    AT_OK(!at(created, "usage") && !at(created, "completed_at"),
          "snapshot: usage and completed_at still null");
    AT_OK(!missing_key(created), "snapshot: every required key");
    AT_STREQ(sat(live, "status"), "completed", "snapshot: live resource moved");
    AT_STREQ(jstr(p, at(created, "tools")), jstr(p, at(live, "tools")),
             "snapshot: tools echoed");
    AT_STREQ(sat(created, "tools.0.parameters.properties.x.type"), "string",
             "snapshot: tool schema");
    for (i = 0; i < kept->nelts; i++)
        json_object_put(APR_ARRAY_IDX(kept, i, json_object *));
}

static void test_frame(apr_pool_t *p)
{
    json_object *e = aura_json_pool(p, json_tokener_parse(
        "{\"type\":\"response.output_text.delta\",\"delta\":\"a/b\\nc\"}"));
    apr_size_t n = 0;
    const char *f = aura_sse_frame(p, "response.output_text.delta", e, &n);

    AT_STREQ(f, "event: response.output_text.delta\n"
                "data: {\"type\":\"response.output_text.delta\","
                "\"delta\":\"a/b\\nc\"}\n\n", "sse frame");
    AT_INTEQ(n, strlen(f), "frame length");
}

int main(void)
{
    apr_pool_t *p;

    apr_initialize();
    apr_pool_create(&p, NULL);
    test_text(p);
    test_parallel_calls(p);
    test_reasoning(p);
    test_incomplete(p);
    test_fail(p);
    test_nonstream_and_params(p);
    test_parts_and_sink_failure(p);
    test_content_cap(p);
    test_start_snapshot(p);
    test_frame(p);
    apr_pool_destroy(p);
    apr_terminate();
    return AT_DONE();
}
