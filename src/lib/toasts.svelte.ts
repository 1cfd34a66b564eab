// Short notices in the corner (someone joined, a message was queued...). Also a
// browser notification when the tab is hidden and the user allowed them.

export interface Toast {
	readonly id: number;
	readonly text: string;
	readonly color?: string;
}

const SHOW_MS = 5000;

class Toasts {
	items = $state<Toast[]>([]);
	private next = 1;

	show(text: string, options: { color?: string; notify?: boolean } = {}): void {
		const toast: Toast = { id: this.next++, text, color: options.color };
		this.items = [...this.items.slice(-4), toast];
		setTimeout(() => this.dismiss(toast.id), SHOW_MS);
		if (options.notify && typeof document !== 'undefined' && document.hidden) notify(text);
	}

	dismiss(id: number): void {
		this.items = this.items.filter((t) => t.id !== id);
	}
}

function notify(text: string): void {
	if (!('Notification' in window) || Notification.permission !== 'granted') return;
	try {
		new Notification('Ensemble', { body: text, tag: 'ensemble-presence' });
	} catch (err) {
		// Some browsers only allow notifications from a service worker.
		console.warn('ensemble: notification failed', err);
	}
}

export const toasts = new Toasts();
