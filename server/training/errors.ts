// Expected failures of training requests (bad data, bad hyperparameters, a full
// queue): each carries its HTTP status and a message that says what to do.

export type TrainingErrorCode =
	| 'invalid_request'
	| 'invalid_csv'
	| 'invalid_hyperparameters'
	| 'unauthenticated'
	| 'forbidden'
	| 'not_found'
	| 'conflict'
	| 'queue_full'
	| 'quota_exceeded'
	| 'runner_unavailable';

export class TrainingError extends Error {
	readonly status: number;
	readonly code: TrainingErrorCode;

	constructor(status: number, code: TrainingErrorCode, message: string) {
		super(message);
		this.status = status;
		this.code = code;
	}
}

export const notFound = (what: string): TrainingError => new TrainingError(404, 'not_found', what);
export const badRequest = (message: string): TrainingError =>
	new TrainingError(400, 'invalid_request', message);
