// Reactive views of the training parts of `live` (runs, training status,
// annotations) and of one run's metrics document, for the training components.

import * as Y from 'yjs';
import { schema } from '$shared/docs.ts';
import { LiveRuns } from './liveRuns.ts';
import type { Annotation, MetricPoint, RunRecord, TrainingState } from '$shared/training.ts';

export class LiveTraining {
	/**
	 * The one reader of a workspace's `live` document while it is open: the
	 * Dashboard mounts again on every visit, and re-reading a thousand runs each
	 * time cost it a quarter of its first render (issue 16). It stays current
	 * (reading only the runs that change) for the document's life.
	 */
	static of(live: Y.Doc): LiveTraining {
		let reader = readers.get(live);
		if (!reader) {
			reader = new LiveTraining(live);
			readers.set(live, reader);
			live.once('destroy', () => {
				reader?.destroy();
				readers.delete(live);
			});
		}
		return reader;
	}

	runs = $state.raw<RunRecord[]>([]);
	training = $state.raw<Partial<TrainingState>>({});
	annotations = $state.raw<Annotation[]>([]);
	readonly #runs: Y.Map<Y.Map<unknown>>;
	readonly #reader: LiveRuns;
	readonly #training: Y.Map<unknown>;
	readonly #annotations: Y.Array<Annotation>;

	constructor(live: Y.Doc) {
		this.#runs = live.getMap<Y.Map<unknown>>(schema.live.runs);
		this.#reader = new LiveRuns(this.#runs);
		this.#training = live.getMap<unknown>(schema.live.training);
		this.#annotations = live.getArray<Annotation>(schema.live.annotations);
		this.#readRuns(undefined);
		this.#readTraining();
		this.#readAnnotations();
		this.#runs.observeDeep(this.#readRuns);
		this.#training.observe(this.#readTraining);
		this.#annotations.observe(this.#readAnnotations);
	}

	readonly #readRuns = (events?: Array<Y.YEvent<Y.AbstractType<unknown>>>): void => {
		this.runs = this.#reader.read(events);
	};

	readonly #readTraining = (): void => {
		this.training = this.#training.toJSON();
	};

	readonly #readAnnotations = (): void => {
		this.annotations = this.#annotations.toArray();
	};

	destroy(): void {
		this.#runs.unobserveDeep(this.#readRuns);
		this.#training.unobserve(this.#readTraining);
		this.#annotations.unobserve(this.#readAnnotations);
	}
}

const readers = new WeakMap<Y.Doc, LiveTraining>();

/** A run's metric points, kept current while its document is open. */
export class RunMetrics {
	points = $state.raw<MetricPoint[]>([]);
	readonly #array: Y.Array<MetricPoint>;
	readonly #close: () => void;

	constructor(handle: { doc: Y.Doc; destroy(): void }) {
		this.#array = handle.doc.getArray<MetricPoint>(schema.run.metrics);
		this.#close = () => handle.destroy();
		this.#read();
		this.#array.observe(this.#read);
	}

	readonly #read = (): void => {
		this.points = this.#array.toArray();
	};

	destroy(): void {
		this.#array.unobserve(this.#read);
		this.#close();
	}
}
