// WebSocket close codes, shared by server and client. A final code means
// "do not reconnect, tell the user"; a retryable one means "back off and retry".

export const CloseCode = {
	normal: 1000,
	goingAway: 1001,
	protocolError: 1002,
	unsupportedData: 1003,
	invalidPayload: 1007,
	policyViolation: 1008,
	tooLarge: 1009,
	internalError: 1011,
	serviceRestart: 1012,
	tryAgainLater: 1013,
	unauthenticated: 4401,
	forbidden: 4403,
	notFound: 4404,
	payloadTooLarge: 4413,
	/** A value (update content, awareness state) nested deeper than MAX_VALUE_DEPTH (LIMIT7). */
	valueTooDeep: 4422,
	/** An update added a root type the document's schema does not have (SCHEMA1). */
	notInSchema: 4423,
	/** The call already has as many people as the mesh takes (CALL8). */
	callFull: 4409,
	tooFast: 4429
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

const FINAL: ReadonlySet<number> = new Set([
	CloseCode.unauthenticated,
	CloseCode.forbidden,
	CloseCode.notFound,
	CloseCode.payloadTooLarge,
	CloseCode.tooLarge,
	CloseCode.valueTooDeep,
	CloseCode.notInSchema,
	CloseCode.callFull,
	CloseCode.tooFast
]);

/** Whether a client should stop reconnecting after this close code. */
export function isFinalClose(code: number): boolean {
	return FINAL.has(code);
}

/** What to tell the user about a close code, in words. */
export function describeClose(code: number): string {
	switch (code) {
		case CloseCode.unauthenticated:
			return 'You are signed out. Sign in again to keep working.';
		case CloseCode.forbidden:
			return 'You no longer have access to this workspace.';
		case CloseCode.notFound:
			return 'This workspace does not exist (it may have been deleted).';
		case CloseCode.tooLarge:
		case CloseCode.payloadTooLarge:
			return 'A change was too large for the server to accept.';
		case CloseCode.valueTooDeep:
			return 'A change or cursor was nested too deeply for the server to accept.';
		case CloseCode.notInSchema:
			return 'A change added something this workspace does not have; the server refused it. Reload to continue.';
		case CloseCode.callFull:
			return 'The call is full.';
		case CloseCode.tooFast:
			return 'Too many messages too quickly; the server closed the connection.';
		case CloseCode.serviceRestart:
			return 'The server is restarting; reconnecting.';
		case CloseCode.tryAgainLater:
			return 'The server is busy; reconnecting.';
		case CloseCode.internalError:
			return 'The server hit an error; reconnecting.';
		default:
			return 'The connection was lost; reconnecting.';
	}
}
