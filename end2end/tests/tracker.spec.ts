import { test, expect } from '@playwright/test';
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createProject, ready, sendEvent, signIn } from './support';

// A GitLab issue from an error, in two clicks: the project's GitLab integration (a local
// server plays GitLab and GitHub and records what it gets), a refused token shown clearly
// with nothing linked, then the issue created and linked; an existing issue linked by URL.
// Then one GitHub issue for a selection in the issue list, linked to each selected issue,
// and a link removed from one of them.
test.describe.configure({ mode: 'serial' });

const token = 'glpat-SECRET-123';
const githubToken = 'ghp_SECRET_456';
const received: { path: string; token: string; body: { title: string; description: string; body?: string } }[] = [];
let gitlab: http.Server;
let gitlabUrl = '';

test.beforeAll(async () => {
  gitlab = http.createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if ((req.url ?? '').startsWith('/repos/')) {
        // GitHub: POST /repos/:owner/:repo/issues with a bearer token.
        const bearer = String(req.headers['authorization'] ?? '');
        received.push({ path: req.url ?? '', token: bearer, body: JSON.parse(data || '{}') });
        if (bearer !== `Bearer ${githubToken}`) {
          res.statusCode = 401;
          res.end('{"message":"Bad credentials"}');
          return;
        }
        res.statusCode = 201;
        res.end(JSON.stringify({ number: 34, html_url: 'https://github.com/acme/shop/issues/34' }));
        return;
      }
      const given = String(req.headers['private-token'] ?? '');
      received.push({ path: req.url ?? '', token: given, body: JSON.parse(data || '{}') });
      if (given !== token) {
        res.statusCode = 401;
        res.end('{"message":"401 Unauthorized"}');
        return;
      }
      res.statusCode = 201;
      res.end(JSON.stringify({ iid: 12, web_url: 'https://gitlab.example.com/acme/shop/-/issues/12' }));
    });
  });
  await new Promise<void>((done) => gitlab.listen(0, '127.0.0.1', done));
  gitlabUrl = `http://127.0.0.1:${(gitlab.address() as AddressInfo).port}`;
});

test.afterAll(() => gitlab.close());

test('create a GitLab issue from an error, and link an existing one', async ({ page, request }) => {
  await signIn(page);
  const dsn = await createProject(page, 'tracked', 'python');
  const projectUrl = new URL(page.url()).pathname;
  const event = {
    event_id: randomUUID().replace(/-/g, ''),
    platform: 'python',
    level: 'error',
    exception: { values: [{ type: 'KeyError', value: "'sku'", stacktrace: { frames: [
      { filename: 'shop/cart.py', function: 'add', lineno: 41, in_app: true, context_line: '    item = catalog[sku]' },
    ] } }] },
  };
  await sendEvent(request, dsn, event);

  // The integration, with a token GitLab will refuse.
  await page.goto(`${projectUrl}/settings`);
  await ready(page);
  const form = page.locator('form[data-tracker="gitlab"]');
  await form.getByLabel('GitLab URL').fill(gitlabUrl);
  await form.getByLabel('Project').fill('acme/shop');
  await form.getByLabel('Token').fill('wrong-token');
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByTestId('trackers-settings').locator('.badge', { hasText: 'set up' })).toHaveCount(1);

  // From the issue page: the prefilled form, then GitLab's refusal, and no link.
  await page.goto(projectUrl);
  await ready(page);
  await page.locator('table.issues tbody tr').filter({ hasText: 'KeyError' }).locator('a.title').click();
  await expect(page.getByTestId('event')).toBeVisible();
  await ready(page);
  const issueUrl = page.url();
  await page.getByRole('button', { name: 'Create GitLab issue' }).click();
  const draft = page.getByTestId('tracker-form');
  await expect(draft.getByLabel('Title')).toHaveValue("KeyError: 'sku'");
  await expect(draft.getByLabel('Description (Markdown)')).toHaveValue(/shop\/cart\.py:41 in add\n {4}item = catalog\[sku\]/);
  await expect(draft.getByLabel('Description (Markdown)')).toHaveValue(/\[View the issue in Faultline\]\(http.*\/issues\/\d+\)/);
  await draft.getByLabel('Title').fill('KeyError in the cart');
  await draft.getByRole('button', { name: 'Create GitLab issue' }).click();
  await expect(draft.getByRole('alert')).toContainText('GitLab refused the token (401 Unauthorized)');
  await expect(page.getByTestId('tracker-link')).toHaveCount(0);
  expect(received.at(-1)!.token).toBe('wrong-token');

  // A good token (saved, never shown again), and the issue is created and linked.
  await page.goto(`${projectUrl}/settings`);
  await ready(page);
  await page.locator('form[data-tracker="gitlab"]').getByLabel('Token').fill(token);
  await page.locator('form[data-tracker="gitlab"]').getByRole('button', { name: 'Save' }).click();
  await page.reload();
  await ready(page);
  expect(await page.content()).not.toContain(token);
  await expect(page.locator('form[data-tracker="gitlab"]').getByLabel('Project')).toHaveValue('acme/shop');

  await page.goto(issueUrl);
  await ready(page);
  await page.getByRole('button', { name: 'Create GitLab issue' }).click();
  await page.getByTestId('tracker-form').getByRole('button', { name: 'Create GitLab issue' }).click();
  const link = page.getByTestId('tracker-link');
  await expect(link).toHaveText('GitLab #12');
  await expect(link).toHaveAttribute('href', 'https://gitlab.example.com/acme/shop/-/issues/12');
  await expect(page.getByTestId('tracker-form')).toHaveCount(0);
  const sent = received.at(-1)!;
  expect(sent.path).toBe('/api/v4/projects/acme%2Fshop/issues');
  expect(sent.token).toBe(token);
  expect(sent.body.title).toBe("KeyError: 'sku'");
  expect(sent.body.description).toContain('shop/cart.py:41 in add');

  // An existing issue, by its URL.
  await page.getByRole('button', { name: 'Link an issue' }).click();
  await page.getByLabel('Issue URL').fill('https://github.com/acme/shop/issues/7');
  await page.getByRole('button', { name: 'Link', exact: true }).click();
  await expect(page.getByTestId('tracker-link')).toHaveCount(2);
  await expect(page.getByTestId('tracker-link').nth(1)).toHaveText('GitHub #7');
  // They stay after a reload.
  await page.reload();
  await ready(page);
  await expect(page.getByTestId('tracker-link')).toHaveCount(2);
});

test('one GitHub issue for a selection of errors, and a link removed', async ({ page, request }) => {
  await signIn(page);
  const dsn = await createProject(page, 'selected', 'python');
  const projectUrl = new URL(page.url()).pathname;
  for (const [type, fn] of [['TypeError', 'total'], ['ValueError', 'parse'], ['IndexError', 'first']]) {
    const event = {
      event_id: randomUUID().replace(/-/g, ''),
      platform: 'python',
      level: 'error',
      exception: { values: [{ type, value: `bad ${fn}`, stacktrace: { frames: [
        { filename: `shop/${fn}.py`, function: fn, lineno: 3, in_app: true, context_line: `    return ${fn}(x)` },
      ] } }] },
    };
    await sendEvent(request, dsn, event);
  }

  await page.goto(`${projectUrl}/settings`);
  await ready(page);
  const form = page.locator('form[data-tracker="github"]');
  await form.getByLabel('API URL').fill(gitlabUrl);
  await form.getByLabel('Repository').fill('acme/shop');
  await form.getByLabel('Token').fill(githubToken);
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByTestId('trackers-settings').locator('.badge', { hasText: 'set up' })).toHaveCount(1);

  // The project's overview chart: 48 hours, this hour's bar holds the three events.
  await page.goto(projectUrl);
  await ready(page);
  const chart = page.getByTestId('project-chart');
  await expect(chart.locator('rect')).toHaveCount(48);
  await expect(chart.locator('rect').last()).toHaveAttribute('data-events', '3');
  await expect(chart).toContainText('3 in the last 24 hours');

  // Two of the three, in one GitHub issue.
  const row = (text: string) => page.locator('table.issues tbody tr').filter({ hasText: text });
  const bulk = page.locator('.bulk');
  await expect(bulk.getByRole('button', { name: 'Create GitHub issue' })).toBeDisabled();
  await row('TypeError').getByRole('checkbox').check();
  await row('ValueError').getByRole('checkbox').check();
  await bulk.getByRole('button', { name: 'Create GitHub issue' }).click();
  const draft = page.getByTestId('tracker-form');
  await expect(draft.getByRole('heading')).toHaveText('New GitHub issue for 2 issues');
  await expect(draft.getByLabel('Title')).toHaveValue(/^2 errors in selected: (TypeError: bad total|ValueError: bad parse)$/);
  const description = draft.getByLabel('Description (Markdown)');
  await expect(description).toHaveValue(/^2 errors in `selected`\n/);
  await expect(description).toHaveValue(/### 1\. `/);
  await expect(description).toHaveValue(/shop\/total\.py:3 in total/);
  await expect(description).toHaveValue(/shop\/parse\.py:3 in parse/);
  await expect(description).not.toHaveValue(/IndexError/);
  await draft.getByRole('button', { name: 'Create GitHub issue' }).click();
  await expect(page.getByTestId('linked')).toHaveText('GitHub #34 is linked to 2 issues.');
  await expect(page.getByTestId('tracker-form')).toHaveCount(0);
  const sent = received.at(-1)!;
  expect(sent.path).toBe('/repos/acme/shop/issues');
  expect(sent.token).toBe(`Bearer ${githubToken}`);
  expect(sent.body.body).toContain('shop/parse.py:3 in parse');

  // Each selected issue shows the link; removing it from one leaves the other's.
  await row('TypeError').locator('a.title').click();
  await ready(page);
  await expect(page.getByTestId('tracker-link')).toHaveText('GitHub #34');
  await page.getByRole('button', { name: 'Unlink GitHub #34' }).click();
  await expect(page.getByTestId('tracker-link')).toHaveCount(0);
  await page.reload();
  await ready(page);
  await expect(page.getByTestId('trackers')).toBeVisible();
  await expect(page.getByTestId('tracker-link')).toHaveCount(0);
  await page.goto(projectUrl);
  await ready(page);
  await row('ValueError').locator('a.title').click();
  await ready(page);
  await expect(page.getByTestId('tracker-link')).toHaveText('GitHub #34');
  await page.goto(projectUrl);
  await ready(page);
  await row('IndexError').locator('a.title').click();
  await ready(page);
  await expect(page.getByTestId('trackers')).toBeVisible();
  await expect(page.getByTestId('tracker-link')).toHaveCount(0);
});
