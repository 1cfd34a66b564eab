// Fastify's own schema compilers (Ajv for requests, fast-json-stringify for
// replies), made lazy: a route's validator or serializer is generated when the
// route first needs it, not at start-up. Generating all ~150 of them up front
// held ~10 MB (generated source and code) in a server nobody had called yet.
// `compileAll()` builds every pending one, for tests that want a broken schema
// found without calling each route.

import { AjvCompiler } from '@fastify/ajv-compiler';
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';

type Compiled = ((...args: unknown[]) => unknown) & { errors?: unknown };
type ValidatorFactory = ReturnType<typeof AjvCompiler>;
type SerializerFactory = ReturnType<typeof SerializerSelector>;

export interface LazySchemas {
	readonly compilersFactory: {
		buildValidator: ValidatorFactory;
		buildSerializer: SerializerFactory;
	};
	/** Generates every validator and serializer not yet generated; returns how many there are. */
	compileAll(): number;
}

export function lazySchemaCompilers(): LazySchemas {
	const pending = new Set<() => Compiled>();
	let total = 0;
	const lazy =
		<O extends unknown[], R, C>(factory: (...options: O) => (route: R) => C) =>
		(...options: O) => {
			const compile = factory(...options);
			return (route: R): C => {
				let compiled: Compiled | undefined;
				const get = (): Compiled => {
					compiled ??= compile(route) as Compiled;
					pending.delete(get);
					return compiled;
				};
				pending.add(get);
				total++;
				const run: Compiled = (...args: unknown[]) => {
					const fn = get();
					const result = fn(...args);
					// Fastify reads a failed validation's errors from the function it called.
					run.errors = fn.errors;
					return result;
				};
				return run as C;
			};
		};
	return {
		compilersFactory: {
			buildValidator: lazy(AjvCompiler()),
			buildSerializer: lazy(SerializerSelector())
		},
		compileAll() {
			for (const get of [...pending]) get();
			return total;
		}
	};
}
