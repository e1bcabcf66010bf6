import { test, expect, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createProject, python, ready, signIn } from './support';

// From an error to its fix: a Python app in a git repository (two authors) raises with the
// real sentry-sdk; the issue page names the commit that likely caused it; the developer
// resolves it "in the next release"; an event of the same release leaves it resolved, one of
// the next release brings it back as a regression; the releases page counts it all.
test.describe.configure({ mode: 'serial' });

const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'faultline-repo-'));
const app = path.join(repo, 'shop', 'pricing.py');
let projectUrl = '';
let issueUrl = '';
let dsn = '';
let culprit = '';

const source = (body: string) => `import sys

import sentry_sdk


def unit_price(total, count):
${body}


def main():
    sentry_sdk.init(dsn=sys.argv[1], release=sys.argv[2], in_app_include=["__main__"])
    try:
        unit_price(10, 0)
    except ZeroDivisionError as e:
        sentry_sdk.capture_exception(e)
    sentry_sdk.flush()


main()
`;

function git(...args: string[]): string {
  return execFileSync('git', args, { cwd: repo, encoding: 'utf8' }).trim();
}

function commit(author: string, message: string, body: string): string {
  fs.mkdirSync(path.dirname(app), { recursive: true });
  fs.writeFileSync(app, source(body));
  git('add', '.');
  git('-c', 'user.name=CI', '-c', 'user.email=ci@example.com', '-c', 'commit.gpgsign=false',
    'commit', '-q', '--author', author, '-m', message);
  return git('rev-parse', 'HEAD');
}

/** Runs the app: one ZeroDivisionError of `release`, sent by the real SDK. */
function raise(release: string) {
  execFileSync(python, [app, dsn, release], { cwd: repo, stdio: 'pipe', timeout: 60_000 });
}

async function openIssue(page: Page) {
  await page.goto(issueUrl);
  await ready(page);
  await expect(page.getByTestId('event')).toBeVisible();
}

test('the issue page names the commit that likely caused the error', async ({ page }) => {
  git('init', '-q', '-b', 'main');
  commit('Linus <linus@example.com>', 'Add unit prices', '    return total / max(count, 1)');
  culprit = commit('Ada <ada@example.com>', 'Simplify unit_price', '    return total / count');

  await signIn(page);
  dsn = await createProject(page, 'pricing', 'python');
  projectUrl = new URL(page.url()).pathname;

  // Link the project to the repository: its GitHub page and the clone on this host.
  await page.goto(`${projectUrl}/settings`);
  await ready(page);
  const card = page.getByTestId('repository');
  await card.getByLabel('Web URL').fill('https://github.com/acme/pricing');
  await card.getByLabel('Clone on this host').fill('relative/path');
  await card.getByRole('button', { name: 'Save' }).click();
  await expect(card.getByRole('alert')).toContainText('absolute');
  await card.getByLabel('Clone on this host').fill(repo);
  await card.getByRole('button', { name: 'Save' }).click();
  await expect(card.getByRole('alert')).toHaveCount(0);
  await page.reload();
  await ready(page);
  await expect(page.getByTestId('repository').getByLabel('Clone on this host')).toHaveValue(repo);

  raise('pricing@1.0');
  await page.goto(projectUrl);
  await ready(page);
  const row = page.locator('table.issues tbody tr').filter({ hasText: 'ZeroDivisionError' });
  await expect(row).toHaveCount(1);
  await row.locator('a.title').click();
  await expect(page).toHaveURL(/\/issues\/\d+$/);
  issueUrl = new URL(page.url()).pathname;

  // The top suspect: Ada's commit changed the line that raised.
  const top = page.getByTestId('suspect').first();
  await expect(top).toHaveAttribute('data-sha', culprit);
  await expect(top).toContainText('Simplify unit_price');
  await expect(top.getByTestId('suspect-author')).toHaveText('Ada');
  await expect(top).toContainText('shop/pricing.py:7');
  await expect(top.locator('a.sha')).toHaveText(culprit.slice(0, 8));
  await expect(top.locator('a.sha')).toHaveAttribute('href', `https://github.com/acme/pricing/commit/${culprit}`);
  // The caller's line is Linus's, on demand.
  const panel = page.getByTestId('suspects');
  await expect(panel.getByTestId('suspect')).toHaveCount(1);
  await panel.getByRole('button', { name: '1 more' }).click();
  await expect(panel.getByTestId('suspect')).toHaveCount(2);
  await expect(panel.getByTestId('suspect').nth(1).getByTestId('suspect-author')).toHaveText('Linus');
});

test('resolved in the next release: the same release keeps it resolved, the next one reopens it', async ({ page }) => {
  await signIn(page);
  await openIssue(page);
  await page.getByRole('button', { name: 'More ways to resolve' }).click();
  await page.getByTestId('resolve-menu').getByRole('button', { name: 'In the next release' }).click();
  await expect(page.getByTestId('issue-status')).toHaveText('resolved');
  await expect(page.getByTestId('resolved-in')).toHaveText('in the release after pricing@1.0');

  raise('pricing@1.0');
  await openIssue(page);
  await expect(page.getByTestId('issue-events')).toHaveText('2');
  await expect(page.getByTestId('issue-status')).toHaveText('resolved');

  raise('pricing@1.1');
  await openIssue(page);
  await expect(page.getByTestId('issue-events')).toHaveText('3');
  await expect(page.getByTestId('issue-status')).toHaveText('unresolved');
  await expect(page.locator('.issue-sub .badge', { hasText: 'regression' })).toBeVisible();
  await expect(page.locator('.activity')).toContainText('resolved it in the next release');
});

test('the releases page counts events, new issues and regressions, and links into the list', async ({ page }) => {
  await signIn(page);
  await page.goto(projectUrl);
  await ready(page);
  await page.getByRole('link', { name: 'Releases' }).click();
  await expect(page).toHaveURL(/\/releases$/);
  await ready(page);
  const rows = page.getByTestId('releases').locator('tbody tr');
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(0)).toHaveAttribute('data-version', 'pricing@1.1');
  await expect(rows.nth(1)).toHaveAttribute('data-version', 'pricing@1.0');
  const older = rows.nth(1);
  await expect(older.getByTestId('new-issues')).toHaveText('1');
  await expect(rows.nth(0).getByTestId('regressions')).toHaveText('1');
  await expect(rows.nth(0).getByTestId('new-issues')).toHaveText('0');

  // The new issues of 1.0: the issue list, filtered.
  await older.getByTestId('new-issues').getByRole('link').click();
  await expect(page).toHaveURL(/query=is%3Aall\+firstRelease%3Apricing%401\.0/);
  await ready(page);
  const list = page.locator('table.issues tbody tr');
  await expect(list).toHaveCount(1);
  await expect(list.first()).toContainText('ZeroDivisionError');
});
