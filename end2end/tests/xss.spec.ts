import { test, expect, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { createProject, python, ready, sdkScript, sendEvent, signIn } from './support';

// Stored XSS, tried as an attacker with a public DSN would: every field of an event holds
// markup that breaks out of text, attributes, <title>, <style> and comments, sent raw and by
// the real Python SDK. Every page that shows them is loaded many times (with and without
// the data ready before the head is flushed) as a signed-in administrator; the test fails
// on any dialog, any script the CSP had to refuse, or any markup that reached the DOM.

const payloads = [
  'x </title><script>alert(document.domain)</script>',
  '"><img src=x onerror=alert(1)>',
  "'><svg onload=alert(2)>",
  '</style><script>alert(3)</script>',
  '<!-- <script>alert(4)</script> -->',
  'javascript:alert(5)',
  '</script><script>alert(6)</script>',
];
const evil = payloads.join(' ');

function hostileEvent(n: number) {
  const p = payloads[n % payloads.length];
  return {
    message: `${p} #${n}`,
    level: 'error',
    release: `r${n}</title><script>alert(7)</script>`,
    environment: `<b>env</b>${n}`,
    tags: { region: p, [`k${n}`]: evil },
    user: { id: p, email: `${p}@example.com`, username: p },
    breadcrumbs: { values: [{ message: p, category: p, data: { url: 'javascript:alert(8)' } }] },
    request: { url: `https://shop.example/${encodeURIComponent(p)}?q=${p}`, method: 'GET', headers: { 'User-Agent': p, Referer: 'javascript:alert(9)' } },
    exception: {
      values: [{
        type: `Err${n}</title>`,
        value: p,
        stacktrace: { frames: [{ filename: `javascript:alert(10)/${p}.py`, function: p, lineno: 3, context_line: p, pre_context: [p], post_context: [p], in_app: true, vars: { v: p } }] },
      }],
    },
    extra: { html: evil },
    contexts: { runtime: { name: p, version: p }, browser: { name: p } },
  };
}

async function watch(page: Page) {
  const seen = { dialogs: [] as string[], violations: 0 };
  page.on('dialog', async (d) => { seen.dialogs.push(d.message()); await d.dismiss(); });
  await page.exposeFunction('__cspViolation', () => { seen.violations += 1; });
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', () => (window as any).__cspViolation());
  });
  return seen;
}

/** No element the payloads would create, and no handler attribute anywhere. */
async function expectNoInjectedMarkup(page: Page) {
  const found = await page.evaluate(() => {
    const bad: string[] = [];
    for (const el of Array.from(document.querySelectorAll('img[src="x"], svg[onload], main b, main i, script:not([nonce]), [onerror], [onload]'))) {
      bad.push(el.outerHTML.slice(0, 120));
    }
    for (const a of Array.from(document.querySelectorAll('a[href]'))) {
      if ((a.getAttribute('href') ?? '').trim().toLowerCase().startsWith('javascript:')) bad.push(a.outerHTML.slice(0, 120));
    }
    return bad;
  });
  expect(found).toEqual([]);
}

test('event markup never runs or renders, on any page, under the strict CSP', async ({ page, request }) => {
  test.setTimeout(240_000);
  const seen = await watch(page);
  await signIn(page);
  const dsn = await createProject(page, 'xss-shop', 'python');
  for (let n = 0; n < payloads.length; n++) await sendEvent(request, dsn, hostileEvent(n));
  // The real SDK, with the same strings in a message, a tag, the user and an exception.
  execFileSync(python, [sdkScript('hostile_app.py')], { env: { ...process.env, SENTRY_DSN: dsn, EVIL: evil } });

  const projectUrl = new URL(page.url()).pathname;
  await page.goto(projectUrl);
  await ready(page);
  await expect(page.locator('table.issues tbody tr')).toHaveCount(payloads.length + 1, { timeout: 30_000 });
  const issueLinks = await page.locator('table.issues tbody tr a.title').evaluateAll((as) => as.map((a) => a.getAttribute('href')!));

  const pages = [projectUrl, `${projectUrl}/releases`, '/issues', ...issueLinks];
  for (let round = 0; round < 4; round++) {
    for (const url of pages) {
      const res = await page.goto(url);
      expect(res!.status(), url).toBe(200);
      const csp = res!.headers()['content-security-policy'];
      expect(csp, url).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=_-]+' 'wasm-unsafe-eval'/);
      await ready(page);
      // The title reads as sent: text, not double-escaped.
      expect(await page.title(), url).not.toContain('&lt;');
      await expectNoInjectedMarkup(page);
    }
  }
  expect(seen.dialogs).toEqual([]);
  expect(seen.violations).toBe(0);
  // And the strings are there, as text.
  await page.goto(issueLinks[0]);
  await ready(page);
  await expect(page.getByText('alert(', { exact: false }).first()).toBeVisible();
});
