import { describe, expect, it } from 'vitest';
import { SignJWT, UnsecuredJWT } from 'jose';
import { createHmac } from 'node:crypto';
import { WsTokens } from '../../server/auth/wsTokens.ts';
import type { UserId, WorkspaceId } from '../../server/protocol/ids.ts';
import { ManualClock } from '../helpers/server.ts';

const SECRET = 'a'.repeat(40);
const user = 'user1' as UserId;
const ws = 'workspace1' as WorkspaceId;
const session = 'f'.repeat(64);

describe('WebSocket tokens', () => {
	it('[AUTH7] a token authenticates its user for its workspace only', async () => {
		const tokens = new WsTokens({ secret: SECRET, clock: new ManualClock(), publicUrl: null });
		const { token, expiresAt } = await tokens.issue(user, ws, session);
		expect(expiresAt - Date.now()).toBeGreaterThan(4 * 60 * 1000);
		expect(await tokens.verify(token, ws)).toEqual({ user, session });
		expect(await tokens.verify(token, 'other' as WorkspaceId)).toBeNull();
	});

	it('[AUTH7] a verified token is remembered only until it expires, and only for its workspace', async () => {
		const clock = new ManualClock();
		const tokens = new WsTokens({ secret: SECRET, clock, publicUrl: null });
		const { token, expiresAt } = await tokens.issue(user, ws, session);
		expect(await tokens.verify(token, ws)).toEqual({ user, session });
		// Remembered: the same answers again, without another signature check.
		expect(await tokens.verify(token, ws)).toEqual({ user, session });
		expect(await tokens.verify(token, 'other' as WorkspaceId)).toBeNull();
		clock.advance(expiresAt - clock.now() - 1000);
		expect(await tokens.verify(token, ws)).toEqual({ user, session });
		clock.advance(1000);
		expect(await tokens.verify(token, ws)).toBeNull();
		expect(await tokens.verify(token, ws)).toBeNull();
	});

	it('[AUTH7] expired, altered, foreign-secret, unsigned and wrong-audience tokens are refused', async () => {
		const clock = new ManualClock();
		const tokens = new WsTokens({ secret: SECRET, clock, publicUrl: null });
		const { token } = await tokens.issue(user, ws, session);

		const other = new WsTokens({ secret: 'b'.repeat(40), clock, publicUrl: null });
		expect(await other.verify(token, ws)).toBeNull();

		const [h, p, sig] = token.split('.');
		const payload = JSON.parse(Buffer.from(p ?? '', 'base64url').toString()) as Record<
			string,
			unknown
		>;
		const altered = [
			h,
			Buffer.from(JSON.stringify({ ...payload, sub: 'admin' })).toString('base64url'),
			sig
		].join('.');
		expect(await tokens.verify(altered, ws)).toBeNull();

		const unsigned = new UnsecuredJWT({ ws })
			.setSubject(user)
			.setAudience('ensemble:relay')
			.setIssuer('ensemble')
			.setIssuedAt()
			.setExpirationTime('5m')
			.encode();
		expect(await tokens.verify(unsigned, ws)).toBeNull();

		// Same key, but another audience: not a relay token.
		const key = createHmac('sha256', SECRET).update('ensemble/ws-token/v1').digest();
		const wrongAudience = await new SignJWT({ ws })
			.setProtectedHeader({ alg: 'HS256' })
			.setSubject(user)
			.setAudience('something-else')
			.setIssuer('ensemble')
			.setIssuedAt()
			.setExpirationTime('5m')
			.sign(key);
		expect(await tokens.verify(wrongAudience, ws)).toBeNull();
		const hs512 = await new SignJWT({ ws })
			.setProtectedHeader({ alg: 'HS512' })
			.setSubject(user)
			.setAudience('ensemble:relay')
			.setIssuer('ensemble')
			.setIssuedAt()
			.setExpirationTime('5m')
			.sign(createHmac('sha512', SECRET).update('x').digest());
		expect(await tokens.verify(hs512, ws)).toBeNull();

		clock.advance(6 * 60 * 1000);
		expect(await tokens.verify(token, ws)).toBeNull();
	});

	it('[SEC2] a correctly signed token that names no sign-in session (issued before sessions were bound) is refused', async () => {
		const tokens = new WsTokens({ secret: SECRET, clock: new ManualClock(), publicUrl: null });
		const key = createHmac('sha256', SECRET).update('ensemble/ws-token/v1').digest();
		const sessionless = await new SignJWT({ ws })
			.setProtectedHeader({ alg: 'HS256' })
			.setSubject(user)
			.setAudience('ensemble:relay')
			.setIssuer('ensemble')
			.setIssuedAt()
			.setExpirationTime('5m')
			.sign(key);
		expect(await tokens.verify(sessionless, ws)).toBeNull();
	});
});
