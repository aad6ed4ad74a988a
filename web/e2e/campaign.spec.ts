// Marketing email as it is meant to be: a person opts in in the privacy centre, an admin
// writes a campaign in both languages and sends it, the person gets it once with their own
// unsubscribe link, and that link's page unsubscribes them.
import { SECOND_ADMIN_EMAIL, expect, signIn, test, uniqueEmail } from './fixtures';
import { linkWith, mailTo, waitForMail } from './mail';

test('an admin sends a campaign that reaches the opted-in person once, who can unsubscribe', async ({ page, browser, look }, testInfo) => {
  const email = uniqueEmail('news', testInfo.project.name);
  const subject = `Watercolor is here ${Date.now().toString(36)}`;

  await test.step('the person opts in to marketing email in the privacy centre', async () => {
    await signIn(page, email);
    await page.goto('/privacy');
    await page.getByRole('button', { name: 'Yes, send me news' }).click();
    await expect(page.getByText('You receive marketing email.')).toBeVisible();
  });

  await test.step('an admin writes the campaign, reviews it and sends it', async () => {
    const adminContext = await browser.newContext({ viewport: page.viewportSize()!, locale: 'en-US' });
    const admin = await adminContext.newPage();
    await signIn(admin, SECOND_ADMIN_EMAIL);
    await admin.goto('/admin/campaigns');
    await expect(admin.getByRole('heading', { level: 1, name: 'Marketing campaigns' })).toBeVisible();
    await admin.getByLabel('Subject (English)').fill(subject);
    await admin.getByLabel('Text (English)').fill('Try the new style today.\n\nThe Anumi team');
    await admin.getByLabel('Subject (Japanese)').fill('水彩スタイル登場');
    await admin.getByLabel('Text (Japanese)').fill('新しいスタイルをお試しください。');
    await admin.getByRole('button', { name: 'Review before sending' }).click();
    await expect(admin.getByText('Sending cannot be undone.')).toBeVisible();
    await look('admin-campaign-review', admin);
    await admin.getByRole('button', { name: 'Send to everyone who opted in' }).click();
    await expect(admin.getByText('The campaign is sending.')).toBeVisible();
    await expect(async () => {
      await admin.getByRole('button', { name: 'Refresh' }).click();
      await expect(admin.getByRole('listitem').filter({ hasText: subject }).getByText(/^Sent to \d+/)).toBeVisible({ timeout: 2000 });
    }).toPass({ timeout: 60_000 });
    await look('admin-campaigns', admin);
    await adminContext.close();
  });

  await test.step('the person gets it once, and its link unsubscribes them', async () => {
    const mail = await waitForMail(email, (m) => m.subject === subject);
    expect((await mailTo(email)).filter((m) => m.subject === subject)).toHaveLength(1);
    await page.goto(linkWith(mail, /^\/unsubscribe$/));
    await page.getByRole('button', { name: 'Unsubscribe' }).click();
    await expect(page.getByText('Done: you will receive no more marketing email.')).toBeVisible();
    await page.goto('/privacy');
    await expect(page.getByText('You receive no marketing email.')).toBeVisible();
  });
});
