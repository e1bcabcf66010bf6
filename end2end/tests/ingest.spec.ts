import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { createProject, envelopeUrl, python, ready, sdkScript, signIn } from './support';

// After the foundation story (an administrator exists): an application with the real Python
// Sentry SDK sends errors to a new project's DSN, and they show up as grouped issues.
test.describe.configure({ mode: 'serial' });

const script = sdkScript('send_python.py');

test('errors sent by the Python SDK appear as grouped issues', async ({ page, request }) => {
  await signIn(page);
  const dsn = await createProject(page, 'checkout', 'python');
  await expect(page.locator('table.issues')).toHaveCount(0);

  execFileSync(python, [script, dsn], { stdio: 'pipe', timeout: 60_000 });

  // An attacker-controlled string, straight to the envelope endpoint.
  const evil = '<img src=x onerror="window.__owned=1">';
  const envelope = `{}\n{"type":"event"}\n${JSON.stringify({ exception: { values: [{ type: 'Evil', value: evil }] } })}\n`;
  const res = await request.post(envelopeUrl(dsn), {
    data: envelope,
    headers: { 'content-type': 'text/plain' },
  });
  expect(res.status()).toBe(200);

  await page.reload();
  await ready(page);
  const rows = page.locator('table.issues tbody tr');
  await expect(rows).toHaveCount(6);
  const zde = rows.filter({ hasText: 'ZeroDivisionError: division by zero' });
  await expect(zde.locator('.culprit')).toHaveText(/ in divide$/);
  await expect(zde.locator('td.num').first()).toHaveText('2');
  await expect(rows.filter({ hasText: 'Payment failed for order 1234' }).locator('.level')).toHaveText('warning');
  await expect(rows.filter({ hasText: "KeyError: 'id'" })).toHaveCount(1);
  // Rendered as text, never as HTML.
  await expect(rows.filter({ hasText: `Evil: ${evil}` })).toHaveCount(1);
  expect(await page.evaluate(() => (window as any).__owned)).toBeUndefined();
  await expect(page.locator('table.issues img')).toHaveCount(0);
});
