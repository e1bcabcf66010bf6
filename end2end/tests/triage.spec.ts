import { test, expect, type Page, type APIRequestContext } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { admin, createProject, envelopeUrl, python, ready, sdkScript, signIn } from './support';

// Triage in the issue list: errors from the real Python SDK, from @sentry/browser in a real
// page, and crafted envelopes; sorting, filters, the query box, actions one by one and in
// bulk, keyboard shortcuts, live updates, pagination and the back button.
test.describe.configure({ mode: 'serial' });

const script = sdkScript('send_python.py');
let listUrl = '';
let dsn = '';

/** Posts one event to the DSN's project, as an SDK would. */
async function send(request: APIRequestContext, event: Record<string, unknown>) {
  const body = `{}\n{"type":"event"}\n${JSON.stringify({ event_id: randomUUID().replace(/-/g, ''), ...event })}\n`;
  const res = await request.post(envelopeUrl(dsn), {
    data: body,
    headers: { 'content-type': 'text/plain' },
  });
  expect(res.status()).toBe(200);
}

function error(type: string, value: string, fn: string, extra: Record<string, unknown> = {}) {
  return {
    platform: 'python',
    level: 'error',
    exception: { values: [{ type, value, stacktrace: { frames: [{ module: 'shop.db', function: fn, in_app: true, lineno: 3 }] } }] },
    ...extra,
  };
}

const rows = (page: Page) => page.locator('table.issues tbody tr');
const row = (page: Page, text: string | RegExp) => rows(page).filter({ hasText: text });

test('a project fills with issues from real SDKs', async ({ page, request }) => {
  await signIn(page);
  dsn = await createProject(page, 'triage', 'python');
  listUrl = new URL(page.url()).pathname;
  // An empty project shows how to send the first events instead of an empty table.
  await expect(page.getByRole('heading', { name: /send the first ones/ })).toBeVisible();

  execFileSync(python, [script, dsn], { stdio: 'pipe', timeout: 60_000 });
  for (const user of ['a', 'b', 'c']) {
    await send(request, error('DatabaseError', 'too many connections', 'connect', {
      level: 'fatal', environment: 'production', release: 'shop@1.0.0', user: { id: user },
    }));
  }
  await send(request, error('TemplateError', '<script>window.__owned=1</script>', 'render', { environment: 'production' }));

  await page.reload();
  await ready(page);
  await expect(rows(page)).toHaveCount(7);
  await expect(page.getByTestId('total')).toHaveText('7 issues');
  await expect(row(page, 'DatabaseError').locator('td.num').first()).toHaveText('3');
  await expect(row(page, 'DatabaseError').locator('td.num').nth(1)).toHaveText('3');
  await expect(row(page, 'DatabaseError').locator('.badge.new')).toBeVisible();
  await expect(row(page, 'DatabaseError').locator('svg.spark rect')).toHaveCount(24);
  // A script in an event is text, never markup.
  await expect(row(page, '<script>window.__owned=1</script>')).toHaveCount(1);
  expect(await page.evaluate(() => (window as any).__owned)).toBeUndefined();
});

test('sorting, filters and the query box change the rows and the URL', async ({ page }) => {
  await signIn(page);
  await page.goto(listUrl);
  await ready(page);

  await page.getByLabel('Sort').selectOption('freq');
  await expect(page).toHaveURL(/sort=freq/);
  await expect(rows(page).first()).toContainText('DatabaseError');
  await expect(rows(page).nth(1)).toContainText(/ZeroDivisionError|payment-gateway|TimeoutError|ConnectionError/);

  await page.getByLabel('Level').selectOption('warning');
  await expect(page).toHaveURL(/level%3Awarning/);
  await expect(rows(page)).toHaveCount(1);
  await expect(rows(page).first()).toContainText('Payment failed for order 1234');

  await page.getByLabel('Level').selectOption('');
  await page.getByLabel('Environment').selectOption('production');
  await expect(rows(page)).toHaveCount(2);
  await page.getByLabel('Release').selectOption('shop@1.0.0');
  await expect(rows(page)).toHaveCount(1);
  await expect(rows(page).first()).toContainText('DatabaseError');

  // The query box: free text, keys, and a clear error for a key it does not know.
  const box = page.getByRole('searchbox', { name: 'Search issues' });
  await box.fill('is:unresolved KeyError');
  await box.press('Enter');
  await expect(rows(page)).toHaveCount(1);
  await expect(rows(page).first()).toContainText("KeyError: 'id'");
  await box.fill('environment:staging level:error user.email:ann@example.com');
  await box.press('Enter');
  await expect(rows(page)).toHaveCount(4);
  await box.fill('browser:firefox level:warning');
  await box.press('Enter');
  await expect(page.locator('.query-errors')).toContainText('Unknown search key `browser`');
  await expect(rows(page)).toHaveCount(1);

  // The back button walks the states the URL carried.
  await page.goBack();
  await expect(rows(page)).toHaveCount(4);
  await expect(box).toHaveValue('environment:staging level:error user.email:ann@example.com');
  await page.goBack();
  await expect(rows(page)).toHaveCount(1);
  await expect(rows(page).first()).toContainText('KeyError');
});

test('resolve, ignore and reopen move issues between views; bulk actions', async ({ page }) => {
  await signIn(page);
  await page.goto(listUrl);
  await ready(page);
  await expect(rows(page)).toHaveCount(7);

  // One issue, by its checkbox.
  await row(page, 'KeyError').getByRole('checkbox').check();
  await expect(page.getByTestId('selected-count')).toHaveText('1 selected');
  await page.getByRole('button', { name: 'Resolve', exact: true }).click();
  await expect(rows(page)).toHaveCount(6);
  await expect(row(page, 'KeyError')).toHaveCount(0);
  await page.getByRole('tab', { name: 'Resolved', exact: true }).click();
  await expect(page).toHaveURL(/is%3Aresolved/);
  await expect(rows(page)).toHaveCount(1);
  await expect(rows(page).first()).toContainText('KeyError');

  // Reopen from the resolved view.
  await row(page, 'KeyError').getByRole('checkbox').check();
  await page.getByRole('button', { name: 'Reopen' }).click();
  await expect(rows(page)).toHaveCount(0);
  await page.getByRole('tab', { name: 'Unresolved', exact: true }).click();
  await expect(rows(page)).toHaveCount(7);

  // Ignore two at once, find them under Ignored.
  await row(page, 'ValueError').getByRole('checkbox').check();
  await row(page, 'Payment failed').getByRole('checkbox').check();
  await expect(page.getByTestId('selected-count')).toHaveText('2 selected');
  await page.getByRole('button', { name: 'Ignore', exact: true }).click();
  await expect(rows(page)).toHaveCount(5);
  await page.getByRole('tab', { name: 'Ignored', exact: true }).click();
  await expect(rows(page)).toHaveCount(2);

  // Select all on the page, reopen all, then assign two to me.
  await page.getByRole('checkbox', { name: 'Select all on this page' }).check();
  await expect(page.getByTestId('selected-count')).toHaveText('2 selected');
  await page.getByRole('button', { name: 'Reopen' }).click();
  await expect(rows(page)).toHaveCount(0);
  await page.getByRole('tab', { name: 'All', exact: true }).click();
  await expect(rows(page)).toHaveCount(7);
  await row(page, 'DatabaseError').getByRole('checkbox').check();
  await page.getByLabel('Assign selected').selectOption({ label: 'me' });
  await expect(row(page, 'DatabaseError').locator('td.assignee')).toHaveText(admin.email);
  await page.getByLabel('Assignee').selectOption('me');
  await expect(rows(page)).toHaveCount(1);
});

test('keyboard triage', async ({ page }) => {
  await signIn(page);
  await page.goto(`${listUrl}?query=is:unresolved&sort=freq`);
  await ready(page);
  await expect(rows(page)).toHaveCount(7);

  await page.keyboard.press('?');
  await expect(page.getByRole('dialog', { name: 'Keyboard shortcuts' })).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByRole('dialog', { name: 'Keyboard shortcuts' })).toHaveCount(0);

  await page.keyboard.press('j');
  await expect(rows(page).first()).toHaveClass(/focused/);
  await expect(rows(page).first()).toContainText('DatabaseError');
  await page.keyboard.press('j');
  await expect(rows(page).nth(1)).toHaveClass(/focused/);
  await page.keyboard.press('k');
  await expect(rows(page).first()).toHaveClass(/focused/);
  // r resolves the highlighted issue; it leaves the unresolved view.
  await page.keyboard.press('r');
  await expect(rows(page)).toHaveCount(6);
  await expect(row(page, 'DatabaseError')).toHaveCount(0);
  // x selects, i ignores the selection.
  await page.keyboard.press('j');
  await page.keyboard.press('x');
  await expect(page.getByTestId('selected-count')).toHaveText('1 selected');
  await page.keyboard.press('i');
  await expect(rows(page)).toHaveCount(5);
  // a assigns the highlighted issue to me.
  await page.keyboard.press('j');
  await page.keyboard.press('a');
  await expect(page.locator('tr.focused td.assignee')).toHaveText(admin.email);

  // / focuses the search box; typing there does not trigger shortcuts.
  await page.keyboard.press('/');
  await expect(page.getByRole('searchbox', { name: 'Search issues' })).toBeFocused();
  await page.keyboard.type('r');
  await expect(rows(page)).toHaveCount(5);
  await page.keyboard.press('Escape');

  // Enter opens the highlighted issue.
  await page.keyboard.press('j');
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/issues\/\d+$/);
});

test('new events and issues appear live, keeping the selection', async ({ page, request }) => {
  await signIn(page);
  await page.goto(`${listUrl}?query=is:unresolved&sort=date`);
  await ready(page);
  const before = await rows(page).count();
  const picked = (await rows(page).first().locator('a.title').textContent())!;
  await row(page, picked).getByRole('checkbox').check();

  await send(request, error('LiveError', 'arrived while watching', 'watch'));
  await expect(row(page, 'LiveError: arrived while watching')).toHaveCount(1, { timeout: 15_000 });
  await expect(rows(page)).toHaveCount(before + 1);
  await expect(row(page, picked).getByRole('checkbox')).toBeChecked();
  await expect(page.getByTestId('selected-count')).toHaveText('1 selected');

  // A new event of a listed issue updates its count in place.
  await send(request, error('LiveError', 'arrived while watching', 'watch'));
  await expect(row(page, 'LiveError').locator('td.num').first()).toHaveText('2');
});

test('an error thrown in a real browser page by @sentry/browser', async ({ page, browser }) => {
  // A page of the "shop" application, served by its own local web server (another origin, so
  // the SDK's requests are real cross-origin requests), with the real browser SDK.
  const esbuild = await import('esbuild');
  const bundle = await esbuild.build({
    stdin: {
      contents: `import * as Sentry from '@sentry/browser';
        Sentry.init({ dsn: ${JSON.stringify(dsn)}, release: 'web@3.1.0', environment: 'browser-test' });
        window.checkout = function checkout(cart) { return cart.items.length; };
        document.getElementById('buy').addEventListener('click', () => window.checkout(undefined));`,
      resolveDir: path.resolve(__dirname, '..'),
    },
    bundle: true,
    write: false,
    format: 'iife',
  });
  const app = http.createServer((req, res) => {
    if (req.url === '/app.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle.outputFiles[0].text);
    } else {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<button id="buy">Buy</button><script src="/app.js"></script>');
    }
  });
  await new Promise<void>((ok) => app.listen(0, '127.0.0.1', ok));
  const origin = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
  const shop = await browser.newPage();
  await shop.goto(`${origin}/`);
  // The SDK also sends a session at start; wait for the envelope that carries the error.
  const sent = shop.waitForResponse(
    (r) => r.url().includes('/envelope/') && r.status() === 200 && (r.request().postData() ?? '').includes('"type":"event"'),
  );
  await shop.click('#buy');
  await sent;
  await shop.close();
  app.close();

  await signIn(page);
  await page.goto(`${listUrl}?query=is:unresolved environment:browser-test`);
  await ready(page);
  await expect(rows(page)).toHaveCount(1);
  await expect(rows(page).first()).toContainText('TypeError');
  await expect(rows(page).first().locator('.platform')).toHaveText('javascript');
});

test('pagination with cursors, and the list across projects', async ({ page, request }) => {
  for (let k = 0; k < 27; k++) {
    await send(request, error(`Bulk${k}Error`, 'one of many', `bulk${k}`, { environment: 'bulk' }));
  }
  await signIn(page);
  await page.goto(`${listUrl}?query=environment:bulk`);
  await ready(page);
  await expect(page.getByTestId('total')).toHaveText('27 issues');
  await expect(rows(page)).toHaveCount(25);
  const firstPage = await rows(page).locator('a.title').allTextContents();
  await page.getByRole('link', { name: 'Next page »' }).click();
  await expect(page).toHaveURL(/cursor=/);
  await expect(rows(page)).toHaveCount(2);
  const second = await rows(page).locator('a.title').allTextContents();
  expect(second.filter((t) => firstPage.includes(t))).toEqual([]);
  await page.getByRole('link', { name: '« First page' }).click();
  await expect(rows(page)).toHaveCount(25);

  // Every project the user can see, with the project named on each row.
  await page.goto('/issues?query=is:unresolved TemplateError');
  await ready(page);
  await expect(rows(page)).toHaveCount(1);
  await expect(rows(page).first().locator('.project')).toHaveText('triage');
});
