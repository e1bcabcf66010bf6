import { defineConfig } from '@playwright/test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

// Each run starts a real Faultline server on a fresh SQLite database (or on the database
// named by FAULTLINE_E2E_DATABASE_URL) and drives Debian's Chromium against it.
const port = Number(process.env.FAULTLINE_E2E_PORT ?? 8097);
const bin = process.env.FAULTLINE_BIN ?? path.resolve(__dirname, '../target/debug/faultline');
if (!process.env.FAULTLINE_E2E_DB) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faultline-e2e-'));
  process.env.FAULTLINE_E2E_DB = process.env.FAULTLINE_E2E_DATABASE_URL || `sqlite://${dir}/faultline.db`;
}

export default defineConfig({
  testDir: './tests',
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  // The foundation story creates the first administrator; every other file signs in as it,
  // so it runs first (files would otherwise run in name order).
  projects: [
    { name: 'foundation', testMatch: /foundation\.spec\.ts$/ },
    { name: 'features', testIgnore: /foundation\.spec\.ts$/, dependencies: ['foundation'] },
  ],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    browserName: 'chromium',
    headless: true,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--no-first-run',
      ],
    },
    trace: 'off',
    screenshot: 'only-on-failure',
  },
  webServer: {
    command: `${bin} serve`,
    url: `http://127.0.0.1:${port}/login`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: 'pipe',
    stderr: 'pipe',
    env: {
      FAULTLINE_LISTEN: `127.0.0.1:${port}`,
      FAULTLINE_DATABASE_URL: process.env.FAULTLINE_E2E_DB!,
      FAULTLINE_LOG: 'warn',
    },
  },
});
