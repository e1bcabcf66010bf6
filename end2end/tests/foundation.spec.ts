import { test, expect, type Page } from '@playwright/test';
import { admin, createProject, ready, signIn } from './support';

// One story, in order, as a new team would live it: first run, sign-in, projects and
// their DSNs, keys, a second user who only sees what they were given.
test.describe.configure({ mode: 'serial' });

const dev = { email: 'dev@example.com', password: 'dev password 123' };
const dsnPattern = /^http:\/\/[0-9a-f]{32}@127\.0\.0\.1:\d+\/\d+$/;

async function signOut(page: Page) {
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await expect(page).toHaveURL(/\/login$/);
}

let backendUrl = '';
let webUrl = '';

test('a fresh install asks for the first administrator', async ({ page }) => {
  await page.goto('/');
  await expect(page).toHaveURL(/\/setup$/);
  await ready(page);
  await page.getByLabel('E-mail').fill(admin.email);
  await page.getByLabel('Password').fill(admin.password);
  await page.getByLabel('Organization name').fill('Acme Corp');
  await page.getByRole('button', { name: 'Create administrator' }).click();
  await expect(page.getByRole('heading', { name: 'Projects' })).toBeVisible();
  await expect(page.getByTestId('current-user')).toHaveText(admin.email);
  await expect(page.getByRole('heading', { name: /Acme Corp/ })).toBeVisible();
  // Setup is closed for good.
  await page.goto('/setup');
  await expect(page).not.toHaveURL(/\/setup$/);
});

test('a wrong password is refused with a generic message, the right one signs in', async ({ page }) => {
  await page.goto('/login');
  await ready(page);
  await page.getByLabel('E-mail').fill(admin.email);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toHaveText('Invalid e-mail or password.');
  await expect(page).toHaveURL(/\/login/);
  await signIn(page, admin);
  await expect(page).toHaveURL(/\/$/);
  await signOut(page);
  // Signed out, pages lead back to the login page.
  await page.goto('/users');
  await expect(page).toHaveURL(/\/login\?next=\/users$/);
});

test('an administrator creates projects and sees their DSN with setup snippets', async ({ page }) => {
  await signIn(page, admin);
  for (const [name, platform] of [['backend', 'python'], ['web', 'javascript']]) {
    await createProject(page, name, platform);
    await expect(page.getByRole('heading', { level: 1 })).toContainText(name);
    if (name === 'backend') backendUrl = new URL(page.url()).pathname;
    else webUrl = new URL(page.url()).pathname;
  }

  await page.goto(backendUrl);
  await ready(page);
  await expect(page.getByTestId('dsn')).toHaveValue(dsnPattern);
  const dsn = await page.getByTestId('dsn').inputValue();
  expect(dsn.endsWith(backendUrl.replace('/projects', ''))).toBeTruthy();
  await expect(page.locator('pre.snippet').nth(1)).toContainText('sentry_sdk.init(');
  await expect(page.locator('pre.snippet').nth(1)).toContainText(dsn);
  await page.getByRole('tab', { name: 'Node.js' }).click();
  await expect(page.locator('pre.snippet').first()).toContainText('npm install @sentry/node');
  await expect(page.locator('pre.snippet').nth(1)).toContainText(dsn);
  await page.getByRole('tab', { name: 'Rust' }).click();
  await expect(page.locator('pre.snippet').first()).toContainText('cargo add sentry');

  // Keys are managed on the project's settings page.
  await page.goto(`${backendUrl}/settings`);
  await ready(page);
  await expect(page.getByTestId('dsn')).toHaveValue(dsn);
  // Rotating the key changes the DSN; disabling it is shown.
  await page.getByRole('button', { name: 'Rotate' }).click();
  await expect(page.getByTestId('dsn')).not.toHaveValue(dsn);
  await expect(page.getByTestId('dsn')).toHaveValue(dsnPattern);
  await page.getByRole('button', { name: 'Disable' }).click();
  await expect(page.locator('.badge.off')).toHaveText('disabled');
  await page.getByRole('button', { name: 'Enable' }).click();
  await expect(page.locator('.badge.ok')).toHaveText('active');

  // The project list shows both, in their organization.
  await page.goto('/');
  await ready(page);
  await expect(page.getByRole('link', { name: 'backend' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'web' })).toBeVisible();
});

test('a member sees only the projects they were given', async ({ page }) => {
  await signIn(page, admin);
  await page.goto('/users');
  await ready(page);
  await page.getByLabel('E-mail').fill(dev.email);
  await page.getByLabel('Password').fill(dev.password);
  await page.getByRole('button', { name: 'Create user' }).click();
  await expect(page.getByRole('cell', { name: dev.email })).toBeVisible();

  await page.goto(`${backendUrl}/settings`);
  await ready(page);
  await page.locator('select[name=email]').selectOption(dev.email);
  await page.locator('select[name=role]').selectOption('member');
  await page.getByRole('button', { name: 'Grant access' }).click();
  await expect(page.locator('table.members')).toContainText(dev.email);
  await signOut(page);

  await signIn(page, dev);
  await expect(page.getByRole('link', { name: 'backend' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'web' })).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'Users' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Create project' })).toHaveCount(0);

  // The project they have: DSN visible, no key or member management.
  await page.goto(backendUrl);
  await ready(page);
  await expect(page.getByTestId('dsn')).toHaveValue(dsnPattern);
  await page.goto(`${backendUrl}/settings`);
  await ready(page);
  await expect(page.getByTestId('dsn')).toHaveValue(dsnPattern);
  await expect(page.getByRole('button', { name: 'Rotate' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Grant access' })).toHaveCount(0);

  // The one they do not have, even by its URL: nothing of it is shown.
  await page.goto(webUrl);
  await ready(page);
  await expect(page.getByRole('alert')).toHaveText('Not found.');
  await expect(page.getByTestId('dsn')).toHaveCount(0);
  await page.goto('/users');
  await ready(page);
  await expect(page.getByRole('alert')).toHaveText('You do not have permission to do this.');
});

test('a user changes their password and creates an API token shown once', async ({ page, browser }) => {
  // The same user signed in on another computer: the password change ends that session.
  const elsewhere = await browser.newContext();
  const other = await elsewhere.newPage();
  await signIn(other, dev);
  await signIn(page, dev);
  await page.getByTestId('current-user').click();
  await expect(page.getByRole('heading', { name: 'Your account' })).toBeVisible();
  await ready(page);
  await page.getByLabel('Current password').fill('not my password');
  await page.getByLabel('New password').fill('a new dev password');
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByRole('alert')).toHaveText('The current password is not right.');
  await page.getByLabel('Current password').fill(dev.password);
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByRole('status')).toHaveText('Password changed. You are signed out everywhere else.');
  dev.password = 'a new dev password';
  await other.goto('/');
  await expect(other).toHaveURL(/\/login/);
  // "Sign out everywhere else" does the same without a password change, and keeps this one.
  await signIn(other, dev);
  await page.getByTestId('sign-out-elsewhere').click();
  await expect(page.getByText('Every other session has ended.')).toBeVisible();
  await other.goto('/');
  await expect(other).toHaveURL(/\/login/);
  await elsewhere.close();
  await page.reload();
  await ready(page);
  await expect(page.getByTestId('current-user')).toHaveText(dev.email);

  await page.getByLabel('Label').fill('gitlab');
  await page.getByRole('button', { name: 'Create token' }).click();
  await expect(page.getByTestId('new-token')).toHaveValue(/^flt_[0-9a-f]{64}$/);
  await expect(page.getByRole('cell', { name: 'gitlab' })).toBeVisible();
  await page.reload();
  await ready(page);
  await expect(page.getByTestId('new-token')).toHaveCount(0);
  await expect(page.getByRole('cell', { name: 'never' })).toBeVisible();
  await page.getByRole('button', { name: 'Revoke' }).click();
  await expect(page.getByText('No tokens yet.')).toBeVisible();

  await signOut(page);
  await signIn(page, dev);
});
