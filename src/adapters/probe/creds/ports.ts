// Quick TCP connect probe of the well-known ports of each service, so the
// audit only tries services a device actually runs. A handful of ports per
// device, a short timeout, a few at once.
import { connectTcp } from './tcp.js';

export type PortState = 'open' | 'closed' | 'filtered';

export async function probePorts(ip: string, ports: number[], timeoutMs = 1500, parallel = 8): Promise<Map<number, PortState>> {
  const out = new Map<number, PortState>();
  let i = 0;
  const worker = async () => {
    while (i < ports.length) {
      const port = ports[i++];
      const c = await connectTcp(ip, port, timeoutMs);
      if (c.ok) {
        c.socket.destroy();
        out.set(port, 'open');
      } else out.set(port, c.reason === 'refused' ? 'closed' : 'filtered');
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, ports.length) }, worker));
  return out;
}
