// Invitation e-mails through SMTP (nodemailer) when SMTP_URL is set. Without it,
// or when sending fails, the invitation link is returned to be copied; a
// failure is logged, never hidden.

import type { Transporter } from 'nodemailer';
import type { Logger } from '../runtime.ts';

export interface InvitationMail {
	readonly to: string;
	readonly workspaceName: string;
	readonly inviterName: string;
	readonly role: string;
	readonly url: string;
	readonly expiresAt: number;
}

export interface Mailer {
	/** True when the message was handed to the SMTP server. */
	sendInvitation(mail: InvitationMail): Promise<boolean>;
	close(): void;
}

export const noMailer: Mailer = {
	sendInvitation: () => Promise.resolve(false),
	close() {}
};

export function createMailer(smtpUrl: string | null, from: string, logger: Logger): Mailer {
	if (!smtpUrl) return noMailer;
	// nodemailer (about 3 MB of heap) is loaded with the first invitation, not at start.
	let transport: Promise<Transporter> | null = null;
	let opened: Transporter | null = null;
	return {
		async sendInvitation(mail) {
			try {
				transport ??= import('nodemailer').then((m) => (opened = m.createTransport(smtpUrl)));
				await (
					await transport
				).sendMail({
					from,
					to: mail.to,
					subject: `${mail.inviterName} invited you to "${mail.workspaceName}" on Ensemble`,
					text: [
						`${mail.inviterName} invited you to join the workspace "${mail.workspaceName}" as ${mail.role}.`,
						'',
						`Open this link to join: ${mail.url}`,
						'',
						`The invitation can be used once and expires on ${new Date(mail.expiresAt).toUTCString()}.`
					].join('\n')
				});
				return true;
			} catch (err) {
				logger.error(
					{ err, to: mail.to },
					'sending the invitation e-mail failed; the link is returned instead'
				);
				return false;
			}
		},
		close() {
			opened?.close();
		}
	};
}
