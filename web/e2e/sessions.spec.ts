// Sessions end on the server (issue 10): "Sign out everywhere" in the privacy centre ends the
// session, so even a copy of the cookie kept in another browser stops working.
import { expect, signIn, test, uniqueEmail } from './fixtures';

test('signing out everywhere ends the session on the server, a copied cookie too', async ({ page, context, browser, look }, testInfo) => {
  const email = uniqueEmail('sessions', testInfo.project.name);

  await test.step('signs in', async () => {
    await signIn(page, email);
  });

  const copy = (await context.cookies()).find((cookie) => cookie.name === 'session');
  expect(copy).toBeDefined();
  const other = await browser.newContext({ viewport: page.viewportSize()!, locale: 'en-US' });
  const elsewhere = await other.newPage();

  await test.step('another browser holding a copy of the cookie is signed in too', async () => {
    await other.addCookies([copy!]);
    await elsewhere.goto('/credits');
    await expect(elsewhere.getByRole('button', { name: 'Sign out', exact: true })).toBeVisible();
  });

  await test.step('signs out everywhere from the privacy centre', async () => {
    await page.goto('/privacy');
    await expect(page.getByRole('heading', { level: 2, name: 'Sign out everywhere' })).toBeVisible();
    await look('privacy-sign-out-everywhere');
    await page.getByRole('button', { name: 'Sign out everywhere', exact: true }).click();
    await expect(page.getByText('You are signed out on every device.')).toBeVisible();
  });

  await test.step('the copy of the cookie no longer signs anyone in', async () => {
    await elsewhere.goto('/credits');
    await expect(elsewhere.getByText('Sign in to see this page.')).toBeVisible();
    await other.close();
  });
});
