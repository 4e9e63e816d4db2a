import type { Command } from 'commander';
import { UsageError } from '../../common/errors.ts';
import { APPROVAL_KINDS } from '../../common/schema/approval.ts';
import { CASE_STATES, COMMUNICATION_TYPES } from '../../common/schema/case.ts';
import { checkCommunicationBody, MAX_CASE_FILE_BYTES, parseCaseFile } from '../../oversee/cases/index.ts';
import {
  apiClient as client,
  apiOptions,
  choice,
  limitOf,
  listAll,
  printJson,
  readSmallFile,
  TOKEN_ENV,
  type ApiOptions,
} from '../api-client.ts';
import type { CliContext } from '../context.ts';

async function textOf(opts: { text?: string; textFile?: string }): Promise<string> {
  if ((opts.text === undefined) === (opts.textFile === undefined))
    throw new UsageError('give exactly one of --text and --text-file');
  return opts.text ?? (await readSmallFile(opts.textFile ?? '', MAX_CASE_FILE_BYTES));
}

/** `acd cases …` and `acd communications …`: clients of a running centre's API. */
export function registerCases(program: Command, ctx: CliContext): void {
  const cases = program
    .command('cases')
    .description(
      `approval cases (R-OVS-5) through a running centre's API; token from ${TOKEN_ENV}, data on stdout as JSON`,
    )
    .addHelpText(
      'after',
      `
Examples:
  export ${TOKEN_ENV}=…                                    an API token (acd users token create)
  acd cases create --file case.yaml --purpose investigation   a draft from a JSON/YAML file (POST /api/cases body)
  acd cases submit case-1a2b3c4d5e6f --purpose investigation
  acd cases approve case-1a2b3c4d5e6f --reason "necessary and proportionate"   (commission inspector)
  acd cases list --state submitted --kind acquisition       NDJSON, one case per line
  acd cases show case-1a2b3c4d5e6f | jq .case.signedApproval
  acd cases revoke case-1a2b3c4d5e6f --reason "campaign over"
  acd cases expire                                          expire approvals whose validity has ended`,
    );

  apiOptions(cases.command('list').description('cases, newest change first (NDJSON)'))
    .option('--kind <kind>', `approval kind: ${APPROVAL_KINDS.join(', ')}`)
    .option('--state <state>', `state: ${CASE_STATES.join(', ')}`)
    .option('--limit <n>', 'items per page (≤ 1000)', '100')
    .option('--all', 'follow every page')
    .action(async (opts: ApiOptions & { kind?: string; state?: string; limit?: string; all?: boolean }) => {
      const q = new URLSearchParams({ limit: limitOf(opts.limit) });
      const kind = choice('--kind', opts.kind, APPROVAL_KINDS);
      const state = choice('--state', opts.state, CASE_STATES);
      if (kind !== undefined) q.set('kind', kind);
      if (state !== undefined) q.set('state', state);
      await listAll(ctx, client(ctx, opts), '/api/cases', q, opts.all === true);
    });

  apiOptions(
    cases.command('show').argument('<id>').description('one case with history and signed documents'),
  ).action(async (id: string, opts: ApiOptions) => {
    printJson(ctx, await client(ctx, opts)('GET', `/api/cases/${encodeURIComponent(id)}`));
  });

  apiOptions(
    cases.command('overdue').description('emergency measures and communications past their deadline'),
  ).action(async (opts: ApiOptions) => {
    printJson(ctx, await client(ctx, opts)('GET', '/api/cases/overdue'));
  });

  apiOptions(cases.command('create').description('create a draft from a JSON or YAML file'))
    .requiredOption('--file <file>', 'the case (the body of POST /api/cases; see docs/oversight.md)')
    .action(async (opts: ApiOptions & { file: string }) => {
      const body = parseCaseFile(await readSmallFile(opts.file, MAX_CASE_FILE_BYTES), opts.file);
      const c: { id: string } = await client(ctx, opts)('POST', '/api/cases', body);
      printJson(ctx, c);
      ctx.stderr.write(`acd cases: created ${c.id} (draft)\n`);
    });

  apiOptions(cases.command('submit').argument('<id>').description('submit a draft to the commission')).action(
    async (id: string, opts: ApiOptions) => {
      const c: { id: string; state: string } = await client(ctx, opts)(
        'POST',
        `/api/cases/${encodeURIComponent(id)}/submit`,
      );
      printJson(ctx, c);
      ctx.stderr.write(`acd cases: ${c.id} ${c.state}\n`);
    },
  );

  for (const op of ['approve', 'reject', 'revoke'] as const) {
    apiOptions(
      cases
        .command(op)
        .argument('<id>')
        .description(
          op === 'approve'
            ? 'approve: the centre signs the approval with the commission key and publishes it to the edges'
            : op === 'reject'
              ? 'reject a submitted case'
              : 'revoke an approved case: a signed revocation goes to the edges, which stop the feed',
        ),
    )
      .requiredOption('--reason <text>', 'why (recorded in the case and the audit log)')
      .action(async (id: string, opts: ApiOptions & { reason: string }) => {
        const c: { id: string; state: string } = await client(ctx, opts)(
          'POST',
          `/api/cases/${encodeURIComponent(id)}/${op}`,
          { reason: opts.reason },
        );
        printJson(ctx, c);
        ctx.stderr.write(`acd cases: ${c.id} ${c.state}\n`);
      });
  }

  apiOptions(
    cases.command('expire').description('expire approved cases whose validity has ended (NDJSON)'),
  ).action(async (opts: ApiOptions) => {
    const r: { items: unknown[] } = await client(ctx, opts)('POST', '/api/cases/expire');
    for (const item of r.items) ctx.stdout.write(`${JSON.stringify(item)}\n`);
    ctx.stderr.write(`acd cases: ${r.items.length} expired\n`);
  });

  const com = program
    .command('communications')
    .description(
      `commission notifications, requests and recommendations (R-OVS-6) through a running centre's API`,
    )
    .addHelpText(
      'after',
      `
Examples:
  acd communications add --type request --direction from-commission --subject "Selectors of case-1" \\
      --text "Explain the /24." --case case-1a2b3c4d5e6f --due 2026-03-08T00:00:00Z
  acd communications list --state open
  acd communications respond com-0a1b2c3d4e5f --text-file answer.txt --purpose incident-handling`,
    );

  apiOptions(com.command('list').description('communications, newest change first (NDJSON)'))
    .option('--state <state>', 'open | answered')
    .option('--type <type>', `type: ${COMMUNICATION_TYPES.join(', ')}`)
    .option('--limit <n>', 'items per page (≤ 1000)', '100')
    .option('--all', 'follow every page')
    .action(async (opts: ApiOptions & { state?: string; type?: string; limit?: string; all?: boolean }) => {
      const q = new URLSearchParams({ limit: limitOf(opts.limit) });
      const state = choice('--state', opts.state, ['open', 'answered']);
      const type = choice('--type', opts.type, COMMUNICATION_TYPES);
      if (state !== undefined) q.set('state', state);
      if (type !== undefined) q.set('type', type);
      await listAll(ctx, client(ctx, opts), '/api/communications', q, opts.all === true);
    });

  apiOptions(com.command('show').argument('<id>').description('one communication with its responses')).action(
    async (id: string, opts: ApiOptions) => {
      printJson(ctx, await client(ctx, opts)('GET', `/api/communications/${encodeURIComponent(id)}`));
    },
  );

  apiOptions(com.command('add').description('record a notification, request or recommendation'))
    .requiredOption('--type <type>', COMMUNICATION_TYPES.join(' | '))
    .requiredOption('--direction <dir>', 'from-commission | to-commission')
    .requiredOption('--subject <text>', 'subject line')
    .option('--text <text>', 'the text')
    .option('--text-file <file>', 'read the text from a file')
    .option('--case <id>', 'the approval case it concerns')
    .option('--due <time>', 'response due (ISO 8601 with Z or offset); requests and recommendations')
    .action(
      async (
        opts: ApiOptions & {
          type: string;
          direction: string;
          subject: string;
          text?: string;
          textFile?: string;
          case?: string;
          due?: string;
        },
      ) => {
        choice('--type', opts.type, COMMUNICATION_TYPES);
        choice('--direction', opts.direction, ['from-commission', 'to-commission']);
        const body = checkCommunicationBody(
          {
            type: opts.type,
            direction: opts.direction,
            subject: opts.subject,
            text: await textOf(opts),
            ...(opts.case !== undefined ? { caseId: opts.case } : {}),
            ...(opts.due !== undefined ? { dueAt: opts.due } : {}),
          },
          'options',
        );
        const m: { id: string } = await client(ctx, opts)('POST', '/api/communications', body);
        printJson(ctx, m);
        ctx.stderr.write(`acd communications: recorded ${m.id}\n`);
      },
    );

  apiOptions(
    com.command('respond').argument('<id>').description('record a response (the communication is answered)'),
  )
    .option('--text <text>', 'the response')
    .option('--text-file <file>', 'read the response from a file')
    .action(async (id: string, opts: ApiOptions & { text?: string; textFile?: string }) => {
      const m: { id: string; state: string } = await client(ctx, opts)(
        'POST',
        `/api/communications/${encodeURIComponent(id)}/respond`,
        { text: await textOf(opts) },
      );
      printJson(ctx, m);
      ctx.stderr.write(`acd communications: ${m.id} ${m.state}\n`);
    });
}
