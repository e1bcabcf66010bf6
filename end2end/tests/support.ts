import { expect, type APIRequestContext, type Page } from '@playwright/test';
import * as path from 'node:path';

// What every story shares: the administrator the foundation story creates, the Python SDK's
// virtualenv, and signing in.

export const admin = { email: 'admin@example.com', password: 'correct horse battery' };

/** The Python interpreter of the virtualenv with the real `sentry-sdk` (see .ci/setup). */
export const python = path.join(process.env.FAULTLINE_SDK_VENV ?? '/var/cache/faultline/sdk-venv', 'bin/python');

/** A script of tests/sdk/, by file name. */
export const sdkScript = (name: string) => path.resolve(__dirname, '../../tests/sdk', name);

/** Waits until the page is hydrated (interactive). */
export async function ready(page: Page) {
  await page.waitForSelector('body[data-hydrated]');
}

export async function signIn(page: Page, who: { email: string; password: string } = admin) {
  await page.goto('/login');
  await ready(page);
  await page.getByLabel('E-mail').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('current-user')).toHaveText(who.email);
}

/**
 * Creates a project from the projects page and returns its DSN; the browser is left on the
 * new project's issue list.
 */
export async function createProject(page: Page, name: string, platform: string): Promise<string> {
  await page.goto('/');
  await ready(page);
  await page.getByLabel('Name', { exact: true }).first().fill(name);
  await page.getByLabel('Platform').selectOption(platform);
  await page.getByRole('button', { name: 'Create project' }).click();
  await expect(page).toHaveURL(/\/projects\/\d+$/);
  return page.getByTestId('dsn').inputValue();
}

/** The parts of a DSN `http://KEY@HOST/PROJECT`. */
export function dsnParts(dsn: string): { key: string; host: string; project: string } {
  const [, key, host, project] = dsn.match(/^http:\/\/([0-9a-f]+)@([^/]+)\/(\d+)$/)!;
  return { key, host, project };
}

/** The envelope endpoint of a DSN's project, authenticated by the key in the query. */
export function envelopeUrl(dsn: string): string {
  const { key, host, project } = dsnParts(dsn);
  return `http://${host}/api/${project}/envelope/?sentry_key=${key}&sentry_version=7`;
}

/** Posts one event in an envelope to a DSN's project and expects it accepted. */
export async function sendEvent(request: APIRequestContext, dsn: string, event: object) {
  const res = await request.post(envelopeUrl(dsn), {
    data: `{}\n{"type":"event"}\n${JSON.stringify(event)}\n`,
    headers: { 'content-type': 'text/plain' },
  });
  expect(res.status()).toBe(200);
}
