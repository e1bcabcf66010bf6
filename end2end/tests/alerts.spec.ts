import { test, expect } from '@playwright/test';
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createProject, envelopeUrl, ready, signIn } from './support';

// The team hears about new errors: an alert rule set up on the project's alerts page posts
// to a webhook (a local receiver the test starts) when a new issue appears, and the page's
// log shows the delivery.
test.describe.configure({ mode: 'serial' });

const received: Record<string, unknown>[] = [];
let hook: http.Server;
let hookUrl = '';

test.beforeAll(async () => {
  hook = http.createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      received.push(JSON.parse(data || '{}'));
      res.end('ok');
    });
  });
  await new Promise<void>((done) => hook.listen(0, '127.0.0.1', done));
  hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
});

test.afterAll(() => hook.close());

test('a new-issue rule posts to a webhook, and the log shows it', async ({ page, request }) => {
  await signIn(page);
  const dsn = await createProject(page, 'alerted', 'python');
  await page.getByRole('link', { name: 'Alerts' }).click();
  await expect(page).toHaveURL(/\/alerts$/);
  await ready(page);
  await expect(page.getByTestId('no-rules')).toBeVisible();

  const form = page.getByTestId('new-rule');
  await form.getByLabel('When').selectOption('events');
  await form.getByLabel('URL or addresses').fill(hookUrl);
  await form.getByRole('button', { name: 'Add rule' }).click();
  await expect(page.getByRole('alert')).toContainText('Give N');
  await form.getByLabel('When').selectOption('new_issue');
  await form.getByLabel('Environment').fill('production');
  await form.getByRole('button', { name: 'Add rule' }).click();
  await expect(page.getByTestId('rules').locator('tbody tr')).toHaveCount(1);
  await expect(page.getByTestId('rules')).toContainText('A new issue, environment production');

  for (const environment of ['staging', 'production']) {
    const event = {
      event_id: randomUUID().replace(/-/g, ''),
      platform: 'python',
      level: 'error',
      environment,
      exception: { values: [{ type: `${environment}Error`, value: 'down', stacktrace: { frames: [
        { filename: 'app.py', function: 'main', lineno: 1, in_app: true },
      ] } }] },
    };
    const res = await request.post(envelopeUrl(dsn), {
      data: `{}\n{"type":"event"}\n${JSON.stringify(event)}\n`,
      headers: { 'content-type': 'text/plain' },
    });
    expect(res.status()).toBe(200);
  }

  // Only the production issue alerts.
  await expect.poll(() => received.length, { timeout: 15_000 }).toBe(1);
  const body = received[0] as { event: string; issue: { title: string; url: string } };
  expect(body.event).toBe('new_issue');
  expect(body.issue.title).toBe('productionError: down');

  await expect.poll(async () => {
    await page.reload();
    await ready(page);
    return page.getByTestId('deliveries').locator('tbody tr[data-status="sent"]').count();
  }, { timeout: 15_000 }).toBe(1);
  await page.getByTestId('deliveries').locator('tbody tr a').click();
  await expect(page.getByTestId('issue-title')).toHaveText('productionError: down');
});
