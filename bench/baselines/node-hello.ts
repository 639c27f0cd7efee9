/**
 * Baseline for the benchmark: a bare node:http server, the ceiling for any Node framework on
 * this machine. The gap between it and express-hello is express's own cost.
 */
import { createServer } from 'node:http';

const body = JSON.stringify({ hello: 'world' });

const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  process.stdout.write(`listening on http://127.0.0.1:${port}\n`);
});
