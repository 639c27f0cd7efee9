/**
 * Baseline for the benchmark: the cheapest possible express 5 route, so linkcare's numbers can
 * be read as "how much slower than express itself" on whatever machine the bench runs on.
 */
import express from 'express';

const app = express();
// linkcare turns both off as well; leaving them on here would measure header work, not routing.
app.disable('x-powered-by');
app.set('etag', false);
app.get('/', (_req, res) => {
  res.json({ hello: 'world' });
});

const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  process.stdout.write(`listening on http://127.0.0.1:${port}\n`);
});
