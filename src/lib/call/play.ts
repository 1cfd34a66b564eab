// An attachment that plays a MediaStream in an <audio> or <video> element.
// It runs again whenever its tile re-renders (levels change ten times a
// second): the element is only touched when the stream really changed, or its
// video would restart loading and never show a frame.

export function play(stream: MediaStream | null) {
	return (node: HTMLMediaElement) => {
		if (node.srcObject === stream) return;
		node.srcObject = stream;
		// Join call was a click, so playing with sound is allowed; a failure is only
		// logged, and not when the tile went away (its peer left) before it played.
		if (stream)
			node.play().catch((err: unknown) => {
				if (err instanceof DOMException && err.name === 'AbortError') return;
				console.warn('ensemble: media did not play', err);
			});
	};
}
