import { defineConfig, devices } from '@playwright/test';

// BASE_URL: the app's origin (npm run dev, or local-stack --web-dir). MAIL_URL: the JSON list
// of sent emails (see e2e/mail.ts). STACK_URL: the local-stack itself, for its loopback-only
// /_local/ admin routes (defaults to BASE_URL: one origin once local-stack serves the app).
// Debian's Chromium, never a downloaded browser; flags for a machine without network.
const chromium = {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
};

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results/artifacts',
  // A journey waits on real image work (debug-built stylizer on a busy 2-core machine).
  timeout: 600_000,
  expect: { timeout: 20_000 },
  // One stack shared by every test: one at a time keeps rate limits and timing predictable.
  workers: Number(process.env.E2E_WORKERS ?? 1),
  retries: 0,
  reporter: process.env.CI ? [['list']] : [['list'], ['html', { open: 'never', outputFolder: 'test-results/report' }]],
  use: {
    baseURL: process.env.BASE_URL ?? 'http://localhost:5180',
    locale: 'en-US',
    trace: 'retain-on-failure',
    launchOptions: chromium,
  },
  projects: [
    { name: 'desktop', use: { ...devices['Desktop Chrome'], viewport: { width: 1280, height: 800 }, launchOptions: chromium } },
    { name: 'phone', use: { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2, launchOptions: chromium } },
  ],
});
