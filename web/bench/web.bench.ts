// The web app's budgets, measured (not asserted) in Debian's Chromium against the local
// stack that ./infra/bench-web.sh starts; it writes the figures to BENCHMARKS.md.
//
//   first page    JS+CSS the landing page loads (gzip -9 of each file), and everything it
//                 loads (HTML, scripts, styles, images, fonts; text gzipped as served by
//                 CloudFront, pictures as they are)
//   LCP           Largest Contentful Paint (PerformanceObserver, buffered) of the landing
//                 page and of a generation page with its three pictures, fresh context
//                 each run; the baseline is a one-heading static page from the same server
//   selfie->shown from the click on "Upload and spend" to the avatar decoded on the
//                 generation page, through the real pipeline (local stylizer); the upload
//                 (click to 100%) is reported on its own
import { gzipSync } from 'node:zlib';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext } from '@playwright/test';
import { buyCredits, signIn, test, uniqueEmail } from '../e2e/fixtures';
import { selfie } from '../e2e/images';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const OUT = process.env.BENCH_OUT ?? fileURLToPath(new URL('../test-results/bench.json', import.meta.url));

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
};
const round = (value: number) => Math.round(value);

/** The LCP of `path` in a fresh context, after the page has settled. */
type Cookies = Awaited<ReturnType<BrowserContext['cookies']>>;

async function lcp(browser: Browser, baseURL: string, path: string, cookies: Cookies = []): Promise<number> {
  const context = await browser.newContext({ baseURL });
  if (cookies.length) await context.addCookies(cookies);
  const page = await context.newPage();
  await page.goto(path, { waitUntil: 'load' });
  await page.waitForLoadState('networkidle');
  const value = await page.evaluate(
    () =>
      new Promise<number>((resolve) => {
        new PerformanceObserver((list) => {
          const entries = list.getEntries();
          resolve(entries[entries.length - 1]!.startTime);
        }).observe({ type: 'largest-contentful-paint', buffered: true });
        setTimeout(() => resolve(-1), 5000);
      }),
  );
  await context.close();
  return value;
}

async function firstLoad(browser: Browser, baseURL: string): Promise<{ jsCss: number; total: number; files: number }> {
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  const bodies: Promise<{ type: string; bytes: number }>[] = [];
  page.on('response', (response) => {
    if (new URL(response.url()).origin !== new URL(baseURL).origin) return;
    if (response.url().includes('/api/')) return;
    bodies.push(
      response.body().then((body) => {
        const type = response.headers()['content-type'] ?? '';
        const text = /javascript|css|html|json|svg|wasm/.test(type);
        return { type, bytes: text ? gzipSync(body, { level: 9 }).length : body.length };
      }),
    );
  });
  await page.goto('/', { waitUntil: 'load' });
  await page.waitForLoadState('networkidle');
  const all = await Promise.all(bodies);
  await context.close();
  return {
    jsCss: all.filter((f) => /javascript|css/.test(f.type)).reduce((sum, f) => sum + f.bytes, 0),
    total: all.reduce((sum, f) => sum + f.bytes, 0),
    files: all.length,
  };
}

test('web app figures', async ({ browser, page, baseURL }, testInfo) => {
  test.skip(testInfo.project.name !== 'desktop', 'measured once, at the desktop viewport');
  test.setTimeout(15 * 60_000);
  const base = baseURL!;
  const figures: Record<string, number> = {};

  await test.step('first page weight', async () => {
    const load = await firstLoad(browser, base);
    figures.first_page_js_css_gz_bytes = load.jsCss;
    figures.first_load_total_bytes = load.total;
    figures.first_load_files = load.files;
  });

  await test.step('LCP of the baseline and the landing page', async () => {
    const baseline: number[] = [];
    const landing: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      baseline.push(await lcp(browser, base, '/bench-baseline.html'));
      landing.push(await lcp(browser, base, '/'));
    }
    figures.lcp_baseline_ms = round(median(baseline));
    figures.lcp_landing_ms = round(median(landing));
  });

  const email = uniqueEmail('bench', 'desktop');
  await test.step('a signed-in person with credits', async () => {
    await page.goto('/sign-in');
    await signIn(page, email);
    await page.getByRole('link', { name: 'Credits' }).click();
    await buyCredits(page, 10);
  });

  const totals: number[] = [];
  const uploads: number[] = [];
  let generationPath = '';
  for (let run = 0; run < 3; run++) {
    await test.step(`selfie submitted to avatar shown, run ${run + 1}`, async () => {
      await page.getByRole('link', { name: 'Create', exact: true }).click();
      await page.getByRole('radio', { name: 'Anime' }).check();
      await page.getByLabel('Choose a photo').setInputFiles(selfie());
      const started = Date.now();
      await page.getByRole('button', { name: /^Upload and spend/ }).click();
      await page.getByRole('progressbar', { name: 'Upload progress' }).and(page.locator('[value="100"]')).waitFor();
      uploads.push(Date.now() - started);
      await page.getByRole('link', { name: 'See its progress' }).click();
      const avatar = page.getByRole('img', { name: 'Avatar, drawn from your selfie' });
      await avatar.waitFor({ timeout: 120_000 });
      await avatar.evaluate((img: HTMLImageElement) => img.decode());
      totals.push(Date.now() - started);
      generationPath = new URL(page.url()).pathname;
    });
  }
  figures.selfie_to_avatar_ms = round(median(totals));
  figures.selfie_upload_ms = round(median(uploads));

  await test.step('LCP of a generation page with its pictures', async () => {
    const cookies = await page.context().cookies();
    const values: number[] = [];
    for (let run = 0; run < RUNS; run++) values.push(await lcp(browser, base, generationPath, cookies));
    figures.lcp_generation_ms = round(median(values));
  });

  mkdirSync(new URL('.', `file://${OUT}`).pathname, { recursive: true });
  writeFileSync(OUT, JSON.stringify(figures, null, 2));
  console.log(JSON.stringify(figures, null, 2));
});
