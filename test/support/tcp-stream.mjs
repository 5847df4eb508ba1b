// A TCP byte stream whose every byte is checkable: byte i is i % 251 (a prime, so no chunk size
// lines up with it). Run inside a lab namespace by the data-plane e2e test.
//   node tcp-stream.mjs server PORT            → prints one JSON line per connection when it ends:
//                                                {"peer": ..., "received": N, "ok": true} or {"error": ...}
//                                                and "rx PEER N" progress lines.
//   node tcp-stream.mjs client HOST PORT RATE  → sends RATE bytes/s until SIGTERM, then ends the
//                                                stream and prints {"sent": N} (or {"error": ...}).
import net from 'node:net';

const [, , mode, a, b, c] = process.argv;
const pattern = (start, length) => {
  const buf = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) buf[i] = (start + i) % 251;
  return buf;
};

if (mode === 'server') {
  const server = net.createServer((socket) => {
    const peer = `${socket.remoteAddress}`;
    let received = 0;
    let bad = -1;
    let lastReport = 0;
    socket.on('data', (d) => {
      for (let i = 0; i < d.length && bad < 0; i++) if (d[i] !== (received + i) % 251) bad = received + i;
      received += d.length;
      if (Date.now() - lastReport > 200) {
        lastReport = Date.now();
        console.log(`rx ${peer} ${received}`);
      }
    });
    socket.on('end', () => {
      console.log(
        JSON.stringify(
          bad < 0 ? { peer, received, ok: true } : { peer, received, ok: false, mismatchAt: bad },
        ),
      );
      socket.end();
    });
    socket.on('error', (e) => console.log(JSON.stringify({ peer, received, error: e.code ?? e.message })));
  });
  server.listen({ port: Number(a), host: '::', ipv6Only: false }, () => console.log('listening'));
} else if (mode === 'client') {
  const rate = Number(c);
  const socket = net.connect({ host: a, port: Number(b) });
  let sent = 0;
  let stopping = false;
  const tick = 50;
  const chunk = Math.max(1, Math.round((rate * tick) / 1000));
  let timer;
  socket.on('connect', () => {
    console.log('connected');
    timer = setInterval(() => {
      // Never queue more than a second's worth: the point is a live stream, not a backlog.
      if (stopping || socket.writableLength > rate) return;
      socket.write(pattern(sent, chunk));
      sent += chunk;
    }, tick);
  });
  socket.on('error', (e) => {
    console.log(JSON.stringify({ sent, error: e.code ?? e.message }));
    process.exit(1);
  });
  process.on('SIGTERM', () => {
    stopping = true;
    clearInterval(timer);
    socket.end(() => {
      console.log(JSON.stringify({ sent }));
      process.exit(0);
    });
  });
} else {
  console.error('usage: tcp-stream.mjs server PORT | client HOST PORT RATE');
  process.exit(2);
}
