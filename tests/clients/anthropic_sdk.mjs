// The official `@anthropic-ai/sdk` Node SDK against mod_aura.
//
//   node anthropic_sdk.mjs <case> <baseURL> <model>
//
// baseURL is the gateway origin plus its prefix, without /v1 (the SDK
// appends /v1/messages). Prints one JSON object on stdout (see
// openai_sdk.mjs); exit 1 with {"ok": false, "error": ...} when the SDK
// throws.
//
// Cases: messages-create, messages-stream-tool (messages.stream with a
// tool; the tool_use block collected from the events and from
// finalMessage(); then the tool_result round trip), count-tokens.
import Anthropic from '@anthropic-ai/sdk';

const [, , which, baseURL, model] = process.argv;
const client = new Anthropic({
  baseURL,
  apiKey: 'aura-client-test-key',
  maxRetries: 0,
  timeout: 30_000,
});

const BASH_TOOL = {
  name: 'bash',
  description: 'Run a shell command and return its standard output.',
  input_schema: {
    type: 'object',
    properties: { command: { type: 'string', description: 'Shell command line to run.' } },
    required: ['command'],
  },
};

const rid = (response) => response.headers.get('x-aura-request-id');
const textOf = (msg) => msg.content.filter((b) => b.type === 'text').map((b) => b.text).join('');

function runTool(name, input) {
  const m = /^echo (.*)$/.exec((input && input.command) || '');
  if (name !== 'bash' || !m) return `refused: ${name} ${JSON.stringify(input)}`;
  return m[1] + '\n';
}

const cases = {
  async 'messages-create'() {
    const { data, response } = await client.messages
      .create({
        model,
        max_tokens: 256,
        system: 'You are terse.',
        messages: [{ role: 'user', content: 'Say something.' }],
      })
      .withResponse();
    return {
      request_ids: [rid(response)],
      type: data.type,
      role: data.role,
      text: textOf(data),
      stop_reason: data.stop_reason,
      usage: data.usage,
      aura: data.aura,
    };
  },

  async 'messages-stream-tool'() {
    const messages = [{ role: 'user', content: 'Run `echo hello-from-aura` and tell me what it printed.' }];
    const stream = client.messages.stream({ model, max_tokens: 256, messages, tools: [BASH_TOOL] });
    const events = [];
    let inputJson = '';
    const blocks = [];
    let delta = null;
    stream.on('streamEvent', (ev) => {
      events.push(ev.type);
      if (ev.type === 'content_block_start') blocks.push(ev.content_block.type);
      if (ev.type === 'content_block_delta' && ev.delta.type === 'input_json_delta') inputJson += ev.delta.partial_json;
      // the gateway's enrichment rides on message_delta (raw event)
      if (ev.type === 'message_delta') delta = { usage: ev.usage, aura: ev.aura };
    });
    const { response } = await stream.withResponse();
    const final = await stream.finalMessage();
    const toolUse = final.content.filter((b) => b.type === 'tool_use');
    const results = toolUse.map((b) => ({ type: 'tool_result', tool_use_id: b.id, content: runTool(b.name, b.input) }));
    // Round trip: the tool_result goes back, the model answers in text.
    const second = client.messages.stream({
      model,
      max_tokens: 256,
      tools: [BASH_TOOL],
      messages: [...messages, { role: 'assistant', content: final.content }, { role: 'user', content: results }],
    });
    let delta2 = null;
    second.on('streamEvent', (ev) => {
      if (ev.type === 'message_delta') delta2 = { usage: ev.usage, aura: ev.aura };
    });
    const second_response = (await second.withResponse()).response;
    const answer = await second.finalMessage();
    return {
      request_ids: [rid(response), rid(second_response)],
      events,
      blocks,
      streamed_input_json: inputJson,
      stop_reason: final.stop_reason,
      tool_use: toolUse.map((b) => ({ id: b.id, name: b.name, input: b.input })),
      usage: final.usage,
      tool_outputs: results.map((r) => r.content),
      text: textOf(answer),
      answer_stop_reason: answer.stop_reason,
      answer_usage: answer.usage,
      deltas: [delta, delta2],
    };
  },

  async 'count-tokens'() {
    const { data, response } = await client.messages
      .countTokens({
        model,
        system: 'You are terse.',
        messages: [{ role: 'user', content: 'Run `echo hello-from-aura` and tell me what it printed.' }],
        tools: [BASH_TOOL],
      })
      .withResponse();
    return { request_ids: [rid(response)], result: data };
  },
};

async function main() {
  if (!cases[which]) throw new Error(`unknown case ${which}; one of ${Object.keys(cases).join(', ')}`);
  const out = await cases[which]();
  process.stdout.write(JSON.stringify({ ok: true, case: which, ...out }) + '\n');
}

main().catch((e) => {
  process.stdout.write(JSON.stringify({
    ok: false,
    case: which,
    error: String((e && e.message) || e),
    status: e && e.status,
    body: e && e.error,
    request_id: e && e.headers && (e.headers.get ? e.headers.get('x-aura-request-id') : e.headers['x-aura-request-id']),
  }) + '\n');
  process.exit(1);
});
