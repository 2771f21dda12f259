// UPnP IGD control calls (UPnP Device Architecture §3.2, WANIPConnection:2):
// the action comes from the SOAPAction header or the body's first element in
// the service namespace; the arguments are the body's simple child elements.
// A regex over a capped body is enough: the arguments are flat strings.

export interface SoapCall {
  action: string;
  serviceType?: string;
  args: Record<string, string>;
}

const MAX_BODY = 32 * 1024;

function unescapeXml(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#(\d{1,6});/g, (_m, d: string) => String.fromCodePoint(Math.min(Number(d), 0x10ffff)))
    .replace(/&amp;/g, '&');
}

export function decodeSoapCall(soapAction: string | undefined, body: string): SoapCall | undefined {
  const text = body.length > MAX_BODY ? body.slice(0, MAX_BODY) : body;
  let action: string | undefined;
  let serviceType: string | undefined;
  if (soapAction) {
    const sa = soapAction.replace(/^"|"$/g, '');
    const hash = sa.lastIndexOf('#');
    if (hash >= 0) {
      action = sa.slice(hash + 1);
      serviceType = sa.slice(0, hash);
    }
  }
  // <u:AddPortMapping xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:1">
  const m = /<(?:([\w.-]{1,64}):)?([\w.-]{1,64})\s+xmlns(?::[\w.-]{1,64})?="(urn:[^"]{1,200}:service:[^"]{1,200})"/.exec(text);
  if (m) {
    action ??= m[2];
    serviceType ??= m[3];
  }
  if (!action) return undefined;
  const args: Record<string, string> = {};
  const re = /<(?:[\w.-]{1,64}:)?(New[\w]{1,64})\s*>([^<]{0,1024})<\//g;
  let a: RegExpExecArray | null;
  let n = 0;
  while ((a = re.exec(text)) !== null && n++ < 64) args[a[1]] = unescapeXml(a[2].trim());
  // self-closing empty arguments: <NewRemoteHost/>
  const empty = /<(?:[\w.-]{1,64}:)?(New[\w]{1,64})\s*\/>/g;
  while ((a = empty.exec(text)) !== null && n++ < 64) if (!(a[1] in args)) args[a[1]] = '';
  return { action, serviceType, args };
}
