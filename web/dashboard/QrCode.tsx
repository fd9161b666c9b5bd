import { useEffect, useState } from 'react';
import { toDataURL } from 'qrcode';

interface QrCodeProps {
  /** What the code encodes. */
  text: string;
  /** Its alternative text: what the code is and what it encodes. */
  alt: string;
  /** Its side on the page, in CSS pixels. */
  sizePx: number;
  testId?: string;
}

/**
 * `text` as a QR code, drawn in this page (the `qrcode` package on a canvas, shown as a
 * PNG): the link never goes to a third-party QR service. Always dark on white with its
 * quiet zone, dark mode or not: phone cameras read that best, and some read nothing else.
 */
export function QrCode({ text, alt, sizePx, testId }: QrCodeProps) {
  // Kept with the text it encodes, so that a code drawn for an earlier text never shows as this one's.
  const [drawn, setDrawn] = useState<{ text: string; dataUrl?: string; error?: string }>();

  useEffect(() => {
    let cancelled = false;
    // Drawn at twice its size, so that it stays sharp on high-density screens and projectors.
    toDataURL(text, { errorCorrectionLevel: 'M', margin: 4, width: sizePx * 2, color: { dark: '#000000', light: '#ffffff' } }).then(
      (dataUrl) => !cancelled && setDrawn({ text, dataUrl }),
      (error: unknown) => !cancelled && setDrawn({ text, error: error instanceof Error ? error.message : String(error) }),
    );
    return () => {
      cancelled = true;
    };
  }, [text, sizePx]);

  const current = drawn?.text === text ? drawn : undefined;
  if (current?.error !== undefined) return <p className="error-text">Could not draw the QR code: {current.error}</p>;
  const style = { width: sizePx, height: sizePx };
  if (current?.dataUrl === undefined) return <span className="qr-code qr-pending" style={style} aria-hidden="true" />;
  return <img className="qr-code" src={current.dataUrl} alt={alt} width={sizePx} height={sizePx} style={style} data-testid={testId} />;
}
