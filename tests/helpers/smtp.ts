// A minimal SMTP server on port 0 that accepts every message and keeps it, so
// tests can check what would have been e-mailed.

import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface FakeSmtp {
	readonly url: string;
	readonly messages: string[];
	/** Resolves with the next message received. */
	nextMessage(): Promise<string>;
	close(): Promise<void>;
}

export async function startFakeSmtp(): Promise<FakeSmtp> {
	const messages: string[] = [];
	const waiting: Array<(m: string) => void> = [];
	const sockets = new Set<Socket>();
	const server: Server = createServer((socket) => {
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
		socket.on('error', () => {});
		let buffer = '';
		let inData = false;
		let data = '';
		socket.write('220 fake ESMTP\r\n');
		socket.on('data', (chunk: Buffer) => {
			buffer += chunk.toString('utf8');
			for (;;) {
				const end = buffer.indexOf('\r\n');
				if (end < 0) return;
				const line = buffer.slice(0, end);
				buffer = buffer.slice(end + 2);
				if (inData) {
					if (line === '.') {
						inData = false;
						messages.push(data);
						waiting.shift()?.(data);
						data = '';
						socket.write('250 queued\r\n');
					} else {
						data += line + '\n';
					}
					continue;
				}
				const verb = line.slice(0, 4).toUpperCase();
				if (verb === 'EHLO' || verb === 'HELO') socket.write('250-fake\r\n250 8BITMIME\r\n');
				else if (verb === 'DATA') {
					inData = true;
					socket.write('354 go ahead\r\n');
				} else if (verb === 'QUIT') socket.end('221 bye\r\n');
				else socket.write('250 ok\r\n');
			}
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const port = (server.address() as AddressInfo).port;
	return {
		url: `smtp://127.0.0.1:${port}`,
		messages,
		nextMessage: () => new Promise<string>((resolve) => waiting.push(resolve)),
		close: () =>
			new Promise<void>((resolve) => {
				for (const s of sockets) s.destroy();
				server.close(() => resolve());
			})
	};
}
