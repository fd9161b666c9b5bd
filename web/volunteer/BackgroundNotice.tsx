import { HIDDEN } from './use-volunteer.ts';

interface BackgroundNoticeProps {
  /** The "run only while this tab is visible" setting. */
  onlyWhenVisible: boolean;
}

/**
 * Says before it happens what the background does to a volunteer tab. Chromium on a
 * desktop slows a hidden tab's timers (the page keeps its leases alive from a worker,
 * worker-heartbeat.ts, so it goes on working), but a phone or tablet freezes a tab
 * outright once its screen locks or another app comes to the front, and nothing a page
 * does keeps it running: the one remedy is the user's, so the page asks plainly.
 */
export function BackgroundNotice({ onlyWhenVisible }: BackgroundNoticeProps) {
  return (
    <p className="notice" role="note" data-testid="background-notice">
      <strong>Keep this tab visible.</strong>{' '}
      {onlyWhenVisible ? (
        <>
          You chose to run only while it is visible: hidden, it takes no work (“paused: {HIDDEN}”).
        </>
      ) : (
        <>In the background the browser slows this tab down.</>
      )}{' '}
      A phone or tablet stops it altogether once its screen locks or you switch to another app; its unfinished tasks
      then go to other volunteers. On a phone, keep the screen on and this page in front.
    </p>
  );
}
