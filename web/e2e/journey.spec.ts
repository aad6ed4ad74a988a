// One person's whole journey from a fresh browser, as issue 9 lists it.
import { buyCredits, expect, runRetention, signIn, test, uniqueEmail } from './fixtures';
import { selfie } from './images';
import { codeIn, linksIn, linkWith, mailTo, waitForMail } from './mail';

test('a new person tries, signs in, buys, creates, downloads, exports, moves and leaves', async ({ page, context, look, baseURL }, testInfo) => {
  const project = testInfo.project.name;
  const trialEmail = uniqueEmail('trial', project);
  const email = uniqueEmail('journey', project);
  const newEmail = uniqueEmail('moved', project);

  await test.step('fixture: the stack forgets the previous trial from this address (a day passes)', async () => {
    await runRetention(25 * 3600);
  });

  await test.step('opens the landing page and sees the styles and prices', async () => {
    await page.goto('/');
    await expect(page.getByRole('heading', { level: 1, name: 'Your selfie, drawn as an anime avatar' })).toBeVisible();
    await expect(page.getByRole('heading', { name: 'Three styles' })).toBeVisible();
    await page.getByRole('heading', { name: 'Pricing' }).scrollIntoViewIfNeeded();
    await look('landing');
  });

  await test.step('takes the free trial and saves the link by email', async () => {
    await page.getByRole('link', { name: 'Try it free' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Free trial' })).toBeFocused();
    await page.getByRole('radio', { name: 'Chibi' }).check();
    await page.getByLabel('Choose a photo').setInputFiles(selfie());
    await page.getByLabel('Email to save my link (optional)').fill(trialEmail);
    await expect(page.getByText('Local stand-in for Cloudflare Turnstile')).toBeVisible();
    await page.getByLabel('I am a human').check();
    await look('trial');
    await page.getByRole('button', { name: 'Start my free avatar' }).click();
    await expect(page.getByRole('heading', { name: 'Your trial link' })).toBeVisible();
    await expect(page.getByRole('progressbar', { name: 'Upload progress' })).toHaveAttribute('value', '100');
    await expect(page.getByText('We also emailed it to you.')).toBeVisible();
    await look('trial-started');
  });

  await test.step('opens the emailed trial link and sees the avatar once ready', async () => {
    const mail = await waitForMail(trialEmail, (m) => linksIn(m).some((url) => url.includes('/trial/')));
    await page.goto(linkWith(mail, /^\/trial\/[^/]+$/));
    await expect(page.getByRole('heading', { level: 1, name: 'Your free avatar' })).toBeVisible();
    await expect(page.getByText('Ready', { exact: true })).toBeVisible({ timeout: 180_000 });
    await expect(page.getByRole('img', { name: 'Avatar, drawn from your selfie' })).toBeVisible();
    await look('trial-view');
  });

  await test.step('signs in with the emailed code', async () => {
    await page.goto('/sign-in');
    await look('sign-in');
    await signIn(page, email);
    await expect(page).toHaveURL(/\/create$/);
  });

  await test.step('buys credits through the checkout page', async () => {
    await page.getByRole('link', { name: 'Credits', exact: true }).click();
    await expect(page.getByRole('region', { name: 'Your balance' }).getByText('0 credits')).toBeVisible();
    await look('credits');
    await buyCredits(page, 10);
    await look('credits-paid');
  });

  await test.step('creates an avatar with a speech bubble and watches the upload reach 100%', async () => {
    await page.getByRole('link', { name: 'Create', exact: true }).click();
    await page.getByRole('radio', { name: 'Watercolor' }).check();
    await page.getByLabel('Die-cut sticker').check();
    await page.getByLabel('Speech bubble with your words').check();
    await page.getByLabel('Words in the bubble').fill('こんにちは、Anumi!');
    await page.getByLabel('Choose a photo').setInputFiles(selfie());
    await expect(page.getByText('Cost: 3 credits')).toBeVisible();
    await look('create');
    await page.getByRole('button', { name: 'Upload and spend 3 credits' }).click();
    const bar = page.getByRole('progressbar', { name: 'Upload progress' });
    await expect(bar).toHaveAttribute('value', '100');
    await expect(page.getByText('Uploaded. Your avatar is being drawn.')).toBeVisible();
    await look('create-uploaded');
  });

  await test.step('sees it ready and downloads it', async () => {
    await page.getByRole('link', { name: 'See its progress' }).click();
    await expect(page.getByText('Ready', { exact: true })).toBeVisible({ timeout: 180_000 });
    for (const what of ['Avatar', 'Sticker', 'Speech bubble']) {
      await expect(page.getByRole('img', { name: `${what}, drawn from your selfie` })).toBeVisible();
    }
    await look('generation');
    const download = page.waitForEvent('download');
    await page.getByRole('link', { name: 'Download everything (zip)' }).click();
    const file = await download;
    expect((await file.createReadStream()).readable).toBe(true);
    expect(await file.failure()).toBeNull();
  });

  await test.step('sees the gallery and the ready email links to the generation', async () => {
    await page.getByRole('link', { name: 'My avatars', exact: true }).click();
    await expect(page.getByText('Ready', { exact: true })).toBeVisible();
    await look('generations');
    const ready = await waitForMail(email, (m) => linksIn(m).some((url) => /\/generations\/[^/]+$/.test(new URL(url).pathname)));
    await page.goto(linkWith(ready, /^\/generations\/[^/]+$/));
    await expect(page.getByRole('img', { name: 'Avatar, drawn from your selfie' })).toBeVisible();
  });

  await test.step('deletes a generation', async () => {
    await page.getByRole('button', { name: 'Delete this avatar' }).click();
    await expect(page.getByText('Delete this avatar and its files for good?')).toBeVisible();
    await look('generation-delete');
    await page.getByRole('button', { name: 'Yes, delete it' }).click();
    await expect(page).toHaveURL(/\/generations$/);
    await expect(page.getByText('No avatars yet.')).toBeVisible();
  });

  await test.step('requests an export and downloads it from the emailed link', async () => {
    await page.getByRole('link', { name: 'Privacy', exact: true }).first().click();
    await expect(page.getByRole('heading', { level: 1, name: 'Privacy centre' })).toBeVisible();
    await expect(page.getByText('Analytics are on.')).toBeVisible();
    await look('privacy');
    await page.getByRole('button', { name: 'Request my data' }).click();
    await expect(page.getByText('Requested. The link arrives by email')).toBeVisible();
    const mail = await waitForMail(email, (m) => linksIn(m).some((url) => new URL(url).pathname === '/export'));
    await page.goto(linkWith(mail, /^\/export$/));
    await look('export');
    const download = page.waitForEvent('download');
    await page.getByRole('link', { name: 'Download my archive (zip)' }).click();
    const file = await download;
    expect(await file.failure()).toBeNull();
    expect(file.suggestedFilename()).toMatch(/\.zip$/);
  });

  await test.step('changes the email with a code sent to the new address', async () => {
    await page.goto('/privacy');
    await page.getByLabel('New email').fill(newEmail);
    await page.getByRole('button', { name: 'Send a code to the new email' }).click();
    const code = codeIn(await waitForMail(newEmail));
    await page.getByLabel('Code from that email').fill(code);
    await page.getByRole('button', { name: 'Change my email' }).click();
    await expect(page.getByText(`Your email is now ${newEmail}.`)).toBeVisible();
    await expect(page.getByText(`Current email: ${newEmail}`)).toBeVisible();
  });

  const oldSession = (await context.cookies()).find((cookie) => cookie.name === 'session');

  await test.step('deletes the account after reading what happens next', async () => {
    await expect(page.getByText('Everything is erased within the hour')).toBeVisible();
    const erase = page.getByRole('button', { name: 'Delete my account' });
    await expect(erase).toBeDisabled();
    await page.getByLabel('I understand that this cannot be undone').check();
    await erase.click();
    await expect(page.getByText('Your account deletion is recorded.')).toBeVisible();
    await expect(page.getByRole('link', { name: 'Sign in' }).first()).toBeVisible();
    await look('account-deleted');
  });

  await test.step('finds the old session gone once the erasure has run', async () => {
    await runRetention();
    expect(oldSession).toBeDefined();
    await context.addCookies([oldSession!]);
    await page.goto('/credits');
    await expect(page.getByText('Sign in to see this page.')).toBeVisible();
  });

  await test.step('every link in every email the journey got opens a working page', async () => {
    const origin = new URL(baseURL!).origin;
    const links = new Set<string>();
    for (const address of [trialEmail, email, newEmail]) {
      for (const mail of await mailTo(address)) for (const link of linksIn(mail)) links.add(link);
    }
    expect(links.size).toBeGreaterThan(0);
    for (const link of links) {
      const url = new URL(link);
      if (url.pathname.startsWith('/api/')) continue; // List-Unsubscribe-style API links are not pages
      expect(url.origin, link).toBe(origin);
      await page.goto(link);
      await expect(page.getByRole('heading', { level: 1 }), link).toBeVisible();
      await expect(page.getByRole('heading', { name: 'Page not found' }), link).toHaveCount(0);
    }
  });
});
