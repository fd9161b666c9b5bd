/**
 * Whether a host only reaches this machine: a bind address (`HOST`), or a URL's
 * hostname, where an IPv6 address comes in brackets (`[::1]`).
 */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\./.test(host);
}
