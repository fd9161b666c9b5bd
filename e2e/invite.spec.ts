/**
 * Inviting volunteers, on real Chromium: the dashboard's QR code, read back by a QR
 * decoder from what the page draws, is the link it shows, and that link opens a working
 * volunteer page; the copy button copies it or says why not; the count of recent joins
 * counts the tabs that just joined and lets them go a minute later. And the volunteer
 * page at a phone's width: nothing wider than the screen, and the notice that the
 * background slows or stops the tab.
 */
import { expect, test, type Locator, type Page } from '@playwright/test';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import type { ClusterSummary } from '../shared/job.ts';
import { dashboardWithTabs, getJson, openVolunteer, submitJob } from './fixtures.ts';

const PHONE = { width: 375, height: 740 };

/** What a QR decoder reads off the element as the page shows it (a screenshot, not the image's source). */
async function decodeQr(qr: Locator): Promise<string | undefined> {
  // A screenshot taken before the image has decoded would show nothing to read.
  await expect.poll(() => qr.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
  const png = PNG.sync.read(await qr.screenshot());
  return jsQR(Uint8ClampedArray.from(png.data), png.width, png.height)?.data;
}

const horizontalOverflow = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

test.describe.serial('inviting volunteers', () => {
  const rig = dashboardWithTabs(2);
  const volunteerUrl = () => `${rig.coordinator.url}/volunteer`;

  test('the joined-in-the-last-minute count shows the tabs that just joined, and one more as it joins and leaves', async ({ browser }) => {
    const joins = rig.dashboard.getByTestId('recent-joins');
    await expect(joins).toHaveText('2');
    const another = await openVolunteer(browser, rig.coordinator.url);
    await expect(joins).toHaveText('3');
    // Only tabs still connected count: one that joined and left is no longer there to welcome.
    await another.context().close();
    await expect(joins).toHaveText('2');
  });

  test('the count lets the joins go once their minute has passed, with nothing else changing', async ({ browser }) => {
    const joinedAtMs = (await getJson<ClusterSummary>(`${rig.coordinator.url}/api/volunteers`)).volunteerList.map((v) => v.connectedAtMs);
    const dashboard = await (await browser.newContext()).newPage();
    // The page's clock starts 50 s after the first join, and is moved on 20 s more: each
    // join's minute ends on the way, and no timer of the socket's (its ping timeout is 45 s)
    // fires to bring a new snapshot, so only the panel's own wake-up can drop the count.
    await dashboard.clock.install({ time: Math.min(...joinedAtMs) + 50_000 });
    await dashboard.goto(rig.coordinator.url);
    const joins = dashboard.getByTestId('recent-joins');
    await expect(joins).toHaveText('2');
    expect(Math.max(...joinedAtMs) - Math.min(...joinedAtMs), 'the tabs joined together').toBeLessThan(10_000);
    await dashboard.clock.fastForward('00:20');
    await expect(joins).toHaveText('0');
    await expect(dashboard.getByTestId('volunteer-count')).toHaveText('2');
    await dashboard.context().close();
  });

  test('the QR code decodes to the volunteer link shown, which opens a working volunteer page', async () => {
    const link = rig.dashboard.getByTestId('invite-link');
    await expect(link).toHaveText(volunteerUrl());
    await expect(link).toHaveAttribute('href', volunteerUrl());
    const qr = rig.dashboard.getByTestId('invite-qr');
    await expect(qr).toHaveAttribute('alt', `QR code of the volunteer link, ${volunteerUrl()}`);
    expect(await decodeQr(qr)).toBe(volunteerUrl());
    // Served on loopback, as every test coordinator is: the page says phones cannot reach it.
    await expect(rig.dashboard.getByTestId('invite-loopback')).toContainText('reaches only this computer');

    const [volunteer] = await Promise.all([rig.dashboard.context().waitForEvent('page'), link.click()]);
    await expect(volunteer.getByTestId('connection-status')).toHaveText('connected');
    await expect(volunteer.getByTestId('volunteer-id')).toHaveText(/\S/);
    await expect(rig.dashboard.getByTestId('volunteer-count')).toHaveText('3');
    await expect(rig.dashboard.getByTestId('recent-joins')).toHaveText('3');
    await volunteer.close();
    await expect(rig.dashboard.getByTestId('volunteer-count')).toHaveText('2');
  });

  test('at phone width in dark mode the dashboard does not scroll sideways and its QR code still reads', async ({ browser }) => {
    const dashboard = await (await browser.newContext({ viewport: PHONE, colorScheme: 'dark' })).newPage();
    await dashboard.goto(rig.coordinator.url);
    expect(await decodeQr(dashboard.getByTestId('invite-qr'))).toBe(volunteerUrl());
    expect(await horizontalOverflow(dashboard)).toBeLessThanOrEqual(0);
    await dashboard.context().close();
  });

  test('the copy button copies the link and says so', async () => {
    await rig.dashboard.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: rig.coordinator.url });
    await rig.dashboard.getByTestId('invite-copy').click();
    await expect(rig.dashboard.getByTestId('invite-copy-status')).toHaveText('Copied');
    expect(await rig.dashboard.evaluate(() => navigator.clipboard.readText())).toBe(volunteerUrl());
  });

  const refusals = [
    ['refuses', 'the browser refuses the write', /^Could not copy: Write permission denied\. It is selected/],
    ['absent', 'the page has no clipboard API (plain http at a network address)', /^Could not copy: this page may not use the clipboard \(it needs https or localhost\)\. It is selected/],
  ] as const;
  for (const [clipboard, when, message] of refusals) {
    test(`when ${when}, the copy button says so and leaves the link selected for a copy by hand`, async ({ browser }) => {
      const dashboard = await (await browser.newContext()).newPage();
      await dashboard.addInitScript((kind) => {
        const refusing = { writeText: () => Promise.reject(new DOMException('Write permission denied.', 'NotAllowedError')) };
        Object.defineProperty(navigator, 'clipboard', { value: kind === 'refuses' ? refusing : undefined });
      }, clipboard);
      await dashboard.goto(rig.coordinator.url);
      await dashboard.getByTestId('invite-copy').click();
      await expect(dashboard.getByTestId('invite-copy-status')).toHaveText(message);
      expect(await dashboard.evaluate(() => document.getSelection()?.toString())).toBe(volunteerUrl());
      await dashboard.context().close();
    });
  }

  test('the volunteer page at 375 px: nothing wider than the screen while it runs a job with long names, and the background notice', async ({ browser }) => {
    const phone = await (await browser.newContext({ viewport: PHONE })).newPage();
    await phone.goto(volunteerUrl());
    await expect(phone.getByTestId('connection-status')).toHaveText('connected');
    const notice = phone.getByTestId('background-notice');
    await expect(notice).toContainText('Keep this tab visible.');
    await expect(notice).toContainText('screen locks');

    // Long enough to be seen running on this tab among the others, cancelled once looked at.
    const id = await submitJob(rig.coordinator.url, {
      name: `a-job-name-without-a-single-place-to-break-it-${'x'.repeat(40)}`,
      submitter: 'someone.with.a.rather.long.address@department-of-examples.example.org',
      source: `// ${'a line of code longer than any phone is wide '.repeat(4)}
export function map(k, v, emit) { const end = Date.now() + 250; while (Date.now() < end) {} emit(v % 2, 1); }
export function reduce(k, vs) { return vs.length; }`,
      input: { kind: 'range', from: 0, to: 400 },
      recordsPerTask: 1,
      reducers: 1,
    });
    await expect(phone.getByTestId('running-job-name').first()).toBeVisible();
    await phone.getByText('Read the code').first().click();
    await expect(phone.getByTestId('running-job-source').first()).toBeVisible();
    expect(await horizontalOverflow(phone)).toBeLessThanOrEqual(0);
    await fetch(`${rig.coordinator.url}/api/jobs/${id}`, { method: 'DELETE' });

    // Set to run only while visible, it says what a hidden tab then shows.
    await phone.getByTestId('only-when-visible').check();
    await expect(notice).toContainText('paused: this tab is hidden');
    await phone.context().close();
  });
});
