import type { Command } from 'commander';
import { AcdError, UsageError } from '../../common/errors.ts';
import { loadDelegatedCountry } from '../../common/prefixes/index.ts';
import type { CliContext } from '../context.ts';
import { loadAcdConfig } from '../config.ts';
import { countryRows, loadEdgePrefixTable, writePrefixTableFile } from '../edge/prefixes.ts';

/** Where `acd prefixes update` writes when neither `--out` nor `edge.prefixTableFile` says. */
export const DEFAULT_PREFIX_TABLE_FILE = 'data/prefixes/table.bin';

/** A table older than the one in use, refused without `--force`. */
export class OlderPrefixTableError extends AcdError {
  constructor(current: string, offered: string) {
    super(
      'ERR_PREFIX_TABLE_OLDER',
      `the new table (${offered}) is older than the one in use (${current}); use --force to go back`,
    );
  }
}

/** A table without any range of the domestic country: every foreign address would look domestic or unknown. */
export class NoDomesticRangesError extends AcdError {
  constructor(country: string, file: string) {
    super('ERR_PREFIX_TABLE_NO_DOMESTIC', `${file} has no ranges for the domestic country ${country}`);
  }
}

interface UpdateOptions {
  config?: string;
  out?: string;
  force?: boolean;
}

/**
 * Compares two source versions: RIR serials and dates (`20260617`) numerically when both are
 * numbers, otherwise as strings. Returns < 0 when `a` is older.
 */
function compareVersions(a: string, b: string): number {
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) return Number(a) - Number(b);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `acd prefixes update FILE`, `acd prefixes show`. */
export function registerPrefixes(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('prefixes')
    .description(
      'the border/ASN table the edge classifies endpoints with (domestic or foreign, country, ASN)',
    )
    .addHelpText(
      'after',
      `
Examples:
  acd prefixes show --config edge.yaml
  curl -O https://ftp.apnic.net/stats/apnic/delegated-apnic-extended-latest
  acd prefixes update delegated-apnic-extended-latest --config edge.yaml
  acd prefixes update nro-delegated-stats --out /var/lib/acd/prefixes.bin`,
    );
  cmd
    .command('update')
    .argument('<file>', 'RIR statistics file (delegated or delegated-extended; the NRO combined file)')
    .description(
      'load a newer country table from RIR delegated(-extended) statistics into the table file the edge\n' +
        'reads (edge.prefixTableFile); ASNs stay from the table in use. Prints the new tableVersion.',
    )
    .option('-c, --config <file>', 'edge configuration (edge.prefixTableFile, select.domesticCountry)')
    .option(
      '-o, --out <file>',
      `table file to write (default edge.prefixTableFile or ${DEFAULT_PREFIX_TABLE_FILE})`,
    )
    .option('--force', 'accept a table older than the one in use')
    .addHelpText(
      'after',
      `
The file is checked line by line (a bad line is named and nothing is written), must contain ranges
of the domestic country, and must not be older than the table in use (unless --force). The table
file is replaced atomically; a running acd edge notices the new file within a minute and stamps
the new tableVersion on the records it selects from then on. stdout: the new tableVersion.`,
    )
    .action(async (file: string, opts: UpdateOptions) => {
      const config = loadAcdConfig(opts.config === undefined ? {} : { file: opts.config });
      const out =
        opts.out ??
        (config.edge.prefixTableFile !== '' ? config.edge.prefixTableFile : DEFAULT_PREFIX_TABLE_FILE);
      if (out === file) throw new UsageError('prefixes update: --out must differ from the input file');
      const current = await loadEdgePrefixTable({
        prefixTableFile: out,
        prefixCacheDir: config.edge.prefixCacheDir,
      });
      const { table, result } = await loadDelegatedCountry(current.table, file);
      const domestic = config.select.domesticCountry;
      if (countryRows(table, domestic) === 0) throw new NoDomesticRangesError(domestic, file);
      const before = current.table.version.country;
      const after = table.version.country;
      if (!opts.force && before.source === after.source && compareVersions(after.version, before.version) < 0)
        throw new OlderPrefixTableError(current.table.tableVersion, table.tableVersion);
      await writePrefixTableFile(out, table);
      ctx.stderr.write(
        `acd prefixes: ${result.rows} ranges from ${result.registries.join(', ') || 'the file'} ` +
          `(${result.skipped} records skipped); was ${current.table.tableVersion}; written to ${out}\n`,
      );
      ctx.stdout.write(`${table.tableVersion}\n`);
    });
  cmd
    .command('show')
    .description('print the tableVersion the edge would use now, and where the table comes from')
    .option('-c, --config <file>', 'edge configuration (edge.prefixTableFile)')
    .action(async (opts: { config?: string }) => {
      const config = loadAcdConfig(opts.config === undefined ? {} : { file: opts.config });
      const t = await loadEdgePrefixTable(config.edge);
      if (t.note) ctx.stderr.write(`acd prefixes: ${t.note}\n`);
      ctx.stdout.write(`${t.table.tableVersion}\t${t.source.kind === 'file' ? t.source.path : 'packaged'}\n`);
    });
}
