// The shop's conversation tests (tests/conversations/*.yaml), played through Sportello's real
// pipeline by its public runner, with the project's SMS channel and settings, and the order-status
// action asking a fake order service.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runConversationTests } from 'sportello';
import project from '../sportello.config.js';
import { startOrderService } from '../order-service/server.js';

test('the conversation tests pass', async () => {
  const orders = await startOrderService();
  // The action reads ORDERS_API_URL when it runs.
  process.env.ORDERS_API_URL = orders.url;
  try {
    const report = await runConversationTests(['tests/conversations'], {
      env: { ...project.env, ...process.env, ORDERS_API_URL: orders.url },
      channels: project.channels,
      onFailure: (f) => console.log(`FAIL ${f.file}${f.line ? `:${f.line}` : ''} turn ${f.turn}: ${f.message}`),
    });
    console.log(`${report.passed} passed, ${report.failed} failed`);
    assert.equal(report.failed, 0, 'a conversation test failed (see FAIL lines above)');
    assert.ok(report.passed >= 5, `only ${report.passed} conversation tests ran`);
  } finally {
    await orders.close();
  }
});
