// Export and import of a whole workspace as one JSON-serialisable object: the
// workspace, its members (with their e-mail, to map them on another server), its
// documents (snapshot, log and full history) and datasets (base64).

import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parseDocName, roomName, type DocName } from '../protocol/docs.ts';
import { ID_PATTERN, type UserId, type WorkspaceId } from '../protocol/ids.ts';
import type { Role } from '../protocol/roles.ts';
import type { DocumentDump, EnsembleStorage } from './common.ts';
import type { HistoryEntry, Workspace } from './types.ts';

export const EXPORT_FORMAT = 'ensemble-workspace';
export const EXPORT_VERSION = 1;

export interface WorkspaceExport {
	readonly format: typeof EXPORT_FORMAT;
	readonly version: typeof EXPORT_VERSION;
	readonly workspace: Workspace;
	readonly members: ReadonlyArray<{
		userId: UserId;
		email: string | null;
		name: string | null;
		role: Role;
		joinedAt: number;
	}>;
	readonly documents: ReadonlyArray<{
		doc: DocName;
		/** base64, or null before the first compaction. */
		snapshot: string | null;
		snapshotSeq: number;
		updates: ReadonlyArray<{ seq: number; author: UserId | null; at: number; update: string }>;
		history: readonly HistoryEntry[];
	}>;
	readonly datasets: ReadonlyArray<{
		id: string;
		name: string;
		createdBy: UserId | null;
		createdAt: number;
		content: string;
	}>;
}

export interface ImportReport {
	readonly workspace: WorkspaceId;
	readonly documents: number;
	readonly updates: number;
	readonly datasets: number;
	readonly members: number;
	/** Members of the export with no account here (matched by id, then by e-mail). */
	readonly skippedMembers: readonly string[];
}

/** A hand-edited or foreign export that would store something the API never would. */
class ImportError extends Error {}

const Id = Type.String({ pattern: ID_PATTERN.source });
const MaybeId = Type.Union([Id, Type.Null()]);
const Time = Type.Number({ minimum: 0 });
const Seq = Type.Integer({ minimum: 0 });
const Base64 = Type.String({ pattern: '^[A-Za-z0-9+/]*={0,2}$' });
/** As the API takes them: a workspace name (WorkspaceName), an upload's base name (no path, no control characters). */
const WorkspaceName = Type.String({ minLength: 1, maxLength: 100, pattern: String.raw`\S` });
const FILE_CHAR = String.raw`[^\u0000-\u001f\u007f/\\]`;
const DatasetName = Type.String({
	maxLength: 200,
	pattern: `^${FILE_CHAR}*${String.raw`\S`}${FILE_CHAR}*$`
});

/** The shape of an export, with every id and name checked as the API checks them. */
const ExportSchema = Type.Object({
	workspace: Type.Object({ id: Id, name: WorkspaceName, createdAt: Time }),
	members: Type.Array(
		Type.Object({
			userId: Id,
			email: Type.Union([Type.String({ maxLength: 254 }), Type.Null()]),
			name: Type.Union([Type.String({ maxLength: 100 }), Type.Null()]),
			role: Type.Union([Type.Literal('owner'), Type.Literal('editor'), Type.Literal('viewer')]),
			joinedAt: Time
		})
	),
	documents: Type.Array(
		Type.Object({
			doc: Type.String({ maxLength: 200 }),
			snapshot: Type.Union([Base64, Type.Null()]),
			snapshotSeq: Seq,
			updates: Type.Array(Type.Object({ seq: Seq, author: MaybeId, at: Time, update: Base64 })),
			history: Type.Array(Type.Object({ seq: Seq, author: MaybeId, at: Time, bytes: Seq }))
		})
	),
	datasets: Type.Array(
		Type.Object({
			id: Id,
			name: DatasetName,
			createdBy: MaybeId,
			createdAt: Time,
			content: Base64
		})
	)
});

/** `/documents/1/doc` → `documents[1].doc` */
function entryName(instancePath: string): string {
	return instancePath
		.split('/')
		.filter(Boolean)
		.map((part, i) => (/^\d+$/.test(part) ? `[${part}]` : i === 0 ? part : `.${part}`))
		.join('');
}

function valueAt(data: unknown, instancePath: string): unknown {
	let at: unknown = data;
	for (const part of instancePath.split('/').filter(Boolean)) {
		at = typeof at === 'object' && at !== null ? (at as Record<string, unknown>)[part] : undefined;
	}
	return at;
}

/**
 * Checks a parsed export file before anything is stored: its format, then every
 * id, document name and data set name as the API would (a hand-edited file with
 * `run/../../params` or a data set id `../../x` is refused, naming the entry).
 */
function checkExport(data: unknown): WorkspaceExport {
	const head = data as Partial<WorkspaceExport> | null;
	if (
		typeof head !== 'object' ||
		head === null ||
		head.format !== EXPORT_FORMAT ||
		head.version !== EXPORT_VERSION
	) {
		throw new ImportError(
			`not an Ensemble workspace export (format ${String(head?.format)} ${String(head?.version)})`
		);
	}
	const first = Value.Errors(ExportSchema, data).First();
	if (first) {
		const where = entryName(first.path) || 'the file';
		const value = valueAt(data, first.path);
		const shown = typeof value === 'string' ? ` "${value.slice(0, 80)}"` : '';
		throw new ImportError(`${where}${shown}: ${first.message}; nothing was imported`);
	}
	const checked = data as WorkspaceExport;
	const docs = new Set<string>();
	for (const [i, d] of checked.documents.entries()) {
		if (parseDocName(d.doc) === null) {
			throw new ImportError(
				`documents[${i}].doc "${d.doc.slice(0, 80)}" is not a document name (params, code, live or run/{id}); nothing was imported`
			);
		}
		if (docs.has(d.doc))
			throw new ImportError(`documents[${i}].doc "${d.doc}" appears twice; nothing was imported`);
		docs.add(d.doc);
	}
	const datasets = new Set<string>();
	for (const [i, d] of checked.datasets.entries()) {
		if (datasets.has(d.id))
			throw new ImportError(`datasets[${i}].id "${d.id}" appears twice; nothing was imported`);
		datasets.add(d.id);
	}
	return checked;
}

export async function exportWorkspace(
	storage: EnsembleStorage,
	id: WorkspaceId
): Promise<WorkspaceExport> {
	const workspace = await storage.getWorkspace(id);
	if (!workspace) throw new Error(`no workspace ${id}`);
	const members = await Promise.all(
		(await storage.listMembers(id)).map(async (m) => {
			const user = await storage.getUserById(m.userId);
			return {
				userId: m.userId,
				email: user?.email ?? null,
				name: user?.name ?? null,
				role: m.role,
				joinedAt: m.joinedAt
			};
		})
	);
	const documents = [];
	for (const room of await storage.listRooms(id)) {
		const dump = await storage.dumpDocument(room);
		documents.push({
			doc: room.slice(id.length + 1) as DocName,
			snapshot: dump.snapshot ? toBase64(dump.snapshot) : null,
			snapshotSeq: dump.snapshotSeq,
			updates: dump.updates.map((u) => ({
				seq: u.seq,
				author: u.author,
				at: u.at,
				update: toBase64(u.update)
			})),
			history: dump.history
		});
	}
	const datasets = [];
	for (const d of await storage.listDatasets(id)) {
		const found = await storage.getDataset(id, d.id);
		if (!found) continue; // deleted while exporting
		datasets.push({
			id: d.id,
			name: d.name,
			createdBy: d.createdBy,
			createdAt: d.createdAt,
			content: toBase64(found.content)
		});
	}
	return {
		format: EXPORT_FORMAT,
		version: EXPORT_VERSION,
		workspace,
		members,
		documents,
		datasets
	};
}

/**
 * Creates the workspace of an export (under `asWorkspace` if given, else its own
 * id, which must be free). Members are matched to accounts here by id, then by
 * e-mail; the others are reported, not created. If anything fails, what was
 * imported is deleted again.
 */
export async function importWorkspace(
	storage: EnsembleStorage,
	raw: unknown,
	options: { asWorkspace?: WorkspaceId } = {}
): Promise<ImportReport> {
	const data = checkExport(raw);
	const id = options.asWorkspace ?? data.workspace.id;
	if (await storage.getWorkspace(id)) throw new Error(`workspace ${id} already exists`);

	const accounts: Array<{ userId: UserId; role: Role; joinedAt: number }> = [];
	const skippedMembers: string[] = [];
	for (const m of data.members) {
		const user =
			(await storage.getUserById(m.userId)) ??
			(m.email ? await storage.getUserByEmail(m.email) : null);
		if (user) accounts.push({ userId: user.id, role: m.role, joinedAt: m.joinedAt });
		else skippedMembers.push(m.email ?? m.userId);
	}
	const owner = accounts.find((a) => a.role === 'owner');
	if (!owner) {
		throw new Error('no owner of the exported workspace has an account here: create one first');
	}

	await storage.createWorkspace({ ...data.workspace, id }, owner.userId);
	try {
		for (const a of accounts) await storage.putMember({ workspace: id, ...a });
		let updates = 0;
		for (const d of data.documents) {
			const room = roomName({ workspace: id, doc: d.doc });
			const dump: DocumentDump = {
				snapshot: d.snapshot === null ? null : fromBase64(d.snapshot),
				snapshotSeq: d.snapshotSeq,
				updates: d.updates.map((u) => ({
					room,
					seq: u.seq,
					author: u.author,
					at: u.at,
					update: fromBase64(u.update)
				})),
				history: d.history
			};
			await storage.restoreDocument(room, dump);
			updates += d.updates.length;
		}
		for (const d of data.datasets) {
			const content = fromBase64(d.content);
			await storage.putDataset(
				{
					id: d.id,
					workspace: id,
					name: d.name,
					createdBy: d.createdBy,
					createdAt: d.createdAt,
					bytes: content.byteLength
				},
				content
			);
		}
		return {
			workspace: id,
			documents: data.documents.length,
			updates,
			datasets: data.datasets.length,
			members: accounts.length,
			skippedMembers
		};
	} catch (error) {
		await storage.deleteWorkspace(id);
		throw error;
	}
}

function toBase64(bytes: Uint8Array): string {
	return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function fromBase64(text: string): Uint8Array {
	const buf = Buffer.from(text, 'base64');
	return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
