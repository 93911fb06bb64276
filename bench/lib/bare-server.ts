// The baseline the benchmarks compare APS with: plain node:http, nothing else, in its own process.
//   static <file> <port> <content-type>: every request gets the bytes of <file> (read once at start) with the
//     same headers APS sends for a rendered file, so both answers are the same size on the wire.
//   express <file> <port> <content-type> [mount]: the static answer from one express 5 route (`/:file` on a
//     Router mounted at [mount], /vop by default, as APS mounts an adapter's router) with APS's app settings
//     (no x-powered-by, no etag), as a reference for the framework's own ceiling.
//   stream <file> <port> <content-type>: every request gets fs.createReadStream(file).pipe(res).
// Listens on 127.0.0.1 only.
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import express from 'express';

const [mode, file, portArg, contentType = 'application/octet-stream', mount = '/vop'] = process.argv.slice(2);
if ((mode !== 'static' && mode !== 'express' && mode !== 'stream') || !file || !portArg) {
  console.error('usage: bare-server.ts static|express|stream <file> <port> [content-type] [mount]');
  process.exit(64);
}

const lastModified = new Date(Math.floor(statSync(file).mtimeMs / 1000) * 1000).toUTCString();

const body = mode === 'stream' ? Buffer.alloc(0) : readFileSync(file);
const headers = {
  ETag: '"0123456789abcdef0123456789abcdef"',
  'Last-Modified': lastModified,
  'Accept-Ranges': 'bytes',
  'Cache-Control': 'no-cache',
  'Content-Type': contentType,
  'Content-Length': String(body.length),
};

function expressApp(): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const router = express.Router();
  router.get('/:file', (_req, res) => {
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    res.status(200).end(body);
  });
  app.use(mount, router);
  app.use((_req, res) => void res.status(200).end(body)); // the readiness probe asks for "/"
  return app;
}

const server =
  mode === 'static'
    ? createServer((_req, res) => {
        res.writeHead(200, headers);
        res.end(body);
      })
    : mode === 'express'
      ? createServer(expressApp())
      : createServer((req, res) => {
          const size = statSync(file).size;
          res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': String(size) });
          if (req.method === 'HEAD') return void res.end();
          createReadStream(file).pipe(res);
        });

server.listen(Number(portArg), '127.0.0.1');
process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
});
