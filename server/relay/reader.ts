// A bounds-checked reader for untrusted binary input. lib0's decoder reads past
// the end as `undefined` and trusts every length it is given; this one throws a
// MalformedInput as soon as a count or length exceeds the bytes that remain.

export class MalformedInput extends Error {
	override readonly name = 'MalformedInput';
	/** The close code for the socket that sent it: 1007 invalid payload unless said otherwise. */
	readonly code: number;

	constructor(message: string, code = 1007) {
		super(message);
		this.code = code;
	}
}

/** Largest integer a varUint may encode here (well inside Number.MAX_SAFE_INTEGER). */
export const MAX_VAR_UINT = 2 ** 48;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export class Reader {
	pos = 0;
	readonly bytes: Uint8Array;

	constructor(bytes: Uint8Array) {
		this.bytes = bytes;
	}

	get remaining(): number {
		return this.bytes.length - this.pos;
	}

	uint8(): number {
		if (this.pos >= this.bytes.length) throw new MalformedInput('unexpected end of input');
		return this.bytes[this.pos++] as number;
	}

	varUint(): number {
		let num = 0;
		let mult = 1;
		for (let i = 0; i < 8; i++) {
			const r = this.uint8();
			num += (r & 0x7f) * mult;
			if (r < 0x80) {
				if (num > MAX_VAR_UINT) throw new MalformedInput('integer out of range');
				return num;
			}
			mult *= 128;
		}
		throw new MalformedInput('varUint too long');
	}

	/** lib0's signed varInt: 6 value bits and a sign bit in the first byte. */
	varInt(): void {
		let r = this.uint8();
		for (let i = 0; i < 8 && r >= 0x80; i++) r = this.uint8();
		if (r >= 0x80) throw new MalformedInput('varInt too long');
	}

	/** A count of elements that each take at least `minBytes` bytes. */
	count(minBytes: number): number {
		const n = this.varUint();
		if (n * minBytes > this.remaining) throw new MalformedInput('count exceeds input');
		return n;
	}

	skip(n: number): void {
		if (n > this.remaining) throw new MalformedInput('length exceeds input');
		this.pos += n;
	}

	varBytes(): Uint8Array {
		const n = this.varUint();
		if (n > this.remaining) throw new MalformedInput('length exceeds input');
		const out = this.bytes.subarray(this.pos, this.pos + n);
		this.pos += n;
		return out;
	}

	/** A varString; throws on invalid UTF-8 (which Yjs would throw on half-way). */
	varString(): string {
		const raw = this.varBytes();
		try {
			return utf8.decode(raw);
		} catch {
			throw new MalformedInput('invalid utf-8');
		}
	}

	end(): void {
		if (this.pos !== this.bytes.length) throw new MalformedInput('trailing bytes');
	}
}
