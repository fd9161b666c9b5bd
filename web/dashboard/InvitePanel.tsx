import { Fragment, useRef } from 'react';
import type { VolunteerSummary } from '../../shared/job.ts';
import { isLoopback } from '../../shared/loopback.ts';
import { CopyButton } from './CopyButton.tsx';
import { QrCode } from './QrCode.tsx';
import { useRecentJoins } from './use-recent-joins.ts';

interface InvitePanelProps {
  /** The origin this dashboard is served from, which is the coordinator's. */
  origin: string;
  /** The volunteers connected now; undefined until the feed first answers. */
  volunteers: readonly VolunteerSummary[] | undefined;
}

/** Side of the QR code, in CSS pixels: large enough for a phone to read off a projector from the back of a room. */
const QR_SIZE_PX = 176;

/**
 * The way in for new volunteers: the volunteer page's address, as a link, a QR code for
 * phones and a copy button, and how many joined in the last minute, so whoever hands the
 * link out (a teacher to a classroom) sees it work.
 */
export function InvitePanel({ origin, volunteers }: InvitePanelProps) {
  const url = new URL('/volunteer', origin).href;
  const linkRef = useRef<HTMLAnchorElement>(null);
  const joined = useRecentJoins(volunteers ?? []);

  return (
    <section className="panel invite-panel" aria-labelledby="invite-heading">
      <h2 id="invite-heading">Invite volunteers</h2>
      <div className="invite-body">
        <QrCode text={url} alt={`QR code of the volunteer link, ${url}`} sizePx={QR_SIZE_PX} testId="invite-qr" />
        <div className="invite-text">
          <p className="invite-lead">Whoever opens this link lends their tab’s spare processing power. Scan the code with a phone’s camera, or share the link:</p>
          <p className="invite-link">
            <a href={url} target="_blank" rel="noreferrer" ref={linkRef} data-testid="invite-link">
              {breakAfterSlashes(url)}
            </a>
          </p>
          <CopyButton text={url} label="Copy link" selectOnRefusal={linkRef} testId="invite-copy" />
          {isLoopback(new URL(origin).hostname) && (
            <p className="hint" data-testid="invite-loopback">
              This address reaches only this computer. For phones and other machines, start the coordinator with{' '}
              <code>HOST=0.0.0.0</code> (<code>tabreduce serve --host 0.0.0.0</code>) and open this dashboard at the
              computer’s network address.
            </p>
          )}
          <p className="invite-joins">
            <strong data-testid="recent-joins">{volunteers ? joined : '–'}</strong> joined in the last minute
          </p>
        </div>
      </div>
    </section>
  );
}

/** `url` with a line-break opportunity after each slash, so that a narrow column breaks it between its parts rather than inside a word. */
function breakAfterSlashes(url: string) {
  return url.split(/(?<=\/)/).map((part, index) => (
    <Fragment key={index}>
      {part}
      <wbr />
    </Fragment>
  ));
}
