/**
 * Emulates what Chromium does to the main-thread timers of a tab hidden for a while
 * ("intensive wake up throttling"): chained timers such as `setInterval` wake at most
 * once a minute, and every other timer at most once a second. Headless Chromium never
 * hides a page (a minimised window still reports `visible`), so the tests impose the
 * throttling themselves. Installed as an init script, it reaches only the page's main
 * thread, not its workers: exactly the part Chromium throttles.
 */
import type { Page } from '@playwright/test';

/** Throttles the page's timers from its first script on; call before navigating. */
export async function throttleLikeAHiddenTab(page: Page): Promise<void> {
  // Runs in the page, so no named inner functions (tsx would wrap them in __name).
  await page.addInitScript(() => {
    const minuteMs = 60_000;
    const secondMs = 1000;
    const realSetInterval = window.setInterval.bind(window);
    const realSetTimeout = window.setTimeout.bind(window);
    window.setInterval = ((handler: TimerHandler, ms?: number, ...args: unknown[]) =>
      realSetInterval(handler, Math.max(Number(ms) || 0, minuteMs), ...args)) as typeof window.setInterval;
    window.setTimeout = ((handler: TimerHandler, ms?: number, ...args: unknown[]) =>
      realSetTimeout(handler, Math.max(Number(ms) || 0, secondMs), ...args)) as typeof window.setTimeout;
    (window as unknown as { throttledLikeAHiddenTab: boolean }).throttledLikeAHiddenTab = true;
  });
}
