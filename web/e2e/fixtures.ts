// What every end-to-end test shares: a look at each page (axe-core and a screenshot at this
// viewport), the stack's admin routes, and the steps several stories take (sign in, buy).
import AxeBuilder from '@axe-core/playwright';
import { test as base, expect, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { codeIn, mailTo, waitForMail, type Mail } from './mail';

const SCREENSHOT_DIR = process.env.SCREENSHOT_DIR ?? fileURLToPath(new URL('../test-results/screenshots/', import.meta.url));
const STACK_URL = process.env.STACK_URL ?? process.env.BASE_URL ?? 'http://localhost:5180';
export const ADMIN_EMAIL = process.env.ADMIN_EMAIL ?? 'admin@example.com';
/** A second admin when ADMIN_EMAILS names one (the campaign story), else the first. */
export const SECOND_ADMIN_EMAIL = process.env.ADMIN_EMAILS?.split(',')[1]?.trim() || ADMIN_EMAIL;

/** An address of its own per test and viewport, so rate limits and mailboxes never mix. */
export function uniqueEmail(tag: string, project: string): string {
  return `${tag}-${project}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}@example.com`;
}

/** Runs the hourly retention job now, `offsetSeconds` ahead (the local stack's loopback-only
 * admin route). 25 hours ahead it drops the hashed-IP trial claim and rate-limit windows,
 * as the real job does a day later: each viewport's journey may take the free trial. */
export async function runRetention(offsetSeconds = 0): Promise<void> {
  const url = `${STACK_URL}/_local/functions/RetentionCronFunction/invoke-schedule${offsetSeconds ? `?clock_offset=${offsetSeconds}` : ''}`;
  const response = await fetch(url, { method: 'POST' });
  expect(response.status, `${url}: ${await response.text()}`).toBe(200);
}

type Fixtures = {
  /** Checks the page with axe-core (no serious or critical violation) and saves a screenshot. */
  look: (name: string, on?: Page) => Promise<void>;
};

export const test = base.extend<Fixtures>({
  page: async ({ page }, use) => {
    // Until GET /api/catalog is merged, a manual run may stand in for it with the template's
    // default packs (E2E_CATALOG_STUB=1); CI never sets it.
    if (process.env.E2E_CATALOG_STUB === '1') {
      await page.route('**/api/catalog', (route) =>
        route.fulfill({
          json: {
            styles: ['anime', 'chibi', 'watercolor'],
            costs: { avatar: 1, stickers: 1, speech_bubble: 1 },
            packs: [
              { product: 'starter', credits: 10, price: null },
              { product: 'pro', credits: 50, price: null },
            ],
            turnstile: { site_key: null },
            upload: { max_bytes: 10485760, content_types: ['image/jpeg', 'image/png', 'image/webp'] },
            quote: { max_chars: 80 },
          },
        }),
      );
    }
    await use(page);
  },
  look: async ({ page }, use, testInfo) => {
    const dir = `${SCREENSHOT_DIR}/${testInfo.project.name}`;
    mkdirSync(dir, { recursive: true });
    await use(async (name: string, on: Page = page) => {
      await expect(on.getByRole('status').filter({ hasText: /^Loading/ })).toHaveCount(0);
      await on.screenshot({ path: `${dir}/${name}.png`, fullPage: true, animations: 'disabled' });
      const results = await new AxeBuilder({ page: on }).analyze();
      const grave = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      expect(
        grave.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
        `axe-core on ${name}`,
      ).toEqual([]);
    });
  },
});

export { expect };

const hasCode = (mail: Mail) => /\b\d{6}\b/.test(mail.body);

/** Signs in through the page with the code of the email this sign-in sends. */
export async function signIn(page: Page, email: string): Promise<void> {
  const before = (await mailTo(email)).filter(hasCode).length;
  await page.goto('/sign-in');
  await page.getByLabel('Email', { exact: true }).fill(email);
  const ask = page.getByRole('button', { name: 'Email me a code' });
  const sent = page.getByText(`We sent a code to ${email}`);
  const limited = page.getByRole('alert').filter({ hasText: /try again in \d+ s/ });
  await ask.click();
  await expect(sent.or(limited)).toBeVisible();
  if (await limited.isVisible()) {
    // An address signed in a moment ago (the admin, in consecutive stories) meets the resend
    // cooldown: wait it out as a person would, with the page's own countdown, and ask again.
    await expect(ask).toBeEnabled({ timeout: 120_000 });
    await ask.click();
    await expect(sent).toBeVisible();
  }
  const code = codeIn(await waitForMail(email, hasCode, before + 1));
  await page.getByLabel('Six-digit code').fill(code);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
}

/** Buys the starter pack through the checkout page and waits for the new balance. */
export async function buyCredits(page: Page, expected: number): Promise<void> {
  await page.goto('/credits');
  await page.getByRole('button', { name: 'Buy 10 credits' }).click();
  await page.waitForURL(/\/_local\/polar\/checkout/);
  const pay = page.getByRole('button', { name: /pay/i });
  if (await pay.count()) {
    await pay.click();
  } else {
    // The older stand-in answers the visit with JSON and no way back: return as Polar would.
    await page.goto('/credits?checkout_id=local-stand-in');
  }
  await page.waitForURL(/\/credits\?checkout_id=/);
  await expect(page.getByRole('region', { name: 'Your balance' }).getByText(`${expected} credits`, { exact: true })).toBeVisible();
}
