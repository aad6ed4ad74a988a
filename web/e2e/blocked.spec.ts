// A selfie the moderation blocks: the person is told why, and an admin handles it in the
// review queue. The local moderation stand-in blocks its documented magenta test marker.
import { ADMIN_EMAIL, buyCredits, expect, signIn, test, uniqueEmail } from './fixtures';
import { magentaSelfie } from './images';

test('a blocked selfie is explained to the person and handled by an admin', async ({ page, browser, look }, testInfo) => {
  const email = uniqueEmail('blocked', testInfo.project.name);

  await test.step('signs in and buys credits', async () => {
    await signIn(page, email);
    await buyCredits(page, 10);
  });

  await test.step('uploads a selfie that moderation blocks', async () => {
    await page.getByRole('link', { name: 'Create', exact: true }).click();
    await page.getByLabel('Choose a photo').setInputFiles(magentaSelfie());
    await page.getByRole('button', { name: 'Upload and spend 1 credits' }).click();
    await expect(page.getByRole('progressbar', { name: 'Upload progress' })).toHaveAttribute('value', '100');
    await page.getByRole('link', { name: 'See its progress' }).click();
  });

  await test.step('sees it blocked, with the reason and what happens next', async () => {
    await expect(page.getByText('Blocked by moderation', { exact: true })).toBeVisible({ timeout: 180_000 });
    await expect(page.getByText('A person reviews it within 5 days')).toBeVisible();
    await look('generation-blocked');
    await page.getByRole('link', { name: 'My avatars', exact: true }).click();
    await expect(page.getByText('Blocked by moderation', { exact: true })).toBeVisible();
    await look('generations-blocked');
  });

  await test.step('an admin sees the photo and its deadline in the review queue, and confirms', async () => {
    const adminContext = await browser.newContext({ viewport: page.viewportSize()!, locale: 'en-US' });
    const admin = await adminContext.newPage();
    await signIn(admin, ADMIN_EMAIL);
    await admin.goto('/admin/review');
    await expect(admin.getByRole('heading', { level: 1, name: 'Review queue' })).toBeVisible();
    const photo = admin.getByRole('img', { name: /^Blocked selfie of order/ }).first();
    await expect(photo).toBeVisible();
    await expect(admin.getByText(/Deleted automatically on/).first()).toBeVisible();
    await look('admin-review', admin);
    await admin.getByRole('button', { name: 'Confirm the block (delete now)' }).first().click();
    await expect(admin.getByText('Confirmed: the selfie is deleted.')).toBeVisible();
    await adminContext.close();
  });

  await test.step('the person sees the selfie removed', async () => {
    await page.reload();
    await expect(page.getByText('Removed', { exact: true }).or(page.getByText('Blocked by moderation', { exact: true }))).toBeVisible();
  });
});
