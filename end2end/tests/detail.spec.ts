import { test, expect, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import { admin, createProject, envelopeUrl, python, ready, sdkScript, signIn } from './support';

// The issue page: a chained Python exception sent twice by the real sentry-sdk, read the way
// a developer reads it (stack trace, breadcrumbs, request, user, tags), navigated event by
// event, triaged and commented. Runs after the foundation story (its administrator).
test.describe.configure({ mode: 'serial' });

const script = sdkScript('send_python_detail.py');
const evil = '<script>window.__owned=1</script>';

let issueUrl = '';
let projectUrl = '';
let dsn = '';

/** Opens the issue page and waits until it is interactive. */
async function openIssue(page: Page, url = issueUrl) {
  await page.goto(url);
  await ready(page);
  await expect(page.getByTestId('event')).toBeVisible();
}

test('an issue of two chained-exception events sent by the Python SDK', async ({ page }) => {
  await signIn(page);
  dsn = await createProject(page, 'storefront', 'python');
  projectUrl = new URL(page.url()).pathname;

  execFileSync(python, [script, dsn], { stdio: 'pipe', timeout: 60_000 });

  // From the project's issue list to the issue.
  await page.goto(projectUrl);
  await ready(page);
  const row = page.locator('table.issues tbody tr').filter({ hasText: 'RuntimeError' });
  await expect(row).toHaveCount(1);
  await row.locator('a.title').click();
  await expect(page).toHaveURL(/\/issues\/\d+$/);
  await expect(page.getByTestId('event')).toBeVisible();
  await expect(page.getByTestId('issue-title')).toContainText('RuntimeError');
  issueUrl = new URL(page.url()).pathname;
});

test('the stack trace, with source context, the error line and library frames', async ({ page }) => {
  await signIn(page);
  await openIssue(page);
  await expect(page.getByTestId('issue-title')).toContainText('RuntimeError: checkout failed');
  await expect(page.getByTestId('issue-events')).toHaveText('2');
  await expect(page.getByTestId('issue-status')).toHaveText('unresolved');

  // The chain: the RuntimeError raised last comes first, its cause after it.
  const exceptions = page.getByTestId('exception');
  await expect(exceptions).toHaveCount(2);
  await expect(exceptions.nth(0).locator('.exc-type')).toHaveText('RuntimeError');
  await expect(exceptions.nth(1).locator('.exc-type')).toHaveText('JSONDecodeError');
  await expect(page.locator('.exc-cause')).toHaveText('caused by');

  // The innermost in-app frame is open: its source lines, numbered, the error line marked.
  const cause = exceptions.nth(1);
  const open = cause.locator('.frame.in-app.open');
  await expect(open.locator('.frame-fn')).toHaveText('parse_order');
  await expect(open.locator('.src-line.current code')).toHaveText('return json.loads(text)');
  await expect(open.locator('.src-line.current .ln')).toHaveText(/^\d+$/);
  expect(await open.locator('.src-line').count()).toBeGreaterThan(3);
  const top = exceptions.nth(0).locator('.frame.in-app.open .src-line.current code');
  await expect(top).toContainText('raise RuntimeError(f"checkout failed: {payload}") from e');

  // Local variables on demand.
  await expect(open.getByTestId('vars')).toHaveCount(0);
  await open.getByRole('button', { name: /Local variables/ }).click();
  await expect(open.getByTestId('vars')).toContainText('text');

  // The standard library's frames are folded away until asked for.
  const library = cause.locator('.frame.library');
  expect(await library.count()).toBeGreaterThan(0);
  await expect(library.first()).toBeHidden();
  await expect(cause.locator('.frame-fold').first()).toContainText(/library frames?/);
  await cause.getByTestId('toggle-library').click();
  await expect(library.first()).toBeVisible();
  await expect(cause.locator('.frame.library .frame-file').filter({ hasText: 'decoder.py' }).first()).toBeVisible();
  // A library frame opens on click, showing its own source.
  const decoder = cause.locator('.frame.library').filter({ hasText: 'decoder.py' }).first();
  await decoder.locator('.frame-head').click();
  await expect(decoder.locator('.src-line.current')).toHaveCount(1);
  await cause.getByTestId('toggle-library').click();
  await expect(library.first()).toBeHidden();
});

test('breadcrumbs, request, user, tags, contexts and the tag distribution', async ({ page }) => {
  await signIn(page);
  await openIssue(page);
  const crumbs = page.getByTestId('breadcrumbs');
  await expect(crumbs).toContainText('cart c-1 is slow');
  await expect(crumbs).toContainText('shop.cart');
  await expect(crumbs.locator('tr').filter({ hasText: 'payments.example.com/authorize' }).last()).toContainText('502');
  await expect(crumbs.locator('tr').filter({ hasText: 'cart c-1 is slow' }).last().locator('.crumb-time')).toHaveText(/^-\d/);

  await expect(page.getByTestId('request-line')).toHaveText(/POST\s*https:\/\/shop\.example\.com\/checkout/);
  await expect(page.locator('#request')).toContainText('retry');
  await expect(page.getByTestId('headers')).toContainText('detail-test/1.0');

  await expect(page.getByTestId('user')).toContainText('dana@example.com');
  const tags = page.getByTestId('event-tags');
  await expect(tags.locator('li').filter({ hasText: 'tenant' })).toContainText('acme');
  await expect(page.locator('#contexts [data-context="runtime"]')).toContainText('CPython');
  await expect(page.getByTestId('sdk')).toContainText('sentry.python');

  const dist = page.getByTestId('tag-distribution');
  await expect(dist.locator('[data-tag="environment"]')).toContainText('production');
  await expect(dist.locator('[data-tag="environment"]')).toContainText('100%');
  await expect(dist.locator('[data-tag="release"]')).toContainText('storefront@3.1.0');
  await expect(dist.locator('[data-tag="tenant"]')).toContainText('acme');
  await expect(page.getByTestId('events-chart').locator('.chart .bar')).toHaveCount(24);
  await page.getByTestId('events-chart').getByRole('button', { name: '30 d' }).click();
  await expect(page.getByTestId('events-chart').locator('.chart .bar')).toHaveCount(30);
});

test('navigating between the events; the <script> of an exception message stays text', async ({ page }) => {
  await signIn(page);
  await openIssue(page);
  const event = page.getByTestId('event');
  const latestId = await event.getAttribute('data-event-id');
  await expect(page.locator('.exc-value').first()).toContainText('checkout failed: {"cart": ');
  await expect(page.locator('.nav-buttons').getByText('Newer ›')).toHaveAttribute('aria-disabled', 'true');

  await page.getByRole('link', { name: '‹ Older' }).click();
  await expect(page).toHaveURL(/\/issues\/\d+\/events\/[0-9a-f]{32}$/);
  await expect(event).not.toHaveAttribute('data-event-id', latestId!);
  const olderId = await event.getAttribute('data-event-id');
  expect(page.url()).toContain(olderId!);
  // Rendered as text: the tag is visible as characters and nothing ran.
  await expect(page.locator('.exc-value').first()).toContainText(`checkout failed: ${evil}`);
  await expect(page.locator('article.event script')).toHaveCount(0);
  expect(await page.evaluate(() => (window as any).__owned)).toBeUndefined();
  await expect(page.locator('.nav-buttons').getByText('‹ Older')).toHaveAttribute('aria-disabled', 'true');

  await page.getByRole('link', { name: 'Newer ›' }).click();
  await expect(event).toHaveAttribute('data-event-id', latestId!);
  await page.getByRole('link', { name: 'Oldest' }).click();
  await expect(page).toHaveURL(/\/events\/oldest$/);
  await expect(event).toHaveAttribute('data-event-id', olderId!);
  await page.getByRole('link', { name: 'Latest' }).click();
  await expect(page).toHaveURL(/\/events\/latest$/);
  await expect(event).toHaveAttribute('data-event-id', latestId!);

  // Keyboard: j older, k newer.
  await page.keyboard.press('j');
  await expect(event).toHaveAttribute('data-event-id', olderId!);
  await page.keyboard.press('k');
  await expect(event).toHaveAttribute('data-event-id', latestId!);

  // The permalink of an event opens that event.
  await openIssue(page, `${issueUrl}/events/${olderId}`);
  await expect(event).toHaveAttribute('data-event-id', olderId!);
  await expect(page.getByTestId('event-id')).toHaveAttribute('href', `${issueUrl}/events/${olderId}`);
});

test('the raw event JSON, in the page and as a download', async ({ page, playwright, baseURL }) => {
  await signIn(page);
  await openIssue(page);
  const eventId = (await page.getByTestId('event').getAttribute('data-event-id'))!;
  await page.getByTestId('show-json').click();
  const tree = page.getByTestId('raw-json');
  await expect(tree).toContainText('"event_id"');
  await expect(tree).toContainText(`"${eventId}"`);
  await page.getByTestId('show-json').click();
  await expect(tree).toHaveCount(0);

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-json').click()]);
  expect(download.suggestedFilename()).toBe(`event-${eventId}.json`);
  const json = JSON.parse(fs.readFileSync((await download.path())!, 'utf8'));
  expect(json.event_id).toBe(eventId);
  expect(json.exception.values.length).toBe(2);

  // Without a session there is no JSON, only the way to sign in.
  const anonymous = await playwright.request.newContext({ baseURL });
  const res = await anonymous.get(`${issueUrl}/events/${eventId}/json`, { maxRedirects: 0 });
  expect(res.status()).toBe(303);
  expect(res.headers()['location']).toContain('/login');
  await anonymous.dispose();
});

test('a new event of the issue shows up without a reload', async ({ page }) => {
  await signIn(page);
  await openIssue(page);
  await expect(page.getByTestId('issue-events')).toHaveText('2');
  // The latest event again, under a new id: it groups into this issue.
  const eventId = await page.getByTestId('event').getAttribute('data-event-id');
  const stored = await (await page.request.get(`${issueUrl}/events/${eventId}/json`)).json();
  const event = { ...stored, event_id: randomUUID().replace(/-/g, ''), timestamp: Date.now() / 1000 };
  const res = await page.request.post(envelopeUrl(dsn), {
    data: `{}\n{"type":"event"}\n${JSON.stringify(event)}\n`,
    headers: { 'content-type': 'text/plain' },
  });
  expect(res.status()).toBe(200);
  await expect(page.getByTestId('issue-events')).toHaveText('3');
  await expect(page.getByTestId('tag-distribution').locator('[data-tag="environment"]')).toContainText('3');
});

test('resolve, reopen, ignore, assign and comment', async ({ page }) => {
  await signIn(page);
  await openIssue(page);
  const status = page.getByTestId('issue-status');
  const activity = page.getByTestId('activity');

  await page.getByRole('button', { name: /^Resolve/ }).click();
  await expect(status).toHaveText('resolved');
  await expect(activity).toContainText(`${admin.email} resolved it`);
  // Keyboard: u reopens.
  await page.keyboard.press('u');
  await expect(status).toHaveText('unresolved');
  await expect(activity).toContainText(`${admin.email} reopened it`);

  // Keyboard: i ignores (forever), u brings it back.
  await page.keyboard.press('i');
  await expect(status).toHaveText('ignored');
  await page.keyboard.press('u');
  await expect(status).toHaveText('unresolved');

  // The ignore menu closes with Escape.
  await page.getByRole('button', { name: 'Ignore for a while' }).click();
  await expect(page.getByTestId('ignore-menu')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('ignore-menu')).toHaveCount(0);

  // Ignore for 24 hours, from the menu; then stop ignoring.
  await page.getByRole('button', { name: 'Ignore for a while' }).click();
  await page.getByTestId('ignore-menu').getByRole('button', { name: '24 hours' }).click();
  await expect(status).toHaveText('ignored');
  await expect(activity).toContainText('ignored it for 24 h');
  await page.getByRole('button', { name: /^Stop ignoring/ }).click();
  await expect(status).toHaveText('unresolved');

  // Assign to me (key a), then to nobody.
  await page.keyboard.press('a');
  await expect(page.getByTestId('assignee')).toHaveText(admin.email);
  await expect(activity).toContainText(`assigned it to ${admin.email}`);
  await page.getByTestId('assign').click();
  await page.getByTestId('assign-menu').getByRole('button', { name: 'Nobody' }).click();
  await expect(page.getByTestId('assignee')).toHaveText('nobody');

  // A comment, with markup that stays text; keys typed into the box do not trigger actions.
  const box = page.getByLabel('Comment');
  await box.fill('Looks like the <b>payment</b> gateway. r');
  await box.press('r');
  await page.getByRole('button', { name: 'Comment', exact: true }).click();
  await expect(activity.locator('.comment-text')).toHaveText('Looks like the <b>payment</b> gateway. rr');
  await expect(activity.locator('.comment-text b')).toHaveCount(0);
  await expect(box).toHaveValue('');
  await expect(status).toHaveText('unresolved');

  // Everything is still there after a reload.
  await openIssue(page);
  await expect(activity.locator('.comment-text')).toHaveText('Looks like the <b>payment</b> gateway. rr');
  await expect(activity).toContainText('saw it first');
});

test('deleting the issue leads back to the project', async ({ page }) => {
  await signIn(page);
  await openIssue(page);
  await page.getByRole('button', { name: 'Delete', exact: true }).click();
  await page.getByTestId('confirm-delete').click();
  await expect(page).toHaveURL(new RegExp(`${projectUrl}$`));
  await page.goto(issueUrl);
  await expect(page.getByRole('alert')).toHaveText('Not found.');
});
