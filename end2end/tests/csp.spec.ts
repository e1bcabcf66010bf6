import { test, expect } from '@playwright/test';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createProject, dsnParts, ready, signIn } from './support';

// A shop page whose Content-Security-Policy sends its violation reports to Faultline: Chromium
// itself blocks an image and posts the report, which becomes an issue a person can open.

test('a CSP violation reported by Chromium becomes an issue', async ({ page, context }) => {
  await signIn(page);
  const { key, host, project } = dsnParts(await createProject(page, 'csp-shop', 'javascript'));
  const reportUri = `http://${host}/api/${project}/security/?sentry_key=${key}`;

  const shop = http.createServer((_req, res) => {
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': `img-src 'self'; report-uri ${reportUri}`,
    });
    res.end('<!doctype html><title>Cart</title><h1>Cart</h1><img src="http://cdn.invalid/pixel.png">');
  });
  await new Promise<void>((resolve) => shop.listen(0, '127.0.0.1', resolve));
  const port = (shop.address() as AddressInfo).port;
  try {
    const tab = await context.newPage();
    await tab.goto(`http://127.0.0.1:${port}/cart`);
    await expect(tab.locator('h1')).toHaveText('Cart');

    // The browser sends the report on its own schedule: look until the issue is listed.
    const title = "Blocked 'image' from 'cdn.invalid'";
    await expect(async () => {
      await page.reload();
      await ready(page);
      await expect(page.locator('table.issues tbody tr').filter({ hasText: title })).toHaveCount(1, { timeout: 1_000 });
    }).toPass({ timeout: 30_000 });

    await page.locator('table.issues tbody tr').filter({ hasText: title }).locator('a.title').click();
    await expect(page).toHaveURL(/\/issues\/\d+/);
    await expect(page.getByTestId('issue-title')).toContainText(title);
    await expect(page.getByText('img-src').first()).toBeVisible();
    await expect(page.getByText(`http://127.0.0.1:${port}/cart`).first()).toBeVisible();
  } finally {
    shop.close();
  }
});
