/**
 * Requests Node's HTTP parser refuses before express sees them (headers too large, malformed
 * request lines): answered with an OperationOutcome like every other error, then the connection
 * is closed, since the parser cannot tell where the next request would start.
 */
import type { Socket } from 'node:net';
import { issue, outcome } from '../fhir/outcome';

/** A `clientError` listener for the HTTP server (https://nodejs.org/api/http.html#event-clienterror). */
export function answerClientError(err: Error & { code?: string; rawPacket?: Buffer }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
  const status = tooLarge ? 431 : 400;
  const body = JSON.stringify(outcome(issue(tooLarge ? 'too-long' : 'structure', tooLarge ? 'Request headers or URL too large' : 'Malformed HTTP request')));
  // A HEAD response has no body (RFC 9110 §9.3.2): the client would read ours as the next response.
  const head = err.rawPacket?.toString('latin1', 0, 5) === 'HEAD ';
  socket.end(
    `HTTP/1.1 ${status} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
      `Content-Type: application/fhir+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${head ? '' : body}`,
  );
}
