// Audio levels for the speaking indicator: one WebAudio AnalyserNode per
// stream, read ten times a second as the RMS of the waveform (0…1).

const EVERY_MS = 100;

export class LevelMeter {
	readonly #report: (id: string, level: number) => void;
	readonly #watched = new Map<
		string,
		{ source: MediaStreamAudioSourceNode; analyser: AnalyserNode }
	>();
	#context: AudioContext | null = null;
	#timer: ReturnType<typeof setInterval> | null = null;
	readonly #buffer = new Float32Array(512);

	constructor(report: (id: string, level: number) => void) {
		this.#report = report;
	}

	watch(id: string, stream: MediaStream): void {
		this.unwatch(id);
		if (typeof AudioContext === 'undefined') return;
		this.#context ??= new AudioContext();
		// Created by a click (Join call), but a page may still hold it suspended.
		void this.#context.resume().catch(() => undefined);
		const source = this.#context.createMediaStreamSource(stream);
		const analyser = this.#context.createAnalyser();
		analyser.fftSize = this.#buffer.length;
		source.connect(analyser);
		this.#watched.set(id, { source, analyser });
		this.#timer ??= setInterval(() => this.#read(), EVERY_MS);
	}

	unwatch(id: string): void {
		const w = this.#watched.get(id);
		if (!w) return;
		w.source.disconnect();
		this.#watched.delete(id);
	}

	close(): void {
		for (const id of [...this.#watched.keys()]) this.unwatch(id);
		if (this.#timer) clearInterval(this.#timer);
		this.#timer = null;
		void this.#context?.close().catch(() => undefined);
		this.#context = null;
	}

	#read(): void {
		for (const [id, { analyser }] of this.#watched) {
			analyser.getFloatTimeDomainData(this.#buffer);
			let sum = 0;
			for (const v of this.#buffer) sum += v * v;
			this.#report(id, Math.min(1, Math.sqrt(sum / this.#buffer.length) * 4));
		}
	}
}
