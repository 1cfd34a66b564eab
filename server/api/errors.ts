// One error shape for the whole API, `{error: {code, message}}`, and the
// handler that maps Fastify's own errors (validation, bad JSON, rate limits) onto
// it. A user mistake is a 4xx that says what was wrong; only real faults are a
// 500, and those are logged with the request's context.

import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../runtime.ts';

export type ErrorCode =
	| 'invalid_request'
	| 'unauthenticated'
	| 'forbidden'
	| 'bad_origin'
	| 'not_found'
	| 'email_taken'
	| 'weak_password'
	| 'wrong_credentials'
	| 'signup_closed'
	| 'too_many_attempts'
	| 'rate_limited'
	| 'last_owner'
	| 'invite_invalid'
	| 'invite_expired'
	| 'invite_used'
	| 'invite_foreign'
	| 'payload_too_large'
	| 'value_too_deep'
	| 'unsupported_media_type'
	| 'internal';

export class ApiError extends Error {
	readonly status: number;
	readonly code: ErrorCode;
	readonly headers: Readonly<Record<string, string>>;

	constructor(
		status: number,
		code: ErrorCode,
		message: string,
		headers: Record<string, string> = {}
	) {
		super(message);
		this.status = status;
		this.code = code;
		this.headers = headers;
	}
}

export interface ErrorBody {
	error: { code: string; message: string };
}

export function errorBody(code: string, message: string): ErrorBody {
	return { error: { code, message } };
}

function codeForStatus(status: number): ErrorCode {
	switch (status) {
		case 401:
			return 'unauthenticated';
		case 403:
			return 'forbidden';
		case 404:
			return 'not_found';
		case 413:
			return 'payload_too_large';
		case 415:
			return 'unsupported_media_type';
		case 429:
			return 'rate_limited';
		default:
			return 'invalid_request';
	}
}

export function makeErrorHandler(logger: Logger) {
	return function handleError(
		error: FastifyError | ApiError | Error,
		request: FastifyRequest,
		reply: FastifyReply
	): FastifyReply {
		if (error instanceof ApiError) {
			return reply
				.status(error.status)
				.headers(error.headers)
				.send(errorBody(error.code, error.message));
		}
		const fastifyError = error as FastifyError;
		if (fastifyError.validation) {
			// Fastify names the field: "body/email must match format \"email\"".
			return reply.status(400).send(errorBody('invalid_request', fastifyError.message));
		}
		const status = fastifyError.statusCode;
		if (status !== undefined && status >= 400 && status < 500) {
			return reply.status(status).send(errorBody(codeForStatus(status), fastifyError.message));
		}
		logger.error(
			{ err: error, method: request.method, route: request.routeOptions.url, reqId: request.id },
			'request failed'
		);
		return reply
			.status(500)
			.send(errorBody('internal', 'The server hit an unexpected error; it was logged.'));
	};
}
