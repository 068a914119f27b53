// The official `openai` Node SDK against mod_aura.
//
//   node openai_sdk.mjs <case> <baseURL> <model>
//
// Prints one JSON object on stdout: what the SDK returned (parsed by the
// SDK itself: a parse failure or an SDK exception is a failed case), the
// gateway request ids (x-aura-request-id) of every call, and the facts
// tests/integration/test_clients.py asserts on. Exit 0 when the SDK did
// not throw; on a throw, {"error": ...} and exit 1.
//
// Cases: responses-plain, responses-stream, responses-tools (a function
// tool, the call executed here, the round trip with function_call_output),
// chat-plain, chat-stream (stream_options.include_usage), chat-tools (tool
// call, tool message round trip), chat-tools-stream.
import OpenAI from 'openai';

const [, , which, baseURL, model] = process.argv;
const client = new OpenAI({
  baseURL,
  apiKey: 'aura-client-test-key',
  maxRetries: 0,
  timeout: 30_000,
});

// The tool the scripted agent upstream (tests/sim/providers/agent.py)
// calls: a shell tool taking one command string.
const SHELL_PARAMS = {
  type: 'object',
  properties: {
    command: { type: 'string', description: 'Shell command line to run.' },
  },
  required: ['command'],
  additionalProperties: false,
};
const RESPONSES_TOOL = {
  type: 'function',
  name: 'shell',
  description: 'Run a shell command and return its standard output.',
  parameters: SHELL_PARAMS,
  strict: false,
};
const CHAT_TOOL = {
  type: 'function',
  function: {
    name: 'shell',
    description: 'Run a shell command and return its standard output.',
    parameters: SHELL_PARAMS,
  },
};

// "Executes" the command the model asked for: only the echo the script
// expects; anything else is reported back as an error text.
function runTool(name, argsJson) {
  const args = JSON.parse(argsJson);
  const m = /^echo (.*)$/.exec(args.command || '');
  if (name !== 'shell' || !m) return `refused: ${name} ${argsJson}`;
  return m[1] + '\n';
}

const rid = (response) => response.headers.get('x-aura-request-id');

function responsesText(resp) {
  return (resp.output || [])
    .filter((i) => i.type === 'message')
    .flatMap((i) => i.content || [])
    .filter((c) => c.type === 'output_text')
    .map((c) => c.text)
    .join('');
}

const cases = {
  async 'responses-plain'() {
    const { data, response } = await client.responses
      .create({ model, input: 'Say something.' })
      .withResponse();
    return {
      request_ids: [rid(response)],
      text: data.output_text, // the SDK's own convenience accessor
      text_from_items: responsesText(data),
      status: data.status,
      usage: data.usage,
      aura: data.aura,
    };
  },

  async 'responses-stream'() {
    const { data: stream, response } = await client.responses
      .create({ model, input: 'Say something.', stream: true })
      .withResponse();
    const types = [];
    let text = '';
    let final = null;
    for await (const ev of stream) {
      types.push(ev.type);
      if (ev.type === 'response.output_text.delta') text += ev.delta;
      if (ev.type === 'response.completed') final = ev.response;
    }
    return {
      request_ids: [rid(response)],
      types,
      text,
      final_text: final && responsesText(final),
      status: final && final.status,
      usage: final && final.usage,
      aura: final && final.aura,
    };
  },

  async 'responses-tools'() {
    const input = [{ role: 'user', content: 'Run `echo hello-from-aura` and tell me what it printed.' }];
    const first = await client.responses
      .create({ model, input, tools: [RESPONSES_TOOL] })
      .withResponse();
    const calls = first.data.output.filter((i) => i.type === 'function_call');
    const outputs = calls.map((c) => ({
      type: 'function_call_output',
      call_id: c.call_id,
      output: runTool(c.name, c.arguments),
    }));
    // The whole conversation goes back: the gateway stores no responses
    // (docs/api.md), so no previous_response_id.
    const second = await client.responses
      .create({ model, input: [...input, ...calls, ...outputs], tools: [RESPONSES_TOOL] })
      .withResponse();
    return {
      request_ids: [rid(first.response), rid(second.response)],
      calls: calls.map((c) => ({ name: c.name, arguments: c.arguments, call_id: c.call_id })),
      tool_outputs: outputs.map((o) => o.output),
      first_aura: first.data.aura,
      first_usage: first.data.usage,
      text: second.data.output_text,
      usage: second.data.usage,
      aura: second.data.aura,
    };
  },

  async 'chat-plain'() {
    const { data, response } = await client.chat.completions
      .create({ model, messages: [{ role: 'user', content: 'Say something.' }] })
      .withResponse();
    return {
      request_ids: [rid(response)],
      object: data.object,
      text: data.choices[0].message.content,
      finish_reason: data.choices[0].finish_reason,
      usage: data.usage,
      aura: data.aura,
    };
  },

  async 'chat-stream'() {
    const { data: stream, response } = await client.chat.completions
      .create({
        model,
        messages: [{ role: 'user', content: 'Say something.' }],
        stream: true,
        stream_options: { include_usage: true },
      })
      .withResponse();
    let text = '';
    let usage = null;
    let aura = null;
    let finish = null;
    let chunks = 0;
    const objects = new Set();
    for await (const chunk of stream) {
      chunks += 1;
      objects.add(chunk.object);
      for (const ch of chunk.choices || []) {
        if (ch.delta && ch.delta.content) text += ch.delta.content;
        if (ch.finish_reason) finish = ch.finish_reason;
      }
      if (chunk.usage) usage = chunk.usage;
      if (chunk.aura) aura = chunk.aura;
    }
    return {
      request_ids: [rid(response)],
      chunks,
      objects: [...objects],
      text,
      finish_reason: finish,
      usage,
      aura,
    };
  },

  async 'chat-tools'() {
    const messages = [{ role: 'user', content: 'Run `echo hello-from-aura` and tell me what it printed.' }];
    const first = await client.chat.completions
      .create({ model, messages, tools: [CHAT_TOOL] })
      .withResponse();
    const msg = first.data.choices[0].message;
    const calls = msg.tool_calls || [];
    const toolMsgs = calls.map((c) => ({
      role: 'tool',
      tool_call_id: c.id,
      content: runTool(c.function.name, c.function.arguments),
    }));
    const second = await client.chat.completions
      .create({ model, messages: [...messages, msg, ...toolMsgs], tools: [CHAT_TOOL] })
      .withResponse();
    return {
      request_ids: [rid(first.response), rid(second.response)],
      finish_reason: first.data.choices[0].finish_reason,
      calls: calls.map((c) => ({ id: c.id, type: c.type, name: c.function.name, arguments: c.function.arguments })),
      tool_outputs: toolMsgs.map((m) => m.content),
      first_usage: first.data.usage,
      first_aura: first.data.aura,
      text: second.data.choices[0].message.content,
      usage: second.data.usage,
      aura: second.data.aura,
    };
  },

  async 'chat-tools-stream'() {
    // Tool-call fragments assembled by index, as OpenAI documents them:
    // the first fragment of a call carries id, type and name.
    const messages = [{ role: 'user', content: 'Run `echo hello-from-aura` and tell me what it printed.' }];
    const { data: stream, response } = await client.chat.completions
      .create({ model, messages, tools: [CHAT_TOOL], stream: true, stream_options: { include_usage: true } })
      .withResponse();
    const calls = [];
    let finish = null;
    let usage = null;
    let aura = null;
    for await (const chunk of stream) {
      for (const ch of chunk.choices || []) {
        for (const tc of (ch.delta && ch.delta.tool_calls) || []) {
          if (!calls[tc.index]) calls[tc.index] = { id: tc.id, type: tc.type, name: tc.function && tc.function.name, arguments: '' };
          if (tc.function && tc.function.arguments) calls[tc.index].arguments += tc.function.arguments;
        }
        if (ch.finish_reason) finish = ch.finish_reason;
      }
      if (chunk.usage) usage = chunk.usage;
      if (chunk.aura) aura = chunk.aura;
    }
    return { request_ids: [rid(response)], finish_reason: finish, calls, usage, aura };
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
    error: String(e && e.message || e),
    status: e && e.status,
    body: e && e.error,
    request_id: e && e.headers && (e.headers.get ? e.headers.get('x-aura-request-id') : e.headers['x-aura-request-id']),
  }) + '\n');
  process.exit(1);
});
