// Drives `bonsai-cli serve` with the official `openai` npm client: models, chat (non-stream and stream),
// completions, and an error. Usage: node openai_npm_client.cjs BASE_URL
const OpenAI = require('openai');
const assert = require('assert');

async function main() {
  const client = new OpenAI({ baseURL: process.argv[2], apiKey: 'local-test-key', maxRetries: 0 });
  let passed = 0;

  const models = await client.models.list();
  assert.ok(models.data.length === 1, 'one model listed');
  const model = models.data[0].id;
  passed++;

  const plain = await client.chat.completions.create({
    model, messages: [{ role: 'user', content: 'Hello' }], max_tokens: 6, temperature: 0,
  });
  assert.strictEqual(plain.object, 'chat.completion');
  assert.strictEqual(typeof plain.choices[0].message.content, 'string');
  assert.ok(['stop', 'length'].includes(plain.choices[0].finish_reason));
  assert.ok(plain.usage.prompt_tokens > 0);
  assert.strictEqual(plain.usage.total_tokens, plain.usage.prompt_tokens + plain.usage.completion_tokens);
  passed++;

  const stream = await client.chat.completions.create({
    model, messages: [{ role: 'user', content: 'Hello' }], max_tokens: 6, temperature: 0, stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let finish = null;
  let usage = null;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    if (!chunk.choices.length) continue;
    text += chunk.choices[0].delta.content || '';
    if (chunk.choices[0].finish_reason) finish = chunk.choices[0].finish_reason;
  }
  assert.strictEqual(text, plain.choices[0].message.content, 'streamed text equals the non-streamed answer');
  assert.strictEqual(finish, plain.choices[0].finish_reason);
  assert.ok(usage && usage.completion_tokens === plain.usage.completion_tokens);
  passed++;

  const completion = await client.completions.create({ model, prompt: 'The fox', max_tokens: 4, temperature: 0 });
  assert.strictEqual(completion.object, 'text_completion');
  assert.strictEqual(typeof completion.choices[0].text, 'string');
  passed++;

  try {
    await client.chat.completions.create({ model, messages: [], max_tokens: 2 });
    assert.fail('empty messages accepted');
  } catch (e) {
    assert.ok(e instanceof OpenAI.BadRequestError, 'a 400 becomes BadRequestError: ' + e);
    assert.ok(String(e.message).includes('messages'));
  }
  passed++;

  console.log(`${passed} passed, 0 failed`);
}

main().catch((e) => {
  console.error('FAIL:', e && e.stack ? e.stack : e);
  console.log('0 passed, 1 failed');
  process.exit(1);
});
