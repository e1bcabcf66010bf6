import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { admin, python, ready, sdkScript } from './support';

// After the foundation story (an administrator exists): an application with the real Python
// Sentry SDK sends errors to a new project's DSN, and they show up as grouped issues.
test.describe.configure({ mode: 'serial' });

const script = sdkScript('send_python.py');

test('errors sent by the Python SDK appear as grouped issues', async ({ page, request }) => {
  await page.goto('/login');
  await ready(page);
  await page.getByLabel('E-mail').fill(admin.email);
  await page.getByLabel('Password').fill(admin.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('current-user')).toHaveText(admin.email);

  await page.goto('/');
  await ready(page);
  await page.getByLabel('Name', { exact: true }).first().fill('checkout');
  await page.getByLabel('Platform').selectOption('python');
  await page.getByRole('button', { name: 'Create project' }).click();
  await expect(page).toHaveURL(/\/projects\/\d+$/);
  await expect(page.locator('table.issues')).toHaveCount(0);
  const dsn = await page.getByTestId('dsn').inputValue();

  execFileSync(python, [script, dsn], { stdio: 'pipe', timeout: 60_000 });

  // An attacker-controlled string, straight to the envelope endpoint.
  const [, key, host, project] = dsn.match(/^http:\/\/([0-9a-f]+)@([^/]+)\/(\d+)$/)!;
  const evil = '<img src=x onerror="window.__owned=1">';
  const envelope = `{}\n{"type":"event"}\n${JSON.stringify({ exception: { values: [{ type: 'Evil', value: evil }] } })}\n`;
  const res = await request.post(`http://${host}/api/${project}/envelope/?sentry_key=${key}&sentry_version=7`, {
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
