// What a person gets wrong, answered in words: a wrong code, a file that is not an image or
// too big, words the bubble cannot draw, an order without enough credits.
import { expect, test, uniqueEmail } from './fixtures';
import { notAnImage, selfie, tooLarge } from './images';
import { codeIn, waitForMail } from './mail';

test('wrong code, bad files, a refused quote and no credits are explained', async ({ page, look }, testInfo) => {
  const email = uniqueEmail('mistakes', testInfo.project.name);

  await test.step('types a wrong code', async () => {
    await page.goto('/sign-in');
    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByRole('button', { name: 'Email me a code' }).click();
    const right = codeIn(await waitForMail(email));
    const wrong = right === '000000' ? '111111' : '000000';
    await page.getByLabel('Six-digit code').fill(wrong);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(page.getByRole('alert')).toContainText('That code is wrong, used or expired.');
    await expect(page.getByRole('button', { name: /Send a new code \(in \d+ s\)/ })).toBeDisabled();
    await look('sign-in-wrong-code');
    await page.getByLabel('Six-digit code').fill(right);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
  });

  await test.step('picks a file that is not an image, then one that is too big', async () => {
    await page.goto('/create');
    await page.getByLabel('Choose a photo').setInputFiles(notAnImage());
    await expect(page.getByRole('alert')).toContainText('This file is not a JPEG, PNG or WebP picture.');
    await page.getByLabel('Choose a photo').setInputFiles(tooLarge());
    await expect(page.getByRole('alert')).toContainText('This picture is too large: the limit is 10 MB.');
    await expect(page.getByRole('button', { name: /Upload and spend/ })).toBeDisabled();
    await look('create-bad-file');
  });

  await test.step('writes words the bubble cannot draw', async () => {
    await page.getByLabel('Speech bubble with your words').check();
    await page.getByLabel('Words in the bubble').fill('hello 😀');
    await page.getByLabel('Choose a photo').setInputFiles(selfie());
    const confirm = page.getByRole('button', { name: 'Upload and spend 2 credits' });
    // Checked as you type by the server's own rules (wasm); until they are in, by the server.
    if (await confirm.isEnabled()) await confirm.click();
    await expect(page.getByRole('alert').filter({ hasText: 'Some characters cannot be drawn in the bubble' })).toBeVisible();
    await look('create-bad-quote');
  });

  await test.step('orders without credits and is pointed to buying some', async () => {
    await page.getByLabel('Speech bubble with your words').uncheck();
    await expect(page.getByText('You do not have enough credits for this order.')).toBeVisible();
    await page.getByRole('button', { name: 'Upload and spend 1 credits' }).click();
    const refusal = page.getByRole('alert').filter({ hasText: 'You do not have enough credits.' });
    await expect(refusal).toBeVisible();
    await look('create-no-credits');
    await refusal.getByRole('link', { name: 'Buy credits' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Credits' })).toBeVisible();
  });
});

test('every other page answers, with its empty, error and 404 states', async ({ page, look }) => {
  const pages: [string, string][] = [
    ['/refund', 'Ask for a refund'],
    ['/unsubscribe', 'Unsubscribe'],
    ['/export', 'Your data archive'],
    ['/trial/unknown?token=nope', 'Your free avatar'],
    ['/generations', 'My avatars'],
    ['/admin/review', 'Review queue'],
    ['/no-such-page', 'Page not found'],
  ];
  for (const [path, heading] of pages) {
    await test.step(`opens ${path}`, async () => {
      await page.goto(path);
      await expect(page.getByRole('heading', { level: 1, name: heading })).toBeVisible();
      await look(path === '/' ? 'home' : path.slice(1).split('?')[0]!.replace(/\//g, '-'));
    });
  }
  await test.step('sends feedback from a page', async () => {
    await page.goto('/refund');
    await page.getByRole('button', { name: 'Feedback' }).click();
    await page.getByLabel('Your message').fill('The refund form is clear.');
    await page.getByRole('button', { name: 'Send feedback' }).click();
    await expect(page.getByText('Thank you: your feedback was sent.')).toBeVisible();
    await look('feedback');
  });
  await test.step('switches to Japanese and back', async () => {
    await page.getByRole('button', { name: /日本語/ }).click();
    await expect(page.getByRole('heading', { level: 1, name: '返金のご依頼' })).toBeVisible();
    await look('refund-ja');
    await page.reload();
    await expect(page.getByRole('heading', { level: 1, name: '返金のご依頼' })).toBeVisible();
    await page.getByRole('button', { name: /English/ }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Ask for a refund' })).toBeVisible();
  });
});
