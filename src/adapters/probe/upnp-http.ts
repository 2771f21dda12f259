// A small HTTP/1.1 client for talking to IGDs: plain http only, one request
// per connection, bound to a chosen source address, with a hard deadline for
// the whole exchange (a description that never ends cannot hang us) and a
// byte cap (an oversized one cannot fill memory).
import http from 'node:http';
import { ErrorCodes, IotguardError } from '../../core/model/errors.js';

export interface HttpRequestOptions {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Source address to bind (lets the audit run from a given interface or namespace address). */
  localAddress?: string;
  /** Deadline for connect + headers + body, in ms. */
  timeoutMs: number;
  /** Largest body accepted, in bytes. */
  maxBytes: number;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export function httpRequest(urlText: string, opts: HttpRequestOptions): Promise<HttpResponse> {
  let url: URL;
  try {
    url = new URL(urlText);
  } catch {
    return Promise.reject(new IotguardError(ErrorCodes.UPNP_BAD_RESPONSE, `not a URL: ${urlText.slice(0, 200)}`));
  }
  if (url.protocol !== 'http:') {
    return Promise.reject(new IotguardError(ErrorCodes.UPNP_BAD_RESPONSE, `only http:// URLs are followed, not ${url.protocol}//${url.host}`));
  }
  return new Promise<HttpResponse>((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | undefined, value?: HttpResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        req.destroy();
        reject(err);
      } else resolve(value as HttpResponse);
    };
    const body = opts.body === undefined ? undefined : Buffer.from(opts.body, 'utf8');
    const req = http.request(
      {
        protocol: 'http:',
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port === '' ? 80 : Number(url.port),
        path: `${url.pathname}${url.search}`,
        method: opts.method ?? 'GET',
        agent: false,
        localAddress: opts.localAddress,
        headers: {
          host: url.host,
          connection: 'close',
          'user-agent': 'Linux/1 UPnP/2.0 iotguard/0.1',
          ...(body ? { 'content-length': String(body.length) } : {}),
          ...opts.headers,
        },
      },
      (res) => {
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > opts.maxBytes) {
          finish(new IotguardError(ErrorCodes.UPNP_BAD_RESPONSE, `${url.host}${url.pathname} announces ${declared} bytes, more than the ${opts.maxBytes}-byte cap`));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > opts.maxBytes) {
            finish(new IotguardError(ErrorCodes.UPNP_BAD_RESPONSE, `${url.host}${url.pathname} sent more than the ${opts.maxBytes}-byte cap`));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => finish(undefined, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (e) => finish(new IotguardError(ErrorCodes.UPNP_BAD_RESPONSE, `${url.host}: ${e.message}`, { cause: e })));
        res.on('aborted', () => finish(new IotguardError(ErrorCodes.UPNP_BAD_RESPONSE, `${url.host}: connection closed mid-response`)));
      },
    );
    const timer = setTimeout(
      () => finish(new IotguardError(ErrorCodes.NET_TIMEOUT, `${url.host}${url.pathname} did not answer completely within ${opts.timeoutMs} ms`)),
      opts.timeoutMs,
    );
    req.on('error', (e: NodeJS.ErrnoException) => {
      const code = e.code === 'ECONNREFUSED' || e.code === 'EHOSTUNREACH' || e.code === 'ENETUNREACH' || e.code === 'EADDRNOTAVAIL' ? ErrorCodes.NET_UNREACHABLE : ErrorCodes.UPNP_BAD_RESPONSE;
      finish(new IotguardError(code, `${url.host}: ${e.code ?? e.message}`, { cause: e }));
    });
    if (body) req.write(body);
    req.end();
  });
}
